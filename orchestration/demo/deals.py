"""Opportunities and the sales pipeline: stage paths, amounts, the 期末 push."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from orchestration.demo.calendar import Calendar
from orchestration.demo.common import (
    CARRY_OVER_DAYS,
    DAY,
    WORK_SECONDS,
    abs_months,
    lognormal,
    month_first_day,
    uniform_int,
)
from orchestration.demo.companies import Companies
from orchestration.demo.leads import AE_SOURCED_WIN_RATE, LEAD_SEASON, WIN_RATE, Leads
from orchestration.demo.org import Org, pick_owner

AE_SOURCED_SHARE = 0.12  # AE-sourced opportunities per converted lead

STAGES = ("approach", "discovery", "proposal", "negotiation", "closed_won", "closed_lost")
CLOSED_WON, CLOSED_LOST = 4, 5
STAGE_MEDIAN_BDAYS = np.array([9.0, 11.0, 13.0, 10.0])  # time spent in each open stage
LOST_AT_STAGE = np.array([0.30, 0.30, 0.25, 0.15])
P_SKIP_STAGE = 0.05
LOST_REASONS = (
    "価格",
    "競合他社に決定",
    "予算確保できず",
    "時期尚早",
    "機能要件不一致",
    "連絡途絶",
    "社内稟議否決",
)
LOST_REASON_P = np.array([0.2, 0.22, 0.15, 0.15, 0.1, 0.12, 0.06])
OPPORTUNITY_TYPES = ("new", "expansion", "renewal")
NEW, EXPANSION, RENEWAL = 0, 1, 2

DEAL_MEDIAN_BY_BAND = np.array([1_100_000, 2_200_000, 4_500_000, 7_500_000])
MIN_DEAL, MAX_DEAL = 600_000, 12_000_000
PRODUCTS = ("Starter", "Standard", "Professional", "Enterprise")
PRODUCT_MRR_FLOOR = np.array([0, 100_000, 250_000, 500_000])


@dataclass
class Opps:
    """A batch of opportunities with their planned stage path (business seconds)."""

    company: np.ndarray
    owner: np.ndarray
    lead: np.ndarray
    source: np.ndarray  # lead source, -1 when AE-sourced or a customer deal
    otype: np.ndarray
    created: np.ndarray  # epoch seconds
    created_bt: np.ndarray
    entry: np.ndarray  # (n, 4) planned entry into the open stages, -1 when skipped
    close_bt: np.ndarray  # planned close
    won: np.ndarray  # planned outcome
    amount: np.ndarray
    lost_reason: np.ndarray
    approach_by: np.ndarray  # user who created the opportunity (approach row)

    FIELDS = ("company", "owner", "lead", "source", "otype", "created", "created_bt", "entry",
              "close_bt", "won", "amount", "lost_reason", "approach_by")  # fmt: skip

    def __len__(self) -> int:
        return len(self.company)

    @classmethod
    def concat(cls, parts: Sequence[Opps]) -> Opps:
        return cls(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in cls.FIELDS})

    def take(self, idx: np.ndarray) -> Opps:
        return Opps(**{f: getattr(self, f)[idx] for f in self.FIELDS})

    def closed(self, cal: Calendar) -> np.ndarray:
        return self.close_bt <= cal.bt_end

    def stage_now(self, cal: Calendar) -> np.ndarray:
        entered = (self.entry >= 0) & (self.entry <= cal.bt_end)
        entered[:, 0] = True  # created on or before the end date
        current = 3 - np.argmax(entered[:, ::-1], axis=1)
        closed = self.closed(cal)
        return np.where(closed, np.where(self.won, CLOSED_WON, CLOSED_LOST), current)


@dataclass
class Pipeline:
    entry: np.ndarray
    close_bt: np.ndarray
    won: np.ndarray


def _simulate_pipeline(
    rng: np.random.Generator,
    cal: Calendar,
    created_bt: np.ndarray,
    win_prob: np.ndarray,
    speed: np.ndarray,
    cap_bt: np.ndarray | None = None,
) -> Pipeline:
    """Plan the stage path of each deal: stage entries, close time and outcome."""
    n = len(created_bt)
    won = rng.random(n) < win_prob
    last = np.where(won, 3, rng.choice(4, size=n, p=LOST_AT_STAGE))
    stage = np.arange(4)[None, :]
    bdays = rng.lognormal(np.log(STAGE_MEDIAN_BDAYS)[None, :], 0.55, (n, 4)) * speed[:, None]
    lost_here = (~won)[:, None] & (stage == last[:, None])
    bdays = np.where(lost_here, bdays * rng.uniform(0.4, 1.2, (n, 1)), bdays)
    secs = (np.clip(bdays, 0.25, 120) * WORK_SECONDS).astype(np.int64)
    skip = (rng.random((n, 4)) < P_SKIP_STAGE) & (stage >= 1) & (stage < last[:, None])
    entered = (stage <= last[:, None]) & ~skip
    secs = np.where(entered, secs, 0)
    if cap_bt is not None:  # squeeze the path to close before the cap
        total = secs.sum(axis=1)
        room = np.maximum(cap_bt - created_bt, 4 * 60)
        factor = np.where(total > room, room / np.maximum(total, 1), 1.0)
        secs = np.where(entered, np.maximum((secs * factor[:, None]).astype(np.int64), 30), 0)
    cum = np.cumsum(secs, axis=1)
    entry = created_bt[:, None] + np.concatenate([np.zeros((n, 1), np.int64), cum[:, :-1]], axis=1)
    entry = np.where(entered, entry, -1)
    close_bt = created_bt + cum[:, 3]
    close_bt = fiscal_push(rng, cal, close_bt, entry.max(axis=1), won, cap_bt)
    return Pipeline(entry=entry, close_bt=close_bt, won=won)


def fiscal_push(
    rng: np.random.Generator,
    cal: Calendar,
    close_bt: np.ndarray,
    last_entry: np.ndarray,
    won: np.ndarray,
    cap_bt: np.ndarray | None,
) -> np.ndarray:
    """Won deals near fiscal year-end (March when the year starts in April) and half-year end
    (September) close in its second half: the 期末 push."""
    day = cal.to_wall(close_bt) // DAY
    m_abs = abs_months(day)
    moy = m_abs % 12 + 1
    dom = day - month_first_day(m_abs) + 1
    year_end, half_end = cal.fiscal_year_end_month, cal.half_year_end_month
    window = (
        ((moy == year_end) & (dom >= 10))
        | ((moy == year_end % 12 + 1) & (dom <= 25))
        | ((moy == half_end) & (dom >= 10))
        | ((moy == half_end % 12 + 1) & (dom <= 20))
    )
    target = np.where(np.isin(moy, (year_end, half_end)), m_abs, m_abs - 1)
    lo = cal.to_bt((month_first_day(target) + 15) * DAY)
    hi = cal.to_bt(month_first_day(target + 1) * DAY)
    new = uniform_int(rng, lo, np.maximum(hi, lo + 1))
    ok = won & window & (rng.random(len(close_bt)) < 0.85) & (new > last_entry + 3600)
    if cap_bt is not None:
        ok &= new <= cap_bt
    return np.where(ok, new, close_bt)


def deal_amounts(rng: np.random.Generator, size_band: np.ndarray, won: np.ndarray) -> np.ndarray:
    """First-year contract value in JPY (log-normal by company size, discount on won deals)."""
    amount = lognormal(rng, DEAL_MEDIAN_BY_BAND[size_band], 0.45, len(size_band))
    amount = np.where(won, amount * rng.uniform(0.85, 1.0, len(size_band)), amount)
    return (np.clip(np.round(amount, -3), MIN_DEAL, MAX_DEAL)).astype(np.int64)


def _segment(size_band: np.ndarray) -> np.ndarray:
    """0 enterprise (300+ employees, フィールドセールス1課), 1 SMB."""
    return np.where(size_band >= 2, 0, 1)


def _assign_aes(rng: np.random.Generator, org: Org, segment: np.ndarray, days: np.ndarray):
    owner = np.full(len(days), -1, dtype=np.int64)
    for seg in (0, 1):
        sel = np.flatnonzero(segment == seg)
        owner[sel] = pick_owner(rng, org, org.members("ae", segment=seg), days[sel])
    return owner


def make_opps(
    rng: np.random.Generator,
    cal: Calendar,
    org: Org,
    *,
    company: np.ndarray,
    size_band: np.ndarray,
    created: np.ndarray,
    otype: int,
    win_prob: np.ndarray,
    speed: np.ndarray,
    lead: np.ndarray | None = None,
    source: np.ndarray | None = None,
    approach_by: np.ndarray | None = None,
    amount: np.ndarray | None = None,
    cap_bt: np.ndarray | None = None,
) -> Opps:
    """Create a batch of opportunities: owner, stage path, amount, lost reason."""
    n = len(company)
    owner = _assign_aes(rng, org, _segment(size_band), created // DAY)
    created_bt = cal.to_bt(created)
    win = np.clip(win_prob * org.skill[owner], 0.02, 0.97) if n else win_prob
    path = _simulate_pipeline(rng, cal, created_bt, win, speed, cap_bt)
    if amount is None:
        amount = deal_amounts(rng, size_band, path.won)
    none = np.full(n, -1, dtype=np.int64)
    return Opps(
        company=company,
        owner=owner,
        lead=none if lead is None else lead,
        source=none if source is None else source,
        otype=np.full(n, otype, dtype=np.int64),
        created=created,
        created_bt=created_bt,
        entry=path.entry,
        close_bt=path.close_bt,
        won=path.won,
        amount=amount,
        lost_reason=np.where(path.won, -1, rng.choice(len(LOST_REASONS), n, p=LOST_REASON_P)),
        approach_by=owner if approach_by is None else approach_by,
    )


def new_business_opps(
    rng: np.random.Generator,
    cal: Calendar,
    org: Org,
    leads: Leads,
    companies: Companies,
    ae_company_offset: int,
) -> tuple[Opps, int]:
    """Opportunities from converted leads plus AE-sourced ones (on new AE companies)."""
    conv = np.flatnonzero(leads.converted)
    size = companies.size[leads.company[conv]]
    speed = np.where(size >= 2, 1.35, 0.8) * rng.lognormal(0, 0.2, len(conv))
    from_leads = make_opps(
        rng,
        cal,
        org,
        company=leads.company[conv],
        size_band=size,
        created=leads.converted_at[conv],
        otype=NEW,
        win_prob=WIN_RATE[leads.source[conv]],
        speed=speed,
        lead=conv,
        source=leads.source[conv],
        approach_by=leads.owner[conv],
    )
    n_ae = int(rng.poisson(AE_SOURCED_SHARE * len(conv)))
    days = cal.data_days()
    weight = LEAD_SEASON[abs_months(days) % 12] * cal.growth(days) * cal.is_bday(days)
    day = rng.choice(days, size=n_ae, p=weight / weight.sum())
    created = day * DAY + rng.integers(9 * 3600 + 900, 18 * 3600 + 1800, n_ae)
    ae_company = ae_company_offset + np.arange(n_ae)
    ae_size = companies.size[ae_company]
    ae_sourced = make_opps(
        rng,
        cal,
        org,
        company=ae_company,
        size_band=ae_size,
        created=created,
        otype=NEW,
        win_prob=np.full(n_ae, AE_SOURCED_WIN_RATE),
        speed=np.where(ae_size >= 2, 1.4, 0.9) * rng.lognormal(0, 0.2, n_ae),
    )
    carried = _carry_over_opps(
        rng, cal, org, companies, ae_company_offset + n_ae, (len(conv) + n_ae) / cal.n_months
    )
    return Opps.concat([from_leads, ae_sourced, carried.opps]), n_ae + carried.n_companies


@dataclass
class CarryOver:
    opps: Opps
    n_companies: int


def _carry_over_opps(
    rng: np.random.Generator,
    cal: Calendar,
    org: Org,
    companies: Companies,
    company_offset: int,
    per_month: float,
) -> CarryOver:
    """Deals created before the data start and still open at it, so that the pipeline is not
    empty in the first months. They come without lead (their leads predate the export)."""
    days = cal.bdays[(cal.bdays >= cal.start_day - CARRY_OVER_DAYS) & (cal.bdays < cal.start_day)]
    n = int(rng.poisson(per_month * CARRY_OVER_DAYS / 30.4)) if len(days) else 0
    created = rng.choice(days, size=n) * DAY + rng.integers(9 * 3600 + 900, 18 * 3600 + 1800, n)
    company = company_offset + np.arange(n)
    size = companies.size[company]
    batch = make_opps(
        rng,
        cal,
        org,
        company=company,
        size_band=size,
        created=created,
        otype=NEW,
        win_prob=np.full(n, 0.26),
        speed=np.where(size >= 2, 1.35, 0.8) * rng.lognormal(0, 0.2, n),
    )
    keep = np.flatnonzero(batch.close_bt >= cal.bt_start)
    opps = batch.take(keep)
    opps.company = company_offset + np.arange(len(keep))  # no gaps in the company numbers
    return CarryOver(opps=opps, n_companies=len(keep))
