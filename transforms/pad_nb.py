"""Numba kernels for the padded 1-second grid (int64 seconds in, index arrays out; no datetime64)."""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def grid_source_rows(real_s: np.ndarray, seg_lo: np.ndarray, seg_hi: np.ndarray, max_age: int):
    """For one contract's real row seconds (sorted, unique) and the day's session segments
    [seg_lo[k], seg_hi[k]] (inclusive), return for every grid second from the first real row on:
    (grid second, index of the real row it shows or -1 when older than max_age, is_pad, pad_age).

    The grid never starts before the contract's first real row; rows of the grid are the session
    seconds only (between segments is not a gap to pad).
    """
    n_real = real_s.shape[0]
    if n_real == 0:
        empty = np.empty(0, np.int64)
        return empty, empty, np.empty(0, np.bool_), np.empty(0, np.int32)
    first = real_s[0]
    total = 0
    for k in range(seg_lo.shape[0]):
        lo = max(seg_lo[k], first)
        if seg_hi[k] >= lo:
            total += seg_hi[k] - lo + 1
    sec = np.empty(total, np.int64)
    src = np.empty(total, np.int64)
    pad = np.empty(total, np.bool_)
    age = np.empty(total, np.int32)
    j = 0      # next real row not yet shown
    last = -1  # index of the last real row at or before the current second
    out = 0
    for k in range(seg_lo.shape[0]):
        lo = max(seg_lo[k], first)
        for s in range(lo, seg_hi[k] + 1):
            while j < n_real and real_s[j] <= s:
                last = j
                j += 1
            sec[out] = s
            is_real = last >= 0 and real_s[last] == s
            a = s - real_s[last] if last >= 0 else 0
            pad[out] = not is_real
            age[out] = a
            src[out] = last if (last >= 0 and a <= max_age) else -1
            out += 1
    return sec, src, pad, age
