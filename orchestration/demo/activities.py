"""Activities (calls, e-mails, meetings, tasks), generated in chunks and streamed to CSV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from orchestration.demo.common import (
    NEVER,
    STREAM_CS_ACTIVITIES,
    STREAM_LEAD_ACTIVITIES,
    STREAM_OPP_ACTIVITIES,
    WORK_SECONDS,
    repeat_index,
    stream_rng,
    uniform_int,
)
from orchestration.demo.deals import NEW
from orchestration.demo.leads import P_CALL, P_CONNECT, P_EMAIL_OPENED
from orchestration.demo.model import Model
from orchestration.demo.writer import CsvSink, id_column, int_column, label_column, timestamp_column

# Activity intensity per working hour 9:00..18:00 (昼休み dip at 12:00).
HOUR_PROFILE = np.array([0.75, 1.15, 1.1, 0.35, 1.0, 1.1, 1.15, 1.1, 0.9, 0.5])
# Meeting start slots 9:00, 9:30, ..., 17:30: mostly on the hour, few over lunch.
MEETING_SLOTS = np.array([0.3, 0.5, 1.0, 0.6, 1.0, 0.6, 0.15, 0.15, 1.0, 0.6, 1.0, 0.6, 1.0, 0.6,
                          1.0, 0.6, 0.8, 0.3])  # fmt: skip
ACTIVITY_CHUNK = 40_000  # leads or opportunities per activity chunk

ACTIVITY_TYPES = ("call", "email", "meeting", "task")
CALL, EMAIL, MEETING, TASK = range(4)
OUTCOMES = ("no_answer", "connected", "appointment_set", "sent", "opened", "held", "no_show",
            "completed")  # fmt: skip
NO_ANSWER, CONNECTED, APPOINTMENT_SET, SENT, OPENED, HELD, NO_SHOW, COMPLETED = range(8)
SUBJECTS = (
    "初回架電",  # 0
    "フォロー架電",  # 1
    "アポイント獲得",  # 2
    "お問い合わせありがとうございます",  # 3
    "資料ダウンロードのお礼",  # 4
    "セミナーご参加のお礼",  # 5
    "展示会ご来場のお礼",  # 6
    "ご紹介いただいた件",  # 7
    "サービスのご紹介",  # 8
    "フォローアップのご連絡",  # 9
    "初回商談",  # 10
    "ヒアリング",  # 11
    "提案",  # 12
    "条件交渉",  # 13
    "商談のお礼",  # 14
    "提案資料の送付",  # 15
    "お見積りの送付",  # 16
    "契約書の送付",  # 17
    "ヒアリングシート作成",  # 18
    "提案書作成",  # 19
    "見積書作成",  # 20
    "稟議サポート",  # 21
    "オンボーディング",  # 22
    "定例ミーティング",  # 23
    "活用状況のご報告",  # 24
    "ヘルスチェック",  # 25
    "新機能のご案内",  # 26
)
FIRST_EMAIL_SUBJECT = np.array([3, 4, 4, 5, 6, 7, 8, 8])
MEETING_SUBJECT_BY_STAGE = np.array([10, 11, 12, 13])
EMAIL_SUBJECT_BY_STAGE = np.array([14, 15, 16, 17])
TASK_SUBJECT_BY_STAGE = np.array([18, 19, 20, 21])


@dataclass
class ActivityChunk:
    atype: np.ndarray
    bt: np.ndarray
    owner: np.ndarray
    outcome: np.ndarray
    duration: np.ndarray  # minutes, -1 when empty
    lead: np.ndarray  # lead index, -1
    opp: np.ndarray  # opportunity index, -1
    company: np.ndarray  # company index, -1
    subject: np.ndarray

    def select(self, keep: np.ndarray) -> ActivityChunk:
        return ActivityChunk(**{k: v[keep] for k, v in vars(self).items()})


def _day_quantile(bt: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day, bin and position within the bin of each time under a per-bin weight profile.

    The map is monotonic within a day, so an ordered schedule stays ordered.
    """
    day, tod = bt // WORK_SECONDS, bt % WORK_SECONDS
    cum = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    u = tod / WORK_SECONDS
    b = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, len(weights) - 1)
    return day, b, (u - cum[b]) / (cum[b + 1] - cum[b])


def _within(new: np.ndarray, old: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.where((new >= lo) & (new <= hi), new, old)


def _shape_hours(bt: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Move times within their working day to follow HOUR_PROFILE, staying within [lo, hi]."""
    day, hour, frac = _day_quantile(bt, HOUR_PROFILE)
    tod = np.minimum(((hour + frac) * 3600).astype(np.int64), WORK_SECONDS - 1)
    return _within(day * WORK_SECONDS + tod, bt, lo, hi)


def _snap_meetings(bt: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Meetings start in half-hour slots 9:00-17:30 (MEETING_SLOTS), staying within [lo, hi]."""
    day, slot, _ = _day_quantile(bt, MEETING_SLOTS)
    return _within(day * WORK_SECONDS + slot * 1800, bt, lo, hi)


def _meeting_minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(np.array([30, 45, 60, 90]), size=n, p=[0.25, 0.2, 0.4, 0.15])


def _lead_activities(rng: np.random.Generator, m: Model, lo: int, hi: int) -> ActivityChunk:
    """Calls and e-mails of SDRs and agency reps on leads lo..hi-1."""
    leads, cal = m.leads, m.cal
    counts = leads.n_touch[lo:hi]
    parent, k = repeat_index(counts)
    lead = lo + parent
    n = len(lead)
    n_touch = counts[parent]
    first, last = leads.first_bt[lead], leads.last_bt[lead]
    bt = _shape_hours(first + (rng.random(n) * (last - first)).astype(np.int64), first, last)
    bt = np.where(k == 0, first, np.where(k == n_touch - 1, last, bt))
    source = leads.source[lead]
    appointment = leads.plan_convert[lead] & (k == n_touch - 1)
    is_call = appointment | (rng.random(n) < P_CALL[source])
    connected = rng.random(n) < P_CONNECT[source]
    outcome = np.where(
        is_call,
        np.where(appointment, APPOINTMENT_SET, np.where(connected, CONNECTED, NO_ANSWER)),
        np.where(rng.random(n) < P_EMAIL_OPENED, OPENED, SENT),
    )
    minutes = np.where(connected, rng.integers(2, 16, n), rng.integers(0, 3, n))
    minutes = np.where(appointment, leads.appointment_minutes[lead], minutes)
    subject = np.where(
        is_call,
        np.where(appointment, 2, np.where(k == 0, 0, 1)),
        np.where(k == 0, FIRST_EMAIL_SUBJECT[source], 9),
    )
    account = np.where(leads.account_known[lead], leads.company[lead], -1)
    chunk = ActivityChunk(
        atype=np.where(is_call, CALL, EMAIL),
        bt=bt,
        owner=leads.owner[lead],
        outcome=outcome,
        duration=np.where(is_call, minutes, -1),
        lead=lead,
        opp=np.full(n, -1),
        company=account,
        subject=subject,
    )
    return chunk.select(bt <= cal.bt_end)


def _opp_activities(rng: np.random.Generator, m: Model, lo: int, hi: int) -> ActivityChunk:
    """Meetings, e-mails and tasks of AEs on opportunities lo..hi-1."""
    o, cal = m.opps, m.cal
    idx = np.arange(lo, hi)
    stages = (o.entry[idx] >= 0).sum(axis=1) + 1
    rate = np.where(o.otype[idx] == NEW, 1.1 * stages, 1.5)
    counts = 1 + rng.poisson(rate)
    parent, k = repeat_index(counts)
    opp = idx[parent]
    n = len(opp)
    start, close = o.created_bt[opp], o.close_bt[opp]
    entry = o.entry[opp]
    next_entry = np.where(entry[:, 1:] >= 0, entry[:, 1:], NEVER).min(axis=1)
    first_end = np.minimum(next_entry, close)
    first = start + (rng.uniform(0.1, 0.7, n) * (first_end - start)).astype(np.int64)
    later = _shape_hours(start + (rng.random(n) * (close - start)).astype(np.int64), start, close)
    bt = np.where(k == 0, first, later)
    atype = np.where(k == 0, MEETING, rng.choice([MEETING, EMAIL, TASK], n, p=[0.45, 0.35, 0.2]))
    meeting = atype == MEETING
    bt = np.where(meeting, _snap_meetings(bt, start, close), bt)
    stage = ((entry >= 0) & (entry <= bt[:, None])).sum(axis=1) - 1
    stage = np.clip(stage, 0, 3)
    p_no_show = np.where(k == 0, 0.1, 0.04)
    outcome = np.select(
        [meeting, atype == EMAIL],
        [
            np.where(rng.random(n) < p_no_show, NO_SHOW, HELD),
            np.where(rng.random(n) < P_EMAIL_OPENED, OPENED, SENT),
        ],
        default=COMPLETED,
    )
    subject = np.select(
        [meeting, atype == EMAIL],
        [MEETING_SUBJECT_BY_STAGE[stage], EMAIL_SUBJECT_BY_STAGE[stage]],
        default=TASK_SUBJECT_BY_STAGE[stage],
    )
    chunk = ActivityChunk(
        atype=atype,
        bt=bt,
        owner=o.owner[opp],
        outcome=outcome,
        duration=np.where(meeting, _meeting_minutes(rng, n), -1),
        lead=np.full(n, -1),
        opp=opp,
        company=o.company[opp],
        subject=subject,
    )
    # Deals carried over from before the data start: only activities from the start on.
    return chunk.select((bt <= cal.bt_end) & (bt >= cal.bt_start))


def _cs_activities(rng: np.random.Generator, m: Model, month: int) -> ActivityChunk:
    """Customer-success check-ins with active customers during one month."""
    s, cal = m.subs, m.cal
    active = s.active_by_month[month]
    parent, _ = repeat_index(rng.poisson(0.45, len(active)))
    sub = active[parent]
    n = len(sub)
    lo, hi = cal.month_bt_range(month)
    lo_a, hi_a = np.full(n, lo), np.full(n, max(int(hi), int(lo) + 1))
    bt = _shape_hours(uniform_int(rng, lo_a, hi_a), lo_a, hi_a - 1)
    atype = rng.choice([MEETING, EMAIL, TASK], n, p=[0.4, 0.4, 0.2])
    meeting = atype == MEETING
    bt = np.where(meeting, _snap_meetings(bt, lo_a, hi_a - 1), bt)
    onboarding = month - s.start_month[sub] < 2
    outcome = np.select(
        [meeting, atype == EMAIL],
        [
            np.where(rng.random(n) < 0.05, NO_SHOW, HELD),
            np.where(rng.random(n) < 0.35, OPENED, SENT),
        ],
        default=COMPLETED,
    )
    subject = np.select(
        [meeting & onboarding, meeting, atype == EMAIL],
        [22, 23, np.where(rng.random(n) < 0.6, 24, 26)],
        default=25,
    )
    chunk = ActivityChunk(
        atype=atype,
        bt=bt,
        owner=s.cs_owner[sub],
        outcome=outcome,
        duration=np.where(meeting, _meeting_minutes(rng, n), -1),
        lead=np.full(n, -1),
        opp=np.full(n, -1),
        company=s.company[sub],
        subject=subject,
    )
    return chunk.select(bt <= cal.bt_end)


def _activity_columns(m: Model, c: ActivityChunk, first_no: int) -> dict[str, pa.Array]:
    order = np.lexsort((c.owner, c.bt))
    c = c.select(order)
    n = len(c.bt)
    opp_no = np.where(c.opp >= 0, m.opp_no[np.maximum(c.opp, 0)], -1)
    account = np.where(c.company >= 0, m.account_no[np.maximum(c.company, 0)], -1)
    return {
        "activity_id": id_column("ACT-", np.arange(first_no, first_no + n), 9),
        "activity_type": label_column(ACTIVITY_TYPES, c.atype),
        "activity_at": timestamp_column(m.cal.to_wall(c.bt)),
        "owner_id": label_column(m.org.user_id, c.owner),
        "outcome": label_column(OUTCOMES, c.outcome),
        "duration_minutes": int_column(c.duration, mask=c.duration < 0),
        "lead_id": id_column("LEAD-", np.where(c.lead >= 0, c.lead + 1, -1), 8),
        "opportunity_id": id_column("OPP-", opp_no, 8),
        "account_id": id_column("ACC-", account, 8),
        "subject": label_column(SUBJECTS, c.subject),
    }


def write_activities(m: Model, landing: Path) -> int:
    """Stream the activities to activities.csv, chunk by chunk."""
    sink = CsvSink(landing / "activities.csv", "activities")
    seed = m.seed

    def emit(chunk: ActivityChunk) -> None:
        sink.write(_activity_columns(m, chunk, sink.rows + 1))

    try:
        for i, lo in enumerate(range(0, len(m.leads), ACTIVITY_CHUNK)):
            hi = min(lo + ACTIVITY_CHUNK, len(m.leads))
            emit(_lead_activities(stream_rng(seed, STREAM_LEAD_ACTIVITIES, i), m, lo, hi))
        for i, lo in enumerate(range(0, len(m.opps), ACTIVITY_CHUNK)):
            hi = min(lo + ACTIVITY_CHUNK, len(m.opps))
            emit(_opp_activities(stream_rng(seed, STREAM_OPP_ACTIVITIES, i), m, lo, hi))
        for month in range(m.cal.n_months):
            emit(_cs_activities(stream_rng(seed, STREAM_CS_ACTIVITIES, month), m, month))
    finally:
        sink.close()
    return sink.rows
