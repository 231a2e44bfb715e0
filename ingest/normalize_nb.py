"""Numba kernel for the recorder -> canonical value conversion (int64 columns in, arrays out)."""
from __future__ import annotations

import numba as nb
import numpy as np

from ingest.recorder_format import NULL_INT


@nb.njit(cache=True, nogil=True)
def recorder_values(cols, keep, scale, slot, zero_is_null, level, floor, n_float, n_int):
    """The rows `keep` of the recorder columns `cols` (a tuple of int64 arrays), one pass per column.

    Column j is null where it is SQL NULL, below floor[j], zero when zero_is_null[j], or where its
    depth level is empty (the level's price column cols[level[j]] is zero or NULL; -1 = no level).
    Columns with scale[j] > 1 become float64 value / scale[j] in floats[slot[j]], the others stay
    int64 in ints[slot[j]]; a null value is written as 0. Returns (floats, ints, null)."""
    m = keep.shape[0]
    floats = np.empty((n_float, m), np.float64)
    ints = np.empty((n_int, m), np.int64)
    null = np.empty((len(cols), m), np.bool_)
    for j in range(len(cols)):
        col = cols[j]
        lev = level[j]
        for r in range(m):
            i = keep[r]
            v = col[i]
            bad = v == NULL_INT or v < floor[j] or (zero_is_null[j] and v == 0)
            if lev >= 0:
                p = cols[lev][i]
                bad = bad or p == 0 or p == NULL_INT
            null[j, r] = bad
            if bad:
                v = 0
            if scale[j] > 1:
                floats[slot[j], r] = v / scale[j]
            else:
                ints[slot[j], r] = v
    return floats, ints, null
