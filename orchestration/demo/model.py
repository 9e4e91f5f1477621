"""The model: everything except activities, spend and targets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo.calendar import Calendar
from orchestration.demo.common import (
    DAY,
    NEVER,
    STREAM_COMPANIES,
    STREAM_CONTACTS,
    STREAM_LEADS,
    STREAM_OPPS,
    STREAM_ORG,
    STREAM_SUBS,
    rank_ids,
    stream_rng,
)
from orchestration.demo.companies import DEPARTMENTS, POSITION_P, POSITIONS, Companies
from orchestration.demo.deals import NEW, Opps, new_business_opps
from orchestration.demo.leads import AGENCY, OUTBOUND, Leads, build_leads
from orchestration.demo.org import FAMILY_NAMES, GIVEN_NAMES, Org, build_org
from orchestration.demo.subscriptions import Subscriptions, base_customers, run_subscriptions

BASE_CUSTOMERS = 800  # customers already under contract when the data starts, at scale 1


@dataclass
class Model:
    cal: Calendar
    scale: float
    seed: int
    org: Org
    companies: Companies
    leads: Leads
    opps: Opps
    opp_no: np.ndarray
    subs: Subscriptions
    account_no: np.ndarray  # per company, -1 when the company has no account
    account_created: np.ndarray
    events: dict[str, np.ndarray]
    n_base: int
    contacts: dict[str, np.ndarray]


def build_model(cal: Calendar, scale: float, seed: int) -> Model:
    """Simulate the organisation, leads, deals and customers."""
    org = build_org(stream_rng(seed, STREAM_ORG), cal, scale)
    rng_c = stream_rng(seed, STREAM_COMPANIES)
    n_base = round(BASE_CUSTOMERS * scale)
    leads, n_lead_companies, events = build_leads(
        stream_rng(seed, STREAM_LEADS), cal, org, scale, n_base
    )

    # Companies: base customers, lead companies, AE-sourced prospects (sized once we know n).
    base = Companies.make(rng_c, n_base, [0.25, 0.45, 0.2, 0.1])
    lead_cos = Companies.make(rng_c, n_lead_companies, [0.38, 0.36, 0.16, 0.10])
    pool = int(0.5 * len(leads)) + 50  # AE-sourced and carried-over deals (~5 % of leads)
    ae_pool = Companies.make(rng_c, pool, [0.1, 0.3, 0.35, 0.25])
    companies = Companies.concat([base, lead_cos, ae_pool])

    rng_o = stream_rng(seed, STREAM_OPPS)
    new_opps, n_ae = new_business_opps(rng_o, cal, org, leads, companies, n_base + n_lead_companies)
    n_companies = n_base + n_lead_companies + n_ae
    companies = Companies(**{k: v[:n_companies] for k, v in vars(companies).items()})

    rng_s = stream_rng(seed, STREAM_SUBS)
    base_company, base_start, base_mrr = base_customers(rng_s, cal, n_base, 0, companies)
    subs = run_subscriptions(
        rng_s, cal, org, companies, base_company, base_start, base_mrr, new_opps, len(new_opps)
    )
    opps = new_opps if subs.extra_opps is None else Opps.concat([new_opps, subs.extra_opps])
    opp_no = rank_ids([np.arange(len(opps)), opps.created])

    leads.opportunity = np.full(len(leads), -1, dtype=np.int64)
    from_lead = np.flatnonzero(opps.lead >= 0)
    leads.opportunity[opps.lead[from_lead]] = from_lead

    account_no, account_created = assign_accounts(
        rng_c, cal, leads, opps, companies, n_base, base_start
    )
    leads.account_known = (account_no[leads.company] > 0) & (
        leads.converted | (rng_c.random(len(leads)) < 0.6)
    )
    contacts = draw_contacts(
        stream_rng(seed, STREAM_CONTACTS), leads, opps, n_base, account_created
    )
    return Model(
        cal=cal,
        scale=scale,
        seed=seed,
        org=org,
        companies=companies,
        leads=leads,
        opps=opps,
        opp_no=opp_no,
        subs=subs,
        account_no=account_no,
        account_created=account_created,
        events=events,
        n_base=n_base,
        contacts=contacts,
    )


def assign_accounts(
    rng: np.random.Generator,
    cal: Calendar,
    leads: Leads,
    opps: Opps,
    companies: Companies,
    n_base: int,
    base_start: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """When each company became an account (取引先) and its account number (-1: none)."""
    n = len(companies)
    created = np.full(n, NEVER, dtype=np.int64)
    # Base customers: created a few months before their first contract.
    base_day = cal.month_start(base_start) - rng.integers(30, 180, n_base)
    created[:n_base] = base_day * DAY + rng.integers(10 * 3600, 18 * 3600, n_base)
    # Target lists imported for outbound calling create accounts before the lead.
    listed = np.isin(leads.source, (OUTBOUND, AGENCY)) & (rng.random(len(leads)) < 0.6)
    listed_at = leads.created - rng.integers(1, 60, len(leads)) * DAY
    np.minimum.at(created, leads.company[listed], listed_at[listed])
    # Conversions create the account at the conversion.
    conv = leads.converted
    np.minimum.at(created, leads.company[conv], leads.converted_at[conv])
    # AE-sourced prospects are set up a few days before the opportunity.
    ae = (opps.lead < 0) & (opps.otype == NEW)
    ae_at = opps.created[ae] - rng.integers(1, 21, int(ae.sum())) * DAY
    np.minimum.at(created, opps.company[ae], ae_at)
    has = created <= cal.end_ts
    account_no = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(has)
    account_no[idx] = rank_ids([idx, created[idx]])
    return account_no, created


def draw_contacts(
    rng: np.random.Generator,
    leads: Leads,
    opps: Opps,
    n_base: int,
    account_created: np.ndarray,
) -> dict[str, np.ndarray]:
    """Contacts: one per converted lead and AE-sourced deal, 1-3 per base customer.

    Sets `leads.contact`; returns company, created_at, contact number and name draws.
    """
    conv = np.flatnonzero(leads.converted)
    ae = np.flatnonzero((opps.lead < 0) & (opps.otype == NEW))
    n_per_base = rng.integers(1, 4, n_base)
    base_co = np.repeat(np.arange(n_base), n_per_base)
    base_at = account_created[base_co] + rng.integers(1, 40, len(base_co)) * DAY
    company = np.concatenate([leads.company[conv], opps.company[ae], base_co])
    created = np.concatenate([leads.converted_at[conv], opps.created[ae] - 60, base_at])
    contact_no = rank_ids([np.arange(len(company)), created])
    leads.contact = np.full(len(leads), -1, dtype=np.int64)
    leads.contact[conv] = contact_no[: len(conv)]
    order = np.argsort(contact_no)
    n = len(order)
    return {
        "company": company[order],
        "created": created[order],
        "number": contact_no[order],
        "family": rng.integers(0, len(FAMILY_NAMES), n),
        "given": rng.integers(0, len(GIVEN_NAMES), n),
        "position": rng.choice(len(POSITIONS), size=n, p=POSITION_P),
        "department": rng.integers(0, len(DEPARTMENTS), n),
        "phone": rng.integers(0, 100_000_000, n),
    }
