"""Order-book features of one 1-second grid (vectorised numpy: arrays in, arrays out).

Depth and book-change functions take the levels/fields as a sequence of 1-d float64 columns (NaN =
empty level): a partition has a million rows, and stacking 30 columns would copy 240 MB.
"""
from __future__ import annotations

import numpy as np


def mid_spread(bid0: np.ndarray, ask0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mid and spread of the touch; NaN unless both sides are quoted."""
    both = ~np.isnan(bid0) & ~np.isnan(ask0)
    mid = np.where(both, (bid0 + ask0) / 2, np.nan)
    return mid, np.where(both, ask0 - bid0, np.nan)


def microprice(bid0: np.ndarray, ask0: np.ndarray, bq0: np.ndarray, aq0: np.ndarray) -> np.ndarray:
    """Size-weighted touch price: leans toward the side with less queue (the side about to move)."""
    tot = bq0 + aq0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, (bid0 * aq0 + ask0 * bq0) / tot, np.nan)


def imbalance(bq: np.ndarray, aq: np.ndarray) -> np.ndarray:
    """(bid - ask) / (bid + ask) in [-1, 1]; NaN when both are empty."""
    tot = bq + aq
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, (bq - aq) / tot, np.nan)


def depth_sum(levels) -> np.ndarray:
    """Sum over the levels (a sequence of columns), empty levels as 0 (all-empty -> 0)."""
    out = np.zeros(len(levels[0]))
    for x in levels:
        out += np.where(np.isnan(x), 0.0, x)
    return out


def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / b, np.nan)


def quote_changes(fields, is_pad: np.ndarray, first_of_contract: np.ndarray) -> np.ndarray:
    """How many book fields changed since the previous real snapshot (the message-rate proxy).

    fields: a sequence of columns (prices, quantities, orders of both sides); a padded second
    changed nothing; the first row of a contract counts as 0 (nothing to compare with)."""
    n = len(fields[0])
    out = np.zeros(n, np.int32)
    if n < 2:
        return out
    for x in fields:
        prev, cur = x[:-1], x[1:]
        out[1:] += (cur != prev) & ~(np.isnan(prev) & np.isnan(cur))
    out[is_pad | first_of_contract] = 0
    return out
