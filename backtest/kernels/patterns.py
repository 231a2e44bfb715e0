"""Chart-pattern detectors on 1-second LTP paths (nopython), for the catalogue's C-9 (micro double
bottom). Arrays in, arrays out; each column is one contract. A pattern is reported at the second
its breakout happens, from the seconds before it only (no look-ahead).
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def double_bottom(ltp: np.ndarray, lookback: int, tol: float, min_height: float, offset: float):
    """(neckline, height) [S, C], NaN except at breakout seconds.

    At second t, over the window [t - lookback, t - 1]: a first low L1 (the lowest before the peak),
    a peak N (the neckline: at least every price from L1 to it and every price after it), a second
    low L2 after the peak (the lowest after it) with |L1 - L2| <= tol and N - min(L1, L2) >=
    min_height; the breakout is the first second whose LTP reaches N + offset. Of several peaks that
    qualify, the highest (the latest of equals). height = N - min(L1, L2)."""
    S, C = ltp.shape
    neck = np.full((S, C), np.nan)
    height = np.full((S, C), np.nan)
    low1 = np.empty(lookback + 1)
    since1 = np.empty(lookback + 1)
    for c in range(C):
        for t in range(3, S):
            p = ltp[t, c]
            if not (p == p) or not (p > ltp[t - 1, c]):          # NaN, or not a rising tick: no breakout
                continue
            a = max(0, t - lookback)
            n = t - a                                            # window [a, t-1]
            # forward: for each h, the lowest price before h (last occurrence) and the highest since it
            lo, hi = np.inf, -np.inf
            for k in range(n):
                v = ltp[a + k, c]
                low1[k], since1[k] = lo, hi                      # over [a, a + k - 1]
                if v <= lo:
                    lo, hi = v, v
                elif v > hi:
                    hi = v
            # backward: the lowest and highest price after h; pick the best qualifying peak
            lo2, hi2 = np.inf, -np.inf
            best_n, best_h = -np.inf, np.nan
            for k in range(n - 1, 0, -1):
                v = ltp[a + k, c]
                if k < n - 1 and v == v and low1[k] < np.inf and since1[k] <= v and hi2 <= v:
                    bottom = min(low1[k], lo2)
                    if (abs(low1[k] - lo2) <= tol + 1e-9 and v - bottom >= min_height - 1e-9
                            and p >= v + offset - 1e-9 and v > best_n):
                        best_n, best_h = v, v - bottom
                if v < lo2:
                    lo2 = v
                if v > hi2:
                    hi2 = v
            if best_n > -np.inf:
                neck[t, c], height[t, c] = best_n, best_h
    return neck, height
