"""Dates of a run: which month of which year each model month is, and UK financial years.

A scenario's ``start`` (``YYYY-MM``, default :data:`DEFAULT_START`, April 2026: the first month of the
2026-27 financial year) is the date of month 1. Month 0 is the starting population, at the end of the month
before. Strand budgets may be given by financial year (April to March, written ``2026-27``), so a budget
change takes effect in the April that starts its year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The date of month 1 when a scenario does not say: April 2026, the start of financial year 2026-27.
DEFAULT_START = "2026-04"

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_FINANCIAL_YEAR = re.compile(r"^(\d{4})[-/](\d{2})$")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")  # fmt: skip


@dataclass(frozen=True, order=True)
class YearMonth:
    """A calendar month.

    Attributes:
        year: The year, 1900 to 2200.
        month: The month of the year, 1 (January) to 12.
    """

    year: int
    month: int

    @classmethod
    def parse(cls, value: Any) -> YearMonth:
        """A ``YYYY-MM`` text (or a date, whose day is ignored) as a month; ValueError saying what was expected."""
        if hasattr(value, "year") and hasattr(value, "month"):
            year, month = int(value.year), int(value.month)
        else:
            m = _YEAR_MONTH.match(str(value).strip()) if isinstance(value, str) else None
            if m is None:
                raise ValueError(f"expected a month as YYYY-MM (e.g. 2026-04), got {value!r}")
            year, month = int(m.group(1)), int(m.group(2))
        if not (1 <= month <= 12 and 1900 <= year <= 2200):
            raise ValueError(f"expected a month as YYYY-MM from 1900-01 to 2200-12, got {value!r}")
        return cls(year, month)

    def plus(self, months: int) -> YearMonth:
        """The month ``months`` later (earlier if negative)."""
        k = self.year * 12 + (self.month - 1) + months
        return YearMonth(k // 12, k % 12 + 1)

    @property
    def financial_year(self) -> int:
        """The calendar year in which its UK financial year (April to March) starts."""
        return self.year if self.month >= 4 else self.year - 1

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def words(self) -> str:
        """``April 2026``."""
        return f"{MONTH_NAMES[self.month - 1]} {self.year}"


def financial_year_text(start_year: int) -> str:
    """``2026-27`` for the financial year starting in April ``start_year``."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def parse_financial_year(value: Any) -> int:
    """The calendar year a financial year written ``2026-27`` (or ``2026/27``) starts in; ValueError otherwise."""
    m = _FINANCIAL_YEAR.match(value.strip()) if isinstance(value, str) else None
    if m is None or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise ValueError(f"expected a financial year as YYYY-YY (e.g. 2026-27), got {value!r}")
    year = int(m.group(1))
    if not 1900 <= year <= 2200:
        raise ValueError(f"expected a financial year from 1900-01 to 2200-01, got {value!r}")
    return year


@dataclass(frozen=True)
class Calendar:
    """The dates of a run's months: month ``m`` is ``start`` plus ``m - 1`` months (month 0 the one before).

    Attributes:
        start: The date of month 1.
    """

    start: YearMonth

    def date(self, month: int) -> YearMonth:
        """The calendar month of model month ``month``."""
        return self.start.plus(month - 1)

    def labels(self, months: int) -> list[str]:
        """``YYYY-MM`` of months 0 to ``months``."""
        return [str(self.date(m)) for m in range(months + 1)]

    def months_as_dates(self, months: Any) -> np.ndarray:
        """Model months as calendar months (``datetime64[M]``), for the time axis of plots."""
        first = np.datetime64(str(self.start), "M")
        return first + (np.asarray(months, dtype=np.int64) - 1)

    def financial_years(self, months: int) -> np.ndarray:
        """The start year of the financial year of each month 0 to ``months``."""
        return np.array([self.date(m).financial_year for m in range(months + 1)])

    def span(self, months: int) -> str:
        """``April 2026 to March 2036``: the months a run of ``months`` months simulates."""
        return f"{self.date(1).words()} to {self.date(months).words()}"


def date_axis(ax: Any, calendar: Calendar) -> None:
    """Label a plot's time axis (drawn with :meth:`Calendar.months_as_dates`) with months and years."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(f"month 1 = {calendar.date(1).words()}")
