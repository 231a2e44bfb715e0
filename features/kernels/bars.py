"""Kernels on minute bars built from the 1-second grid, and the opening range (nopython).

No look-ahead: a minute bar is used only from the last second of its minute on; the opening range
is published only once its window has closed.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def atr_minutes(t: np.ndarray, price: np.ndarray, periods: int) -> np.ndarray:
    """Wilder ATR(periods) of 1-minute bars (minute = floor(t / 60)), published at each second from
    the close of the bar (second :59) on. The first ATR is the mean of the first `periods` true
    ranges; then atr = (atr * (n - 1) + tr) / n. True range of the first bar is high - low."""
    n = t.shape[0]
    out = np.full(n, np.nan)
    cur_min = -1
    hi = lo = close = np.nan
    prev_close = np.nan
    trs = 0
    acc = 0.0
    atr = np.nan
    for i in range(n):
        m = t[i] // 60
        if m != cur_min:
            cur_min = m
            hi = lo = close = np.nan
        p = price[i]
        if not math.isnan(p):
            hi = p if math.isnan(hi) else max(hi, p)
            lo = p if math.isnan(lo) else min(lo, p)
            close = p
        last_second = t[i] % 60 == 59 or (i + 1 < n and t[i + 1] // 60 != m)
        if last_second and not math.isnan(hi):
            tr = hi - lo
            if not math.isnan(prev_close):
                tr = max(tr, abs(hi - prev_close), abs(lo - prev_close))
            prev_close = close
            trs += 1
            if trs <= periods:
                acc += tr
                if trs == periods:
                    atr = acc / periods
            else:
                atr = (atr * (periods - 1) + tr) / periods
        out[i] = atr
    return out


@nb.njit(cache=True, nogil=True)
def opening_range(t: np.ndarray, price: np.ndarray, start_s: int, end_s: int) -> tuple:
    """High and low of price over [start_s, end_s) (wall seconds), published from end_s on."""
    n = t.shape[0]
    hi_out = np.full(n, np.nan)
    lo_out = np.full(n, np.nan)
    hi = lo = np.nan
    for i in range(n):
        if start_s <= t[i] < end_s and not math.isnan(price[i]):
            hi = price[i] if math.isnan(hi) else max(hi, price[i])
            lo = price[i] if math.isnan(lo) else min(lo, price[i])
        if t[i] >= end_s:
            hi_out[i] = hi
            lo_out[i] = lo
    return hi_out, lo_out
