"""How a scenario funds and configures one intervention: its budget, unit cost, months and parameter overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..dates import financial_year_text, parse_financial_year

#: Largest annual budget of one strand (GBP).
MAX_BUDGET_GBP = 1e10
BUDGET_EXPECTED = "a number of GBP from 0 to 10,000,000,000 (more than 10 billion a year is a typing error)"
#: Cheapest and dearest start (GBP).
MIN_UNIT_COST_GBP = 1.0
MAX_UNIT_COST_GBP = 1e6


class StrandSpec(BaseModel):
    """How a scenario funds and configures one intervention.

    Attributes:
        budget_gbp_per_year: Annual budget (GBP); 0 switches the intervention off.
        budget_by_financial_year: Changes of the annual budget by financial year (``{"2027-28": 6e6}``).
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
        json_schema_extra={"expected": BUDGET_EXPECTED},
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
    budget_by_financial_year: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "Changes of the annual budget (GBP) by UK financial year (April to March, written 2026-27): each "
            "holds from its year until the next one listed; before the first, budget_gbp_per_year holds."
        ),
        json_schema_extra={"expected": "a mapping of financial years (e.g. 2027-28) to GBP a year"},
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

    @field_validator("budget_by_financial_year", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            return value  # the type check reports it
        years: dict[int, float] = {}
        for key, amount in value.items():
            year = parse_financial_year(key)
            if isinstance(amount, bool) or not isinstance(amount, int | float) or not 0 <= amount <= MAX_BUDGET_GBP:
                raise ValueError(f"{key}: expected {BUDGET_EXPECTED}, got {amount!r}")
            years[year] = float(amount)
        return {financial_year_text(y): years[y] for y in sorted(years)}

    def annual_budget(self, financial_year: int) -> float:
        """The budget (GBP a year) in the financial year starting in April ``financial_year``."""
        budget = self.budget_gbp_per_year
        for year, amount in self.budget_by_financial_year.items():
            if parse_financial_year(year) > financial_year:
                break
            budget = amount
        return budget

    @property
    def unfunded(self) -> bool:
        """Whether it has no budget in any year."""
        return self.budget_gbp_per_year == 0 and not any(self.budget_by_financial_year.values())

    def budget_text(self) -> str:
        """The budget in words: ``GBP 3,000,000 a year``, with its changes by financial year."""
        text = f"GBP {self.budget_gbp_per_year:,.0f} a year"
        changes = [f"GBP {v:,.0f} from {y}" for y, v in self.budget_by_financial_year.items()]
        return text + (" (" + ", ".join(changes) + ")" if changes else "")

    @model_validator(mode="after")
    def _start_before_end(self) -> StrandSpec:
        if self.end_month is not None and self.end_month < self.start_month:
            raise ValueError(f"start_month ({self.start_month}) must not be after end_month ({self.end_month})")
        return self
