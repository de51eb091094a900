"""How a scenario funds and configures one intervention: its budget, unit cost, months and parameter overrides."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Largest annual budget of one strand (GBP).
MAX_BUDGET_GBP = 1e10
#: Cheapest and dearest start (GBP).
MIN_UNIT_COST_GBP = 1.0
MAX_UNIT_COST_GBP = 1e6


class StrandSpec(BaseModel):
    """How a scenario funds and configures one intervention.

    Attributes:
        budget_gbp_per_year: Annual budget (GBP); 0 switches the intervention off.
        unit_cost_gbp: Cost of one start (GBP); default from the intervention's data file.
        start_month: First month of referrals and starts.
        end_month: Last month of referrals and starts (support already begun carries on); default: the end.
        parameters: Overrides of the intervention's parameters by dotted name.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    budget_gbp_per_year: float = Field(
        0.0,
        ge=0,
        le=MAX_BUDGET_GBP,
        description="Annual budget in GBP, from 0 to 10 billion.",
        json_schema_extra={
            "expected": "a number of GBP from 0 to 10,000,000,000 (more than 10 billion a year is a typing error)"
        },
    )
    unit_cost_gbp: float | None = Field(
        None,
        ge=MIN_UNIT_COST_GBP,
        le=MAX_UNIT_COST_GBP,
        description="Cost of one start in GBP, from 1 to 1 million.",
        json_schema_extra={
            "expected": "a number of GBP from 1 to 1,000,000 (a start costing under GBP 1 would fund places "
            "without limit)"
        },
    )
    start_month: int = Field(
        1, ge=1, le=1200, description="First month funded.", json_schema_extra={"expected": "a month from 1 to 1200"}
    )
    end_month: int | None = Field(
        None, ge=1, le=1200, description="Last month funded.", json_schema_extra={"expected": "a month from 1 to 1200"}
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Parameter overrides.",
        json_schema_extra={"expected": "a mapping of parameter names to values"},
    )

    @model_validator(mode="after")
    def _start_before_end(self) -> StrandSpec:
        if self.end_month is not None and self.end_month < self.start_month:
            raise ValueError(f"start_month ({self.start_month}) must not be after end_month ({self.end_month})")
        return self
