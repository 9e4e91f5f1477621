"""Subscriptions: new customers, renewals, expansions, contractions, churn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo.calendar import Calendar
from orchestration.demo.common import DAY, NEVER, uniform_int
from orchestration.demo.companies import Companies
from orchestration.demo.deals import EXPANSION, NEW, RENEWAL, Opps, deal_amounts, make_opps
from orchestration.demo.org import Org, pick_owner


class ItemTable:
    """Growing table of subscription line items."""

    def __init__(self) -> None:
        self.sub: list[np.ndarray] = []
        self.start: list[np.ndarray] = []
        self.mrr: list[np.ndarray] = []
        self.opp: list[np.ndarray] = []
        self.end = np.zeros(0, dtype=np.int64)
        self.count = 0

    def append(self, sub, start, mrr, opp) -> np.ndarray:
        n = len(sub)
        self.sub.append(np.array(sub, np.int64))  # copies: callers keep mutating their state
        self.start.append(np.broadcast_to(np.asarray(start, np.int64), (n,)).copy())
        self.mrr.append(np.array(mrr, np.int64))
        self.opp.append(np.array(opp, np.int64))
        self.end = np.concatenate([self.end, np.full(n, -1, np.int64)])
        ids = np.arange(self.count, self.count + n)
        self.count += n
        return ids

    def set_end(self, ids: np.ndarray, end_day: np.ndarray | int) -> None:
        self.end[ids] = end_day

    def arrays(self) -> dict[str, np.ndarray]:
        cat = (lambda x: np.concatenate(x)) if self.sub else (lambda x: np.zeros(0, np.int64))
        return {
            "sub": cat(self.sub),
            "start": cat(self.start),
            "end": self.end,
            "mrr": cat(self.mrr),
            "opp": cat(self.opp),
        }


@dataclass
class Subscriptions:
    company: np.ndarray
    start_month: np.ndarray
    cs_owner: np.ndarray
    items: dict[str, np.ndarray]
    active_by_month: list[np.ndarray]
    extra_opps: Opps | None


def run_subscriptions(
    rng: np.random.Generator,
    cal: Calendar,
    org: Org,
    companies: Companies,
    base_company: np.ndarray,
    base_start_month: np.ndarray,
    base_mrr: np.ndarray,
    opps: Opps,
    opp_offset: int,
) -> Subscriptions:
    """Month-by-month customer lifecycle; creates expansion and renewal opportunities."""
    won_new = np.flatnonzero(opps.won & opps.closed(cal) & (opps.otype == NEW))
    close_day = cal.to_wall(opps.close_bt[won_new]) // DAY
    company = np.concatenate([base_company, opps.company[won_new]])
    start_m = np.concatenate([base_start_month, cal.month_of(close_day) + 1])
    mrr = np.concatenate([base_mrr, np.round(opps.amount[won_new] / 12).astype(np.int64)])
    first_opp = np.concatenate([np.full(len(base_company), -1), won_new])
    n = len(company)
    cs = pick_owner(
        rng, org, org.members("cs"), np.maximum(cal.month_start(start_m), cal.start_day)
    )
    tracked = (mrr >= 300_000) | (rng.random(n) < 0.15)  # renewals handled as opportunities

    items = ItemTable()
    current = items.append(np.arange(n), cal.month_start(start_m), mrr, first_opp)
    ended = np.zeros(n, bool)
    churn_m = np.full(n, NEVER)
    pending_m = np.full(n, NEVER)
    pending_mrr = np.zeros(n, np.int64)
    pending_opp = np.full(n, -1)
    busy_until = np.full(n, -NEVER)
    extra: list[Opps] = []
    n_extra = 0
    active_by_month = []

    def open_deals(sel: np.ndarray, m: int, otype: int, amount: np.ndarray, cap=None) -> Opps:
        lo, hi = cal.month_bt_range(m)
        created_bt = uniform_int(rng, np.full(len(sel), lo), np.full(len(sel), max(hi, lo + 1)))
        speed = (0.45 if otype == RENEWAL else 0.6) * rng.lognormal(0, 0.2, len(sel))
        batch = make_opps(
            rng,
            cal,
            org,
            company=company[sel],
            size_band=companies.size[company[sel]],
            created=cal.to_wall(created_bt),
            otype=otype,
            win_prob=np.full(len(sel), 0.88 if otype == RENEWAL else 0.6),
            speed=speed,
            amount=amount,
            cap_bt=cap,
        )
        extra.append(batch)
        return batch

    for m in range(cal.n_months):
        first_day = int(cal.month_start(m))
        change = np.flatnonzero(pending_m == m)
        items.set_end(current[change], first_day - 1)
        current[change] = items.append(change, first_day, pending_mrr[change], pending_opp[change])
        mrr[change] = pending_mrr[change]
        pending_m[change] = NEVER

        active = (start_m <= m) & ~ended
        active_by_month.append(np.flatnonzero(active))
        free = active & (busy_until < m) & (pending_m == NEVER) & (churn_m == NEVER)
        age = m - start_m

        # Renewal opportunities two months before the contract anniversary.
        due = np.flatnonzero(free & tracked & (age + 2 > 0) & ((age + 2) % 12 == 0))
        if len(due):
            uplift = rng.random(len(due)) < 0.3
            new_mrr = np.where(
                uplift, np.round(mrr[due] * rng.uniform(1.03, 1.1, len(due))), mrr[due]
            )
            cap = np.full(len(due), cal.to_bt(np.array([int(cal.month_start(m + 2)) * DAY]))[0] - 1)
            batch = open_deals(due, m, RENEWAL, (new_mrr * 12).astype(np.int64), cap)
            ids = opp_offset + n_extra + np.arange(len(due))
            n_extra += len(due)
            closed = batch.closed(cal)
            busy_until[due] = m + 2
            won_up = closed & batch.won & uplift
            pending_m[due[won_up]] = m + 2
            pending_mrr[due[won_up]] = new_mrr[won_up].astype(np.int64)
            pending_opp[due[won_up]] = ids[won_up]
            lost = closed & ~batch.won
            churn_m[due[lost]] = m + 1  # ends the day before the anniversary
        free[due] = False

        # Churn: mostly at the contract anniversary, sometimes mid-term.
        at_anniversary = (age + 1 > 0) & ((age + 1) % 12 == 0) & ~tracked
        hazard = np.where(at_anniversary, 0.10, 0.006)
        churn = free & (rng.random(n) < hazard)
        churn_m[churn] = m
        free &= ~churn

        # Expansion (アップセル) opportunities and contractions.
        renewal_soon = np.isin((age + np.arange(1, 4)[:, None]) % 12, 0).any(axis=0)
        expand = np.flatnonzero(free & (age >= 3) & ~renewal_soon & (rng.random(n) < 0.025))
        if len(expand):
            delta = np.round(mrr[expand] * rng.uniform(0.15, 0.8, len(expand)) * 12, -3)
            amount = np.maximum(delta, 12_000).astype(np.int64)
            batch = open_deals(expand, m, EXPANSION, amount)
            ids = opp_offset + n_extra + np.arange(len(expand))
            n_extra += len(expand)
            closed = batch.closed(cal)
            close_m = cal.month_of(cal.to_wall(batch.close_bt) // DAY)
            busy_until[expand] = np.where(closed, close_m + 1, NEVER)
            won = closed & batch.won
            pending_m[expand[won]] = close_m[won] + 1
            pending_mrr[expand[won]] = mrr[expand[won]] + np.round(amount[won] / 12).astype(int)
            pending_opp[expand[won]] = ids[won]
            free[expand] = False
        contract = np.flatnonzero(free & (age >= 3) & (rng.random(n) < 0.003))
        pending_m[contract] = m + 1
        pending_mrr[contract] = np.round(mrr[contract] * rng.uniform(0.6, 0.9, len(contract)))
        pending_opp[contract] = -1

        gone = np.flatnonzero(churn_m == m)
        items.set_end(current[gone], int(cal.month_start(m + 1)) - 1)
        ended[gone] = True

    # Changes and churn already agreed for the months after the end date.
    later = np.flatnonzero(pending_m < NEVER)
    for m in np.unique(pending_m[later]):
        sel = later[pending_m[later] == m]
        items.set_end(current[sel], int(cal.month_start(m)) - 1)
        current[sel] = items.append(
            sel, int(cal.month_start(m)), pending_mrr[sel], pending_opp[sel]
        )
    gone = np.flatnonzero((churn_m < NEVER) & ~ended)
    items.set_end(current[gone], cal.month_start(churn_m[gone] + 1) - 1)

    return Subscriptions(
        company=company,
        start_month=start_m,
        cs_owner=cs,
        items=items.arrays(),
        active_by_month=active_by_month,
        extra_opps=Opps.concat(extra) if extra else None,
    )


def base_customers(
    rng: np.random.Generator, cal: Calendar, n: int, offset: int, companies: Companies
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers already under contract when the data starts: company, start month, MRR."""
    company = offset + np.arange(n)
    start_month = -(np.floor(72 * rng.random(n) ** 1.6).astype(np.int64) + 1)
    amount = deal_amounts(rng, companies.size[company], np.ones(n, bool))
    return company, start_month, np.round(amount / 12).astype(np.int64)
