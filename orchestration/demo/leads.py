"""Leads: creation with seasonality and events, owners, touch schedule and outcome."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from orchestration.demo.calendar import Calendar
from orchestration.demo.common import DAY, WORK_SECONDS, abs_months, lognormal
from orchestration.demo.org import AGENCIES, Org, pick_owner

LEADS_PER_BUSINESS_DAY = 33.0  # at scale 1, before seasonality and growth

# Lead creation seasonality by calendar month (Jan..Dec): the Japanese market's buying season
# (most customers' fiscal years start in April, whatever ours does), spring and autumn campaigns,
# quiet August (お盆) and New Year.
LEAD_SEASON = np.array([0.8, 1.0, 0.95, 1.15, 1.0, 1.1, 1.0, 0.72, 1.05, 1.2, 1.15, 0.85])

# Lead sources and their behaviour (same order everywhere).
SOURCES = (
    "web_inquiry",
    "document_download",
    "paid_ads",
    "seminar",
    "trade_show",
    "referral",
    "outbound_list",
    "agency_outbound",
)
WEB_INQUIRY, DOC_DOWNLOAD, PAID_ADS, SEMINAR, TRADE_SHOW, REFERRAL, OUTBOUND, AGENCY = range(8)
SOURCE_SHARE = np.array([0.11, 0.22, 0.14, 0.12, 0.10, 0.05, 0.16, 0.10])
P_WORKED = np.array([0.98, 0.85, 0.85, 0.95, 0.92, 1.0, 1.0, 1.0])
P_CONVERT = np.array([0.40, 0.09, 0.07, 0.18, 0.12, 0.55, 0.12, 0.14])
WIN_RATE = np.array([0.32, 0.15, 0.12, 0.25, 0.18, 0.45, 0.20, 0.16])
AE_SOURCED_WIN_RATE = 0.30
P_CALL = np.array([0.6, 0.55, 0.55, 0.6, 0.7, 0.65, 0.88, 0.88])
P_CONNECT = np.array([0.36, 0.24, 0.22, 0.29, 0.26, 0.46, 0.17, 0.18])
P_EMAIL_OPENED = 0.30
TOUCHES_BEFORE_APPOINTMENT = np.array([1.0, 2.0, 2.0, 1.5, 2.0, 0.5, 3.5, 3.5])
TOUCHES_DISQUALIFIED = np.array([5.0, 6.0, 6.0, 6.0, 6.0, 4.0, 8.0, 8.0])
FIRST_TOUCH_LAG = np.array([1800, 7200, 7200, 36000, 54000, 3600, 300, 300])  # business s
SPAN_CONVERTED = np.array([3, 6, 6, 5, 6, 2, 8, 8])  # median business days, first→last touch
SPAN_DISQUALIFIED = np.array([10, 12, 12, 12, 12, 8, 15, 15])
WEB_SOURCES = (WEB_INQUIRY, DOC_DOWNLOAD, PAID_ADS)

AGENCY_LEAD_SHARE = np.array([0.55, 0.45])
TRADE_SHOW_MONTHS = (4, 6, 10, 11)
WEBINARS_PER_MONTH = 3


@dataclass
class Leads:
    created: np.ndarray  # epoch seconds
    source: np.ndarray
    owner: np.ndarray
    agency: np.ndarray
    company: np.ndarray
    n_touch: np.ndarray
    first_bt: np.ndarray
    last_bt: np.ndarray
    appointment_minutes: np.ndarray
    plan_convert: np.ndarray
    converted: np.ndarray  # converted by the end date
    converted_at: np.ndarray
    status: np.ndarray  # index into LEAD_STATUSES order: open, working, converted, disqualified
    opportunity: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    contact: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    account_known: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __len__(self) -> int:
        return len(self.created)


def _event_days(rng: np.random.Generator, cal: Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Webinar days (3 a month, Tue-Thu) and trade-show lead import days with their weights."""
    bdays = cal.bdays[(cal.bdays >= cal.start_day) & (cal.bdays <= cal.end_day)]
    month = cal.month_of(bdays)
    midweek = np.isin((bdays + 3) % 7, (1, 2, 3))
    webinars = []
    for m in range(cal.n_months):
        pool = bdays[(month == m) & midweek]
        if len(pool):
            webinars.append(np.sort(rng.choice(pool, min(WEBINARS_PER_MONTH, len(pool)), False)))
    import_days, import_w = [], []
    for m in range(cal.n_months):
        first = int(cal.month_start(m))
        if (abs_months(np.array([first]))[0] % 12 + 1) not in TRADE_SHOW_MONTHS:
            continue
        days = np.arange(first + 7, first + 14)
        wednesday = days[(days + 3) % 7 == 2][0]  # second-week Wednesday, show runs Wed-Fri
        after = cal.bdays[cal.bdays > wednesday + 2][:3]
        after = after[after <= cal.end_day]
        import_days.append(after)
        import_w.append(np.array([0.5, 0.3, 0.2])[: len(after)])
    webinar_days = np.concatenate(webinars) if webinars else np.zeros(0, np.int64)
    show_days = np.concatenate(import_days) if import_days else np.zeros(0, np.int64)
    show_w = np.concatenate(import_w) if import_w else np.zeros(0)
    return webinar_days, np.stack([show_days, show_w]) if len(show_days) else np.zeros((2, 0))


def _lead_created_times(
    rng: np.random.Generator, cal: Calendar, scale: float
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Creation time and source of every lead, with seasonality and event spikes."""
    days = cal.data_days()
    moy = abs_months(days) % 12
    base = LEAD_SEASON[moy] * cal.growth(days)
    business = cal.is_bday(days)
    volume = LEADS_PER_BUSINESS_DAY * scale * float((base * business).sum())
    webinar_days, shows = _event_days(rng, cal)

    created, sources = [], []
    web_hours = np.array([0.2] * 7 + [0.5, 1.0] + [3.0] * 9 + [2.0, 1.5, 1.5, 1.2, 0.8, 0.4])
    for s in range(len(SOURCES)):
        if s in WEB_SOURCES:
            weight = base * np.where(business, 1.0, 0.3)
            expected = volume * SOURCE_SHARE[s] * 1.08
        elif s == SEMINAR:
            weight = np.where(np.isin(days, webinar_days), base, 0.0)
            expected = volume * SOURCE_SHARE[s]
        elif s == TRADE_SHOW:
            weight = np.zeros(len(days))
            if shows.shape[1]:
                np.add.at(weight, (shows[0].astype(np.int64) - cal.start_day), shows[1])
                weight *= base
            expected = volume * SOURCE_SHARE[s]
        else:
            weight = base * business
            expected = volume * SOURCE_SHARE[s]
        if weight.sum() <= 0:
            continue
        n = int(rng.poisson(expected))
        day = rng.choice(days, size=n, p=weight / weight.sum())
        if s in WEB_SOURCES:
            hour = rng.choice(24, size=n, p=web_hours / web_hours.sum())
            tod = hour * 3600 + rng.integers(0, 3600, n)
        elif s == SEMINAR:
            tod = rng.integers(15 * 3600, 18 * 3600, n)
        else:
            tod = rng.integers(9 * 3600 + 600, 18 * 3600 + 1800, n)
        created.append(day * DAY + tod)
        sources.append(np.full(n, s, dtype=np.int64))
    events = {"webinar_days": webinar_days, "show_days": shows[0].astype(np.int64)}
    if not created:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), events
    created_all, source_all = np.concatenate(created), np.concatenate(sources)
    order = np.lexsort((source_all, created_all))
    return created_all[order], source_all[order], events


def _lead_companies(rng: np.random.Generator, n: int, offset: int) -> tuple[np.ndarray, int]:
    """Company of each lead: mostly a new company, sometimes one seen in an earlier lead."""
    reuse = rng.random(n) < 0.12
    new_idx = np.flatnonzero(~reuse)
    company = np.full(n, -1, dtype=np.int64)
    company[new_idx] = offset + np.arange(len(new_idx))
    earlier_new = np.cumsum(~reuse) - (~reuse)  # new-company leads before each lead
    can = reuse & (earlier_new > 0)
    pick = (rng.random(n) * np.maximum(earlier_new, 1)).astype(np.int64)
    company[can] = company[new_idx[pick[can]]]
    orphans = reuse & ~can  # nothing to reuse yet: a new company after all
    company[orphans] = offset + len(new_idx) + np.arange(int(orphans.sum()))
    return company, len(new_idx) + int(orphans.sum())


def build_leads(
    rng: np.random.Generator, cal: Calendar, org: Org, scale: float, company_offset: int
) -> tuple[Leads, int, dict[str, np.ndarray]]:
    """Leads with their owners, companies, touch schedule and outcome."""
    created, source, events = _lead_created_times(rng, cal, scale)
    n = len(created)
    day = created // DAY

    owner = np.full(n, -1, dtype=np.int64)
    agency = np.full(n, -1, dtype=np.int64)
    inhouse = source != AGENCY
    owner[inhouse] = pick_owner(rng, org, org.members("sdr"), day[inhouse], margin=90)
    agency_leads = np.flatnonzero(~inhouse)
    agency[agency_leads] = rng.choice(len(AGENCIES), size=len(agency_leads), p=AGENCY_LEAD_SHARE)
    for a in range(len(AGENCIES)):
        sel = agency_leads[agency[agency_leads] == a]
        owner[sel] = pick_owner(rng, org, org.members("agency", agency=a), day[sel])
    company, n_companies = _lead_companies(rng, n, company_offset)

    # Outcome: worked or not, converted, disqualified or back to nurture.
    worked = rng.random(n) < P_WORKED[source]
    p_conv = np.clip(P_CONVERT[source] / P_WORKED[source] * org.skill[owner], 0, 0.95)
    plan_convert = worked & (rng.random(n) < p_conv)
    disqualify = worked & ~plan_convert & (rng.random(n) < 0.7)

    # Touch schedule in business seconds.
    n_touch = np.where(
        plan_convert,
        1 + rng.poisson(TOUCHES_BEFORE_APPOINTMENT[source]),
        np.where(disqualify, 2 + rng.poisson(TOUCHES_DISQUALIFIED[source]), 2 + rng.poisson(2, n)),
    )
    n_touch = np.where(worked, n_touch, 0)
    created_bt = cal.to_bt(created)
    lag = np.clip(lognormal(rng, FIRST_TOUCH_LAG[source], 0.8, n), 60, 20 * WORK_SECONDS)
    first_bt = created_bt + lag.astype(np.int64)
    span_days = np.where(
        plan_convert,
        lognormal(rng, SPAN_CONVERTED[source], 0.6, n),
        lognormal(rng, np.where(disqualify, SPAN_DISQUALIFIED[source], 4), 0.6, n),
    )
    span = (np.clip(span_days, 0.05, 60) * WORK_SECONDS).astype(np.int64)
    span = np.where(n_touch > 1, np.maximum(span, n_touch * 600), 0)
    last_bt = first_bt + span
    appointment_minutes = rng.integers(5, 16, n)

    converted_at = cal.to_wall(last_bt) + appointment_minutes * 60 + rng.integers(60, 1800, n)
    converted = plan_convert & (converted_at <= cal.end_ts)
    resolved = last_bt + rng.integers(600, 2 * WORK_SECONDS, n) <= cal.bt_end
    status = np.select(
        [
            ~worked | (first_bt > cal.bt_end),
            converted,
            plan_convert,
            ~resolved,
            disqualify,
        ],
        [0, 2, 1, 1, 3],
        default=0,  # nurtured: back to open after a few touches
    )
    leads = Leads(
        created=created,
        source=source,
        owner=owner,
        agency=agency,
        company=company,
        n_touch=n_touch.astype(np.int64),
        first_bt=first_bt,
        last_bt=last_bt,
        appointment_minutes=appointment_minutes,
        plan_convert=plan_convert,
        converted=converted,
        converted_at=np.where(converted, converted_at, -1),
        status=status,
    )
    return leads, n_companies, events
