"""Order-book features of one 1-second grid (arrays in, arrays out; numpy, and Numba where a row
reads many columns).

Depth and book-change functions take the levels/fields as a sequence of columns, Arrow (read in
place, chunk by chunk: null = empty level) or 1-d numpy (NaN = empty): a partition has a million
rows, and converting its 30 book columns to float64 first wrote 240 MB of fresh memory.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from transforms.columns import column_chunks


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
    for level in levels:                  # level by level, as the column-wise sum adds them
        at = 0
        for values, validity, offset in column_chunks(level):
            _add_level(out[at:at + len(values)], values, validity, offset)
            at += len(values)
    return out


@nb.njit(cache=True, nogil=True, inline="always")
def _present(values: np.ndarray, validity: np.ndarray, offset: int, j: int) -> bool:
    """Value j is neither null (bit offset + j of an Arrow validity bitmap; an empty bitmap: every
    value valid) nor NaN; the two tests are combined bitwise (`&`), which keeps the loops below
    free of a second branch."""
    b = offset + j
    valid = validity.shape[0] == 0 or (validity[b >> 3] >> (b & 7)) & 1 == 1
    x = values[j]
    return valid & (x == x)


@nb.njit(cache=True, nogil=True)
def _add_level(out: np.ndarray, values: np.ndarray, validity: np.ndarray, offset: int) -> None:
    for j in range(values.shape[0]):
        if _present(values, validity, offset, j):      # null and NaN are an empty level
            out[j] += values[j]


def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / b, np.nan)


def quote_changes(fields, is_pad: np.ndarray, first_of_contract: np.ndarray) -> np.ndarray:
    """How many book fields changed since the previous real snapshot (the message-rate proxy).

    fields: a sequence of columns (prices, quantities, orders of both sides); a padded second
    changed nothing; the first row of a contract counts as 0 (nothing to compare with)."""
    out = np.zeros(len(fields[0]), np.int32)
    for field in fields:
        at, prev, prev_ok = 0, 0.0, False
        for values, validity, offset in column_chunks(field):   # the previous row may end the chunk before
            prev, prev_ok = _count_changes(out[at:at + len(values)], values, validity, offset, at > 0, prev, prev_ok)
            at += len(values)
    out[np.asarray(is_pad, np.bool_) | np.asarray(first_of_contract, np.bool_)] = 0
    return out


@nb.njit(cache=True, nogil=True)
def _count_changes(out: np.ndarray, values: np.ndarray, validity: np.ndarray, offset: int, has_prev: bool,
                   prev: float, prev_ok: bool) -> tuple:
    """out[j] += 1 where the field differs from the row before (empty -> value, value -> empty, or
    another value; null and NaN are both empty); (prev, prev_ok) is the row before this chunk's
    first. Returns this chunk's last row as (value, non-empty)."""
    n = values.shape[0]
    if n == 0:
        return prev, prev_ok
    ok = _present(values, validity, offset, 0)
    if has_prev and (ok != prev_ok or (ok and float(values[0]) != prev)):
        out[0] += 1
    for j in range(1, n):            # each row against the row before it: no loop-carried state
        a, b = _present(values, validity, offset, j - 1), _present(values, validity, offset, j)
        out[j] += (a != b) | (a & b & (values[j] != values[j - 1]))
    return float(values[n - 1]), _present(values, validity, offset, n - 1)
