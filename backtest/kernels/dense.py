"""Long rows -> dense [second, contract] matrices (nopython, nogil so a read-ahead thread overlaps).

The grid and feature tables hold one row per (contract, second), contract by contract; the engine
wants matrices indexed [second, contract, field]. Numpy's fancy assignment does this at ~20 ns per
cell through a stacked temporary; these loops write each value once, in place, and write all fields
of a row together so each destination cache line is touched once.
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def scatter(out: np.ndarray, i: np.ndarray, c: np.ndarray, values: np.ndarray) -> None:
    """out[i[r], c[r]] = values[r] for a 2-d out (values of any numeric dtype; NaN stays NaN)."""
    for r in range(i.shape[0]):
        out[i[r], c[r]] = values[r]


@nb.njit(cache=True, nogil=True)
def scatter_fields(out: np.ndarray, first: int, i: np.ndarray, c: np.ndarray, columns: tuple) -> None:
    """out[i[r], c[r], first + k] = columns[k][r] for a 3-d out; `columns` is a tuple of float64
    arrays of one length.

    Rows go in blocks: every column writes the block's rows before the next block starts, so the
    block's destination cache lines stay hot across the columns, and the tuple is iterated (one
    lookup per column and block) rather than indexed per value, which Numba does slowly."""
    n = i.shape[0]
    for r0 in range(0, n, _BLOCK):
        r1 = min(n, r0 + _BLOCK)
        k = first
        for col in columns:
            for r in range(r0, r1):
                out[i[r], c[r], k] = col[r]
            k += 1


@nb.njit(cache=True, nogil=True)
def gather_column(out: np.ndarray, row: np.ndarray, values: np.ndarray, validity: np.ndarray, offset: int) -> None:
    """out[i, c] = values[row[i, c]] as float64; NaN where the row is past the end (no row) or its
    bit in the Arrow `validity` bitmap (from bit `offset`; empty = all valid) is clear.

    Reads the column's own buffers (any numeric dtype), so no float64 copy is made first. The
    dense side is written in order and each contract's rows are read as one forward stream: a
    scatter from rows ordered contract by contract would write a new cache line per value."""
    S, C = row.shape
    n = values.shape[0]
    check = validity.shape[0] > 0
    for i in range(S):
        for c in range(C):
            r = row[i, c]
            b = offset + r
            if r < n and (not check or (validity[b >> 3] >> (b & 7)) & 1):
                out[i, c] = values[r]
            else:
                out[i, c] = np.nan


@nb.njit(cache=True, nogil=True)
def index_of_second(t_s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Position of each wall second `t` in the sorted session grid `t_s` (-1 when not on it), by a
    lookup table over the grid's span: a gather instead of a binary search per row."""
    out = np.full(t.shape[0], -1, np.int64)
    if t_s.shape[0] == 0:
        return out
    t0 = t_s[0]
    lut = np.full(t_s[-1] - t0 + 1, -1, np.int64)
    for k in range(t_s.shape[0]):
        lut[t_s[k] - t0] = k
    for r in range(t.shape[0]):
        d = t[r] - t0
        if 0 <= d < lut.shape[0]:
            out[r] = lut[d]
    return out


_BLOCK = 256
