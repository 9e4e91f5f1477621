"""The data range, the Japanese business calendar and the company's fiscal year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import holidays
import numpy as np
import yaml

from orchestration.demo.common import (
    CARRY_OVER_DAYS,
    DAY,
    GROWTH_PER_YEAR,
    WORK_SECONDS,
    WORK_START,
    abs_months,
    epoch_day,
    month_first_day,
)
from orchestration.lib.settings import DBT_PROJECT_DIR

DBT_PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"


def check_month(value: object, what: str = "fiscal_year_start_month") -> int:
    """`value` as a month number 1-12, or a ValueError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise ValueError(f"{what} must be a month number 1-12, not {value!r}")
    return value


@cache
def fiscal_year_start_month(project_file: Path = DBT_PROJECT_FILE) -> int:
    """First month of the fiscal year (年度): dbt var `fiscal_year_start_month` of the dbt
    project, the setting the marts' fiscal quarters and years use (April by default)."""
    with Path(project_file).open(encoding="utf-8") as fh:
        variables = (yaml.safe_load(fh) or {}).get("vars") or {}
    return check_month(
        variables.get("fiscal_year_start_month"), f"{project_file}: vars.fiscal_year_start_month"
    )


@dataclass(frozen=True)
class Calendar:
    """The data range and the Japanese business calendar (with margins for future dates)."""

    start: date
    end: date
    first_month: int  # months since 1970-01 of the first data month
    n_months: int
    bdays: np.ndarray  # epoch days of business days, ascending
    fiscal_start_month: int  # first month of the fiscal year, 1-12

    @classmethod
    def build(cls, end: date, months: int, fiscal_start_month: int) -> Calendar:
        first_month = end.year * 12 + end.month - 1 - (months - 1) - 1970 * 12
        start = date(1970 + first_month // 12, first_month % 12 + 1, 1)
        days = np.arange(
            epoch_day(start) - CARRY_OVER_DAYS - 60, epoch_day(end) + 3 * 366 + 45, dtype=np.int64
        )
        years = range(start.year - 1, end.year + 5)
        public = np.array([epoch_day(d) for d in holidays.Japan(years=years)], dtype=np.int64)
        m_abs = abs_months(days)
        month_of_year = m_abs % 12 + 1
        day_of_month = days - month_first_day(m_abs) + 1
        closure = (
            ((month_of_year == 12) & (day_of_month >= 29))  # 年末年始
            | ((month_of_year == 1) & (day_of_month <= 3))
            | ((month_of_year == 8) & (day_of_month >= 13) & (day_of_month <= 16))  # お盆
        )
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        business = (weekday < 5) & ~np.isin(days, public) & ~closure
        return cls(start, end, first_month, months, days[business], check_month(fiscal_start_month))

    @property
    def start_day(self) -> int:
        return epoch_day(self.start)

    @property
    def end_day(self) -> int:
        return epoch_day(self.end)

    @property
    def end_ts(self) -> int:
        """Last second of the end date."""
        return (self.end_day + 1) * DAY - 1

    @property
    def bt_start(self) -> int:
        """First business second on or after the start date."""
        return int(self.to_bt(np.array([self.start_day * DAY]))[0])

    @property
    def bt_end(self) -> int:
        """Last business second on or before the end date."""
        return int(self.to_bt(np.array([(self.end_day + 1) * DAY]))[0]) - 1

    def to_wall(self, bt: np.ndarray) -> np.ndarray:
        """Business seconds → epoch seconds (local time)."""
        bt = np.asarray(bt, dtype=np.int64)
        return self.bdays[bt // WORK_SECONDS] * DAY + WORK_START + bt % WORK_SECONDS

    def to_bt(self, ts: np.ndarray) -> np.ndarray:
        """Epoch seconds → the first business second at or after them."""
        ts = np.asarray(ts, dtype=np.int64)
        day = ts // DAY
        tod = ts - day * DAY
        rank = np.searchsorted(self.bdays, day)
        is_bday = self.bdays[np.minimum(rank, len(self.bdays) - 1)] == day
        offset = np.where(is_bday, np.clip(tod - WORK_START, 0, WORK_SECONDS), 0)
        return rank * WORK_SECONDS + offset

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Data month index (0 = first data month) of epoch days."""
        return abs_months(days) - self.first_month

    def month_start(self, m: np.ndarray | int) -> np.ndarray:
        """Epoch day of the first day of data month m (any integer)."""
        return month_first_day(self.first_month + np.asarray(m, dtype=np.int64))

    def month_bt_range(self, m: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """Business-second range [lo, hi) of data month m, cut at the end date."""
        lo = self.to_bt(self.month_start(m) * DAY)
        hi = np.minimum(self.to_bt(self.month_start(np.asarray(m) + 1) * DAY), self.bt_end + 1)
        return lo, hi

    def data_days(self) -> np.ndarray:
        return np.arange(self.start_day, self.end_day + 1, dtype=np.int64)

    def is_bday(self, days: np.ndarray) -> np.ndarray:
        return np.isin(days, self.bdays)

    def growth(self, days: np.ndarray) -> np.ndarray:
        """Business growth factor relative to the start of the data."""
        return GROWTH_PER_YEAR ** ((np.asarray(days) - self.start_day) / 365.25)

    @property
    def fiscal_year_end_month(self) -> int:
        """Last month of the fiscal year (March when it starts in April)."""
        return (self.fiscal_start_month + 10) % 12 + 1

    @property
    def half_year_end_month(self) -> int:
        """Last month of the first fiscal half-year (September when the year starts in April)."""
        return (self.fiscal_start_month + 4) % 12 + 1

    def fiscal_year(self, d: date) -> int:
        """The fiscal year holding a date, named after the calendar year it starts in."""
        return d.year if d.month >= self.fiscal_start_month else d.year - 1

    def fiscal_year_first_month(self, fiscal_year: int) -> int:
        """Months since 1970-01 of the first month of a fiscal year."""
        return (fiscal_year - 1970) * 12 + self.fiscal_start_month - 1
