"""Order-book features of one 1-second grid (arrays in, arrays out; numpy, and Numba where a row
reads many columns).

Depth and book-change functions take the levels/fields as a sequence of 1-d float64 columns (NaN =
empty level): a partition has a million rows, and stacking 30 columns would copy 240 MB; the Numba
loops read the columns side by side in one pass.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from transforms.columns import float_columns


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
    return _depth_sum(float_columns(levels))


@nb.njit(cache=True, nogil=True)
def _depth_sum(levels: tuple) -> np.ndarray:
    out = np.zeros(levels[0].shape[0])
    for x in levels:                      # level by level, as the column-wise sum adds them
        for i in range(out.shape[0]):
            if not np.isnan(x[i]):
                out[i] += x[i]
    return out


def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / b, np.nan)


def quote_changes(fields, is_pad: np.ndarray, first_of_contract: np.ndarray) -> np.ndarray:
    """How many book fields changed since the previous real snapshot (the message-rate proxy).

    fields: a sequence of columns (prices, quantities, orders of both sides); a padded second
    changed nothing; the first row of a contract counts as 0 (nothing to compare with)."""
    return _quote_changes(float_columns(fields), np.asarray(is_pad, np.bool_),
                          np.asarray(first_of_contract, np.bool_))


@nb.njit(cache=True, nogil=True)
def _quote_changes(fields: tuple, is_pad: np.ndarray, first: np.ndarray) -> np.ndarray:
    n = fields[0].shape[0]
    out = np.zeros(n, np.int32)
    for x in fields:                      # column by column: iterating a tuple unrolls, indexing it does not
        for i in range(1, n):
            if x[i] != x[i - 1] and not (np.isnan(x[i]) and np.isnan(x[i - 1])):
                out[i] += 1
    for i in range(n):
        if is_pad[i] or first[i]:
            out[i] = 0
    return out
