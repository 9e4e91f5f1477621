"""Budgets: monthly targets per team and company, and the fiscal-year won_amount budget."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.demo.common import (
    CURRENCY,
    DAY,
    GROWTH_PER_YEAR,
    STREAM_TARGETS,
    month_first_day,
    monthly_counts,
    stream_rng,
)
from orchestration.demo.model import Model
from orchestration.demo.writer import const_column, date_column, int_column


def _budget(
    rng: np.random.Generator, actual: np.ndarray, target_months: np.ndarray, money: bool
) -> np.ndarray:
    """Monthly budget for target months (data month indices, may lie outside the data)."""
    n_months = len(actual)
    mean = float(actual.mean()) if n_months else 0.0
    smooth = 0.6 * actual + 0.4 * mean
    base = np.empty(len(target_months))
    for i, t in enumerate(target_months):
        if 0 <= t < n_months:
            base[i] = smooth[t]
            continue
        shifts = [j for j in range(-5, 6) if 0 <= t + 12 * j < n_months]
        if shifts:  # same calendar month in another year, adjusted for growth
            j = min(shifts, key=abs)
            base[i] = smooth[t + 12 * j] / GROWTH_PER_YEAR**j
        else:
            base[i] = mean
    value = base * rng.lognormal(np.log(1.06), 0.1, len(base))
    if money:
        return np.maximum(np.round(value, -5), 100_000)
    return np.maximum(np.round(value), 1)


def targets_table(m: Model) -> dict[str, pa.Array]:
    """Monthly budgets per team and company, plus the fiscal-year won_amount budget."""
    rng = stream_rng(m.seed, STREAM_TARGETS)
    cal, org, o, leads = m.cal, m.org, m.opps, m.leads
    n_months = cal.n_months
    # Whole fiscal years, from the one holding the start date to the one holding the end date.
    fy_first, fy_last = cal.fiscal_year(cal.start), cal.fiscal_year(cal.end)
    months_abs = np.arange(
        cal.fiscal_year_first_month(fy_first), cal.fiscal_year_first_month(fy_last + 1)
    )
    target_months = months_abs - cal.first_month

    closed_won = o.won & o.closed(cal)
    close_month = cal.month_of(cal.to_wall(o.close_bt) // DAY)
    created_month = cal.month_of(o.created // DAY)
    lead_month = cal.month_of(leads.created // DAY)
    conv_month = cal.month_of(np.where(leads.converted, leads.converted_at, 0) // DAY)
    opp_team, lead_team = org.team[o.owner], org.team[leads.owner]

    rows: list[tuple[str, str, np.ndarray]] = []  # (kpi, scope_id, monthly values)
    company: dict[str, np.ndarray] = {}
    for t, team in enumerate(org.teams):
        series: dict[str, tuple[np.ndarray, bool]] = {}
        if team.kind == "ae":
            mine = opp_team == t
            won = mine & closed_won
            series["won_amount"] = (
                monthly_counts(close_month[won], n_months, o.amount[won].astype(float)),
                True,
            )
            series["deals_won"] = (monthly_counts(close_month[won], n_months), False)
            series["opportunities_created"] = (
                monthly_counts(created_month[mine], n_months),
                False,
            )
        elif team.kind in ("sdr", "agency"):
            mine = lead_team == t
            conv = mine & leads.converted
            # SDR and agency teams are measured on the opportunities sourced from their leads.
            series["opportunities_sourced"] = (monthly_counts(conv_month[conv], n_months), False)
            series["leads_created"] = (monthly_counts(lead_month[mine], n_months), False)
        for kpi, (actual, money) in series.items():
            values = _budget(rng, actual, target_months, money)
            rows.append((kpi, team.team_id, values))
            partition = team.kind == "ae" or kpi == "leads_created"
            if partition:
                company[kpi] = company.get(kpi, 0) + values
    for kpi in ("won_amount", "deals_won", "opportunities_created", "leads_created"):
        if kpi in company:
            rows.append((kpi, "company", company[kpi]))

    n = len(months_abs)
    month_days = month_first_day(months_abs)
    kpi_col = [r[0] for r in rows for _ in range(n)]
    scope_id = [r[1] for r in rows for _ in range(n)]
    grain = ["month"] * (len(rows) * n)
    start = [month_days] * len(rows)
    values = [r[2] for r in rows]
    if "won_amount" in company:  # fiscal-year company budget = sum of its months
        fy_values = company["won_amount"].reshape(-1, 12).sum(axis=1)
        fy_days = month_days[::12]
        kpi_col += ["won_amount"] * len(fy_days)
        scope_id += ["company"] * len(fy_days)
        grain += ["fiscal_year"] * len(fy_days)
        start.append(fy_days)
        values.append(fy_values)
    scope_type = ["company" if s == "company" else "team" for s in scope_id]
    return {
        "kpi_code": pa.array(kpi_col),
        "period_grain": pa.array(grain),
        "period_start_date": date_column(np.concatenate(start)),
        "scope_type": pa.array(scope_type),
        "scope_id": pa.array(scope_id),
        "target_value": int_column(np.concatenate(values)),
        "currency": pa.array([CURRENCY if k == "won_amount" else None for k in kpi_col]),
        "scenario": const_column("budget", len(kpi_col)),
    }
