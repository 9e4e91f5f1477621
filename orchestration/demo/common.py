"""Time units, random streams and numeric helpers shared by every part of the generator."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

DAY = 86_400
WORK_START = 9 * 3600  # 9:00
WORK_SECONDS = 10 * 3600  # 9:00-19:00
NEVER = np.iinfo(np.int64).max // 4
CURRENCY = "JPY"

GROWTH_PER_YEAR = 1.25
CARRY_OVER_DAYS = 120  # open deals at the start were created in the 120 days before it

# Random streams: each part of the model draws from its own stream.
STREAM_ORG, STREAM_LEADS, STREAM_COMPANIES = 1, 2, 3
STREAM_OPPS, STREAM_SUBS, STREAM_CONTACTS = 4, 5, 6
STREAM_LEAD_ACTIVITIES, STREAM_OPP_ACTIVITIES, STREAM_CS_ACTIVITIES = 7, 8, 9
STREAM_SPEND, STREAM_TARGETS = 10, 11

EPOCH = date(1970, 1, 1)


def stream_rng(seed: int, *stream: int) -> np.random.Generator:
    """An independent random generator for one part of the model."""
    return np.random.default_rng([seed, *stream])


def epoch_day(d: date) -> int:
    return (d - EPOCH).days


def abs_months(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of epoch days."""
    return (
        np.asarray(days, dtype=np.int64)
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype(np.int64)
    )


def month_first_day(months_abs: np.ndarray | int) -> np.ndarray:
    """Epoch day of the first day of months given as months since 1970-01."""
    m = np.asarray(months_abs, dtype=np.int64)
    return m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def lognormal(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, size: int
) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, size)


def uniform_int(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Uniform integers in [lo, hi) element-wise (hi > lo)."""
    return lo + (rng.random(len(lo)) * (hi - lo)).astype(np.int64)


def repeat_index(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per parent: the parent index of each child and the child's position."""
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(len(parent)) - np.repeat(starts, counts)
    return parent, position


def rank_ids(keys: Sequence[np.ndarray]) -> np.ndarray:
    """1-based ids in the order of the keys (last key is primary, as in np.lexsort)."""
    order = np.lexsort(keys)
    ids = np.empty(len(order), dtype=np.int64)
    ids[order] = np.arange(1, len(order) + 1)
    return ids


def monthly_counts(
    month: np.ndarray, n_months: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Count (or sum of weights) per data month 0..n_months-1; other months are left out."""
    ok = (month >= 0) & (month < n_months)
    w = None if weights is None else weights[ok]
    return np.bincount(month[ok], weights=w, minlength=n_months)[:n_months]
