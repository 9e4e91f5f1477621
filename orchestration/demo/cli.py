"""Command line: `python -m orchestration.demo --landing DIR [--scale ...]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from orchestration.demo.generate import generate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.demo",
        description="Write deterministic demo CRM exports in the canonical CSV format.",
    )
    parser.add_argument("--landing", type=Path, required=True, help="landing folder to write")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 ≈ 200,000 activities")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 10, 31))
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument(
        "--fiscal-year-start-month",
        type=int,
        default=None,
        help="first month of the fiscal year, 1-12 (default: dbt var fiscal_year_start_month)",
    )
    args = parser.parse_args(argv)
    print(f"writing demo data to {args.landing} (scale {args.scale}, seed {args.seed})")
    generate(
        args.landing,
        scale=args.scale,
        seed=args.seed,
        end_date=args.end_date,
        months=args.months,
        fiscal_year_start_month=args.fiscal_year_start_month,
        log=lambda msg: print(msg, flush=True),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
