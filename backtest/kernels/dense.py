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
    arrays of one length."""
    for r in range(i.shape[0]):
        row = out[i[r], c[r]]
        for k in range(len(columns)):
            row[first + k] = columns[k][r]
