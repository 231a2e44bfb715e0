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
    window = np.empty(S, np.int64)      # a monotonic deque of the window's seconds: its minimum first
    for c in range(C):
        head, tail = 0, 0
        for t in range(S):
            a = max(0, t - lookback)
            while head < tail and window[head] < a:
                head += 1
            p = ltp[t, c]
            # a breakout needs a rising tick and p >= neckline + offset >= the window's low + min_height +
            # offset (the pattern's bottom is one of the window's prices): most seconds end here
            if (t >= 3 and p == p and p > ltp[t - 1, c] and head < tail
                    and p >= ltp[window[head], c] + min_height + offset - 3e-9):
                _breakout(ltp, c, t, a, tol, min_height, offset, low1, since1, neck, height)
            if p == p:
                while head < tail and ltp[window[tail - 1], c] >= p:
                    tail -= 1
                window[tail] = t
                tail += 1
    return neck, height


@nb.njit(cache=True, nogil=True)
def _breakout(ltp, c, t, a, tol, min_height, offset, low1, since1, neck, height):
    """The best qualifying peak of the window [a, t-1] for the LTP at t, written to neck/height."""
    p, n = ltp[t, c], t - a
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


@nb.njit(cache=True, nogil=True)
def speed_line_break(t_s: np.ndarray, ltp: np.ndarray, touch: float, brk: float) -> np.ndarray:
    """[S, C] the line's level at the second its support breaks, NaN elsewhere (C-12).

    1-minute bars of the LTP (minute = t_s // 60); a bar is a pivot low when its low is under both
    neighbours' lows, known once the next bar has closed. The speed line runs through the last two
    pivot lows (each at the second its low printed) when the second is higher (a rising line),
    extended to now. A touch: the LTP within `touch` above the line or `brk` below it; the break:
    a later LTP at least `brk` under it. Once per line (a new pivot draws a new line)."""
    S, C = ltp.shape
    out = np.full((S, C), np.nan)
    for c in range(C):
        cur = -1
        lo, lo_t = np.inf, 0
        prev_lo = np.full(3, np.nan)                   # the last three closed bars' lows, oldest first
        prev_t = np.zeros(3, np.int64)
        p1, p1_t, p2, p2_t = np.nan, 0, np.nan, 0
        touched, fired = False, False
        for i in range(S):
            m = t_s[i] // 60
            if m != cur:
                if cur >= 0 and lo < np.inf:
                    prev_lo[0], prev_lo[1], prev_lo[2] = prev_lo[1], prev_lo[2], lo
                    prev_t[0], prev_t[1], prev_t[2] = prev_t[1], prev_t[2], lo_t
                    if prev_lo[1] < prev_lo[0] and prev_lo[1] < prev_lo[2]:
                        p1, p1_t, p2, p2_t = p2, p2_t, prev_lo[1], prev_t[1]
                        touched, fired = False, False
                cur, lo = m, np.inf
            v = ltp[i, c]
            if not (v == v):
                continue
            if p1 == p1 and p2 > p1 and not fired:
                line = p2 + (p2 - p1) / (p2_t - p1_t) * (t_s[i] - p2_t)
                if touched and v <= line - brk + 1e-9:
                    out[i, c] = line
                    fired = True
                elif line - brk + 1e-9 < v <= line + touch + 1e-9:
                    touched = True
            if v < lo:
                lo, lo_t = v, t_s[i]
    return out
