"""Entity tables of the model, as Arrow columns in the canonical order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo.common import CURRENCY, DAY, NEVER, rank_ids
from orchestration.demo.companies import (
    COMPANY_KINDS,
    DEPARTMENTS,
    EMPLOYEE_BANDS,
    INDUSTRIES,
    POSITIONS,
    PREFECTURES,
    company_names,
    corporate_numbers,
)
from orchestration.demo.deals import (
    CLOSED_LOST,
    CLOSED_WON,
    LOST_REASONS,
    OPPORTUNITY_TYPES,
    PRODUCT_MRR_FLOOR,
    PRODUCTS,
    STAGES,
)
from orchestration.demo.leads import SOURCES
from orchestration.demo.model import Model
from orchestration.demo.org import AGENCIES, FAMILY_NAMES, GIVEN_NAMES
from orchestration.demo.writer import (
    concat_strings,
    const_column,
    date_column,
    id_column,
    int_column,
    label_column,
    timestamp_column,
)


def agencies_table() -> dict[str, pa.Array]:
    return {
        "agency_id": pa.array([a[0] for a in AGENCIES]),
        "agency_name": pa.array([a[1] for a in AGENCIES]),
        "fee_model": pa.array([a[2] for a in AGENCIES]),
    }


def users_table(m: Model) -> dict[str, pa.Array]:
    org = m.org
    return {
        "user_id": pa.array(org.user_id),
        "user_name": pa.array(org.user_name),
        "email": pa.array(org.email),
        "team_id": pa.array([org.teams[t].team_id for t in org.team]),
        "team_name": pa.array([org.teams[t].team_name for t in org.team]),
        "role": pa.array(org.role),
        "motion": pa.array(org.motion),
        "agency_id": label_column([a[0] for a in AGENCIES], org.agency),
        "hired_date": date_column(org.hired),
        "is_active": pa.array(org.left >= NEVER),
    }


def accounts_table(m: Model) -> dict[str, pa.Array]:
    idx = np.flatnonzero(m.account_no > 0)
    idx = idx[np.argsort(m.account_no[idx])]
    c = m.companies
    return {
        "account_id": id_column("ACC-", m.account_no[idx], 8),
        "account_name": company_names(c, idx),
        "corporate_number": corporate_numbers(idx),
        "industry": label_column(INDUSTRIES, np.array([k[1] for k in COMPANY_KINDS])[c.kind[idx]]),
        "employee_band": label_column(EMPLOYEE_BANDS, c.size[idx]),
        # The demo CRM keeps the band, not the head count.
        "employee_count": id_column("", np.full(len(idx), -1), 1),
        "prefecture": label_column([p for p, _ in PREFECTURES], c.prefecture[idx]),
        "created_at": timestamp_column(m.account_created[idx]),
    }


def contacts_table(m: Model) -> dict[str, pa.Array]:
    c = m.contacts
    company, created, numbers = c["company"], c["created"], c["number"]
    family, given, position = c["family"], c["given"], c["position"]
    department, phone = c["department"], c["phone"]
    executive = position >= POSITIONS.index("代表取締役")
    title = concat_strings(
        label_column(DEPARTMENTS, np.where(executive, -1, department)).fill_null(""),
        label_column(("", " "), np.where(executive, 0, 1)),
        label_column(POSITIONS, position),
    )
    email = concat_strings(
        pc.utf8_slice_codeunits(label_column([g[1] for g in GIVEN_NAMES], given), 0, 1),
        ".",
        label_column([f[1] for f in FAMILY_NAMES], family),
        id_column("", numbers, 1),
        "@example.com",
    )
    return {
        "contact_id": id_column("CON-", numbers, 8),
        "account_id": id_column("ACC-", m.account_no[company], 8),
        "full_name": concat_strings(
            label_column([f[0] for f in FAMILY_NAMES], family),
            " ",
            label_column([g[0] for g in GIVEN_NAMES], given),
        ),
        "email": email,
        "phone": concat_strings(
            "03-", id_column("", phone // 10_000, 4), "-", id_column("", phone % 10_000, 4)
        ),
        "title": title,
        "created_at": timestamp_column(created),
    }


def leads_table(m: Model) -> dict[str, pa.Array]:
    leads = m.leads
    n = len(leads)
    account = np.where(leads.account_known, m.account_no[leads.company], -1)
    opp = np.where(leads.opportunity >= 0, m.opp_no[np.maximum(leads.opportunity, 0)], -1)
    return {
        "lead_id": id_column("LEAD-", np.arange(1, n + 1), 8),
        "created_at": timestamp_column(leads.created),
        "lead_source": label_column(SOURCES, leads.source),
        "lead_status": label_column(("open", "working", "converted", "disqualified"), leads.status),
        "owner_id": label_column(m.org.user_id, leads.owner),
        "agency_id": label_column([a[0] for a in AGENCIES], leads.agency),
        "account_id": id_column("ACC-", account, 8),
        "contact_id": id_column("CON-", leads.contact, 8),
        "converted_at": timestamp_column(leads.converted_at, mask=~leads.converted),
        "converted_opportunity_id": id_column("OPP-", opp, 8),
    }


def opportunities_table(m: Model) -> dict[str, pa.Array]:
    o, cal = m.opps, m.cal
    order = np.argsort(m.opp_no)
    closed = o.closed(cal)[order]
    won = o.won[order] & closed
    close_day = cal.to_wall(o.close_bt[order]) // DAY
    return {
        "opportunity_id": id_column("OPP-", m.opp_no[order], 8),
        "account_id": id_column("ACC-", m.account_no[o.company[order]], 8),
        "owner_id": label_column(m.org.user_id, o.owner[order]),
        "lead_id": id_column("LEAD-", np.where(o.lead[order] >= 0, o.lead[order] + 1, -1), 8),
        # The demo CRM keeps the SDR on the lead (its owner), not on the deal.
        "sdr_id": id_column("", np.full(len(order), -1), 8),
        "created_at": timestamp_column(o.created[order]),
        "close_date": date_column(close_day),
        "opportunity_stage": label_column(STAGES, o.stage_now(cal)[order]),
        "amount": int_column(o.amount[order]),
        # The plan the deal is priced at: the product tier of its monthly value.
        "product": label_column(
            PRODUCTS, np.searchsorted(PRODUCT_MRR_FLOOR, o.amount[order] / 12, side="right") - 1
        ),
        "currency": const_column(CURRENCY, len(order)),
        "opportunity_type": label_column(OPPORTUNITY_TYPES, o.otype[order]),
        "is_closed": pa.array(closed),
        "is_won": pa.array(won),
        "lost_reason": label_column(
            LOST_REASONS, np.where(closed & ~won, o.lost_reason[order], -1)
        ),
    }


def stage_history_table(m: Model) -> dict[str, pa.Array]:
    """One row per stage entered by the end date, plus the closing row of closed deals."""
    o, cal = m.opps, m.cal
    entered = (o.entry >= 0) & (o.entry <= cal.bt_end)
    entered[:, 0] = True  # approach at created_at, which is never after the end date
    opp, stage = np.nonzero(entered)
    at = np.where(stage == 0, o.created[opp], cal.to_wall(o.entry[opp, stage]))
    by = np.where(stage == 0, o.approach_by[opp], o.owner[opp])
    closed = np.flatnonzero(o.closed(cal))
    opp = np.concatenate([opp, closed])
    stage = np.concatenate([stage, np.where(o.won[closed], CLOSED_WON, CLOSED_LOST)])
    at = np.concatenate([at, cal.to_wall(o.close_bt[closed])])
    by = np.concatenate([by, o.owner[closed]])
    order = np.lexsort((at, m.opp_no[opp]))
    return {
        "opportunity_id": id_column("OPP-", m.opp_no[opp[order]], 8),
        "opportunity_stage": label_column(STAGES, stage[order]),
        "changed_at": timestamp_column(at[order]),
        "changed_by_id": label_column(m.org.user_id, by[order]),
    }


def subscriptions_table(m: Model) -> dict[str, pa.Array]:
    s = m.subs
    it = s.items
    sub_no = rank_ids([np.arange(len(s.company)), s.start_month])
    item_order = np.lexsort((sub_no[it["sub"]], it["start"]))
    sub = it["sub"][item_order]
    mrr = it["mrr"][item_order]
    product = np.searchsorted(PRODUCT_MRR_FLOOR, mrr, side="right") - 1
    opp = it["opp"][item_order]
    end = it["end"][item_order]
    return {
        "subscription_item_id": id_column("SI-", np.arange(1, len(sub) + 1), 8),
        "subscription_id": id_column("SUB-", sub_no[sub], 7),
        "account_id": id_column("ACC-", m.account_no[s.company[sub]], 8),
        "product": label_column(PRODUCTS, product),
        "start_date": date_column(it["start"][item_order]),
        "end_date": date_column(end, mask=end < 0),
        "mrr_amount": int_column(mrr),
        "currency": const_column(CURRENCY, len(sub)),
        "opportunity_id": id_column(
            "OPP-", np.where(opp >= 0, m.opp_no[np.maximum(opp, 0)], -1), 8
        ),
    }
