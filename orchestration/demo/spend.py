"""Monthly spend per channel (and per agency for 営業代行)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from orchestration.demo.common import (
    CURRENCY,
    DAY,
    STREAM_SPEND,
    abs_months,
    monthly_counts,
    stream_rng,
)
from orchestration.demo.leads import DOC_DOWNLOAD, PAID_ADS, REFERRAL, SOURCES, WEB_INQUIRY
from orchestration.demo.model import Model
from orchestration.demo.org import AGENCIES
from orchestration.demo.writer import const_column, int_column, label_column

# The channels of lead_source_channels.csv; field_sales is the channel of deals without a lead
# (lead source ae_sourced: AEs' own prospecting, 自己開拓).
CHANNELS = ("inbound_web", "paid_media", "events", "referral", "outbound", "outsourced_sales",
            "field_sales")  # fmt: skip

# Monthly spend parameters (JPY at scale 1).
INBOUND_WEB_FIXED = 3_000_000
INBOUND_WEB_PER_LEAD = 6_000
PAID_CPL = 26_000
WEBINAR_COST = 350_000
TRADE_SHOW_COST = 6_500_000
EVENTS_FIXED = 300_000
REFERRAL_FIXED = 150_000
REFERRAL_FEE_RATE = 0.10
SDR_MONTHLY_COST = 650_000
OUTBOUND_TOOLS = 300_000
AE_MONTHLY_COST = 800_000
AE_PROSPECTING_SHARE = 0.3  # share of AE time spent on their own prospecting
AGENCY_RETAINER = 1_300_000
AGENCY_BASE_FEE = 200_000
AGENCY_FEE_PER_APPOINTMENT = 45_000


def spend_table(m: Model) -> dict[str, pa.Array]:
    """Monthly spend per channel (and per agency for 営業代行) in JPY."""
    rng = stream_rng(m.seed, STREAM_SPEND)
    cal, leads, org, scale = m.cal, m.leads, m.org, m.scale
    n_months = cal.n_months
    lead_month = cal.month_of(leads.created // DAY)
    by_source = np.stack(
        [monthly_counts(lead_month[leads.source == s], n_months) for s in range(len(SOURCES))]
    )
    month_days = cal.month_start(np.arange(n_months))
    growth = cal.growth(month_days)
    moy = abs_months(month_days) % 12 + 1

    def noise() -> np.ndarray:
        return rng.uniform(0.9, 1.1, n_months)

    inbound = INBOUND_WEB_FIXED * scale * growth * noise() + INBOUND_WEB_PER_LEAD * (
        by_source[WEB_INQUIRY] + by_source[DOC_DOWNLOAD]
    )
    # Ads cost more in March (Japan's usual fiscal year-end) and December: the market's calendar.
    cpl = PAID_CPL * np.where(np.isin(moy, (3, 12)), 1.15, 1.0) * noise()
    paid = by_source[PAID_ADS] * cpl
    webinars = monthly_counts(cal.month_of(m.events["webinar_days"]), n_months)
    show_months = np.unique(cal.month_of(m.events["show_days"]))
    shows = monthly_counts(show_months, n_months)
    events = scale * (EVENTS_FIXED + WEBINAR_COST * webinars + TRADE_SHOW_COST * shows * noise())
    o = m.opps
    won_ref = o.won & o.closed(m.cal) & (o.source == REFERRAL)
    ref_month = cal.month_of(cal.to_wall(o.close_bt[won_ref]) // DAY)
    referral = REFERRAL_FIXED * scale + REFERRAL_FEE_RATE * monthly_counts(
        ref_month, n_months, o.amount[won_ref].astype(float)
    )
    month_end = cal.month_start(np.arange(1, n_months + 1)) - 1

    def headcount(users: np.ndarray) -> np.ndarray:
        employed = (org.hired[users][None, :] <= month_end[:, None]) & (
            org.left[users][None, :] >= month_days[:, None]
        )
        return employed.sum(axis=1)

    per_person = scale / max(1, round(scale))  # headcount scales in whole teams
    sdr_cost = SDR_MONTHLY_COST * headcount(org.members("sdr"))
    outbound = (sdr_cost + OUTBOUND_TOOLS) * per_person * noise()
    ae_cost = AE_MONTHLY_COST * headcount(org.members("ae"))
    field_sales = AE_PROSPECTING_SHARE * ae_cost * per_person * noise()

    rows: list[tuple[np.ndarray, str, int, str]] = [
        (inbound, "inbound_web", -1, "marketing"),
        (paid, "paid_media", -1, "marketing"),
        (events, "events", -1, "marketing"),
        (referral, "referral", -1, "marketing"),
        (outbound, "outbound", -1, "sales"),
        (field_sales, "field_sales", -1, "sales"),
    ]
    conv_month = cal.month_of(leads.converted_at // DAY)
    for a, (_, _, fee_model, _) in enumerate(AGENCIES):
        appointments = monthly_counts(conv_month[leads.converted & (leads.agency == a)], n_months)
        if fee_model == "retainer":
            fee = np.full(n_months, AGENCY_RETAINER * scale)
        else:
            fee = AGENCY_BASE_FEE * scale + AGENCY_FEE_PER_APPOINTMENT * appointments
        rows.append((fee, "outsourced_sales", a, "agency_fee"))

    if {r[1] for r in rows} != set(CHANNELS):
        raise AssertionError("spend must cover every channel")
    months_abs = cal.first_month + np.arange(n_months)
    month_labels = [f"{1970 + x // 12:04d}-{x % 12 + 1:02d}" for x in months_abs]
    return {
        "spend_month": pa.array([lbl for _ in rows for lbl in month_labels]),
        "channel": pa.array([r[1] for r in rows for _ in range(n_months)]),
        "agency_id": label_column(
            [a[0] for a in AGENCIES], np.repeat(np.array([r[2] for r in rows]), n_months)
        ),
        "spend_category": pa.array([r[3] for r in rows for _ in range(n_months)]),
        "amount": int_column(np.concatenate([np.round(r[0], -2) for r in rows])),
        "currency": const_column(CURRENCY, len(rows) * n_months),
    }
