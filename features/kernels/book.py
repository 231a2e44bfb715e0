"""Order-book features of one 1-second grid (vectorised numpy: arrays in, arrays out).

bid/ask arrays are (n, 5) float64 (NaN = empty level); quantities and orders likewise.
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


def depth_sum(levels: np.ndarray) -> np.ndarray:
    """Sum over the 5 levels, empty levels as 0 (all-empty -> 0)."""
    return np.nansum(levels, axis=1)


def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / b, np.nan)


def quote_changes(book: np.ndarray, is_pad: np.ndarray, first_of_contract: np.ndarray) -> np.ndarray:
    """How many book fields changed since the previous real snapshot (the message-rate proxy).

    book: (n, k) fields (prices, quantities, orders of both sides); a padded second changed nothing;
    the first row of a contract counts as 0 (nothing to compare with)."""
    n = book.shape[0]
    out = np.zeros(n, np.int32)
    if n < 2:
        return out
    prev = book[:-1]
    cur = book[1:]
    both_nan = np.isnan(prev) & np.isnan(cur)
    changed = (cur != prev) & ~both_nan
    out[1:] = changed.sum(axis=1)
    out[is_pad | first_of_contract] = 0
    return out
