"""Reference data the pipeline writes itself: Japanese public holidays.

Holidays come from the maintained `holidays` library (国民の祝日, 振替休日 and 国民の休日),
never from a hand-typed list, for every year of the dbt calendar.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import holidays
import pandas as pd

from orchestration.lib.loader import RAW_SCHEMA, ensure_raw_schema

FIRST_YEAR = 2000
LAST_YEAR = 2040


def japanese_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> pd.DataFrame:
    calendar = holidays.Japan(years=range(first_year, last_year + 1), language="ja")
    rows = sorted(calendar.items())
    return pd.DataFrame(
        {
            "holiday_date": pd.to_datetime([day for day, _ in rows]).date,
            "holiday_name": [name for _, name in rows],
        }
    )


def load_jp_public_holidays(database: Path) -> int:
    """Rewrite raw.jp_public_holidays; return the number of holidays written."""
    frame = japanese_holidays()
    with duckdb.connect(str(database)) as con:
        ensure_raw_schema(con)
        con.register("holiday_frame", frame)
        con.execute(
            f"create or replace table {RAW_SCHEMA}.jp_public_holidays as "
            "select cast(holiday_date as date) as holiday_date, "
            "cast(holiday_name as varchar) as holiday_name from holiday_frame"
        )
        con.unregister("holiday_frame")
    return len(frame)
