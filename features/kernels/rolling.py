"""Time-window kernels over one contract's 1-second grid (arrays in, arrays out, nopython).

Windows are on time, not row counts: a window of W seconds at second t covers (t - W, t]. Inputs
are int64 wall seconds `t` (sorted, unique) and float64 values; NaN values are skipped. A window
is *invalid* when it touches a feed gap longer than itself (a run of padded seconds of more than W
seconds): a 30-second volume that overlaps a 10-minute hole would read as zero, not as a signal.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def pad_run_length(is_pad: np.ndarray) -> np.ndarray:
    """For each second, the length of the run of padded seconds it belongs to (0 on real seconds)."""
    n = is_pad.shape[0]
    out = np.zeros(n, np.int64)
    i = 0
    while i < n:
        if is_pad[i]:
            j = i
            while j < n and is_pad[j]:
                j += 1
            for k in range(i, j):
                out[k] = j - i
            i = j
        else:
            i += 1
    return out


@nb.njit(cache=True, nogil=True)
def window_valid(t: np.ndarray, run_len: np.ndarray, window_s: int) -> np.ndarray:
    """True where (t - W, t] touches no padded run longer than W seconds."""
    n = t.shape[0]
    out = np.empty(n, np.bool_)
    last_bad = -(1 << 62)
    for i in range(n):
        if run_len[i] > window_s:
            last_bad = t[i]
        out[i] = t[i] - last_bad >= window_s
    return out


@nb.njit(cache=True, nogil=True)
def rolling_sum(t: np.ndarray, x: np.ndarray, window_s: int) -> np.ndarray:
    """Sum of non-NaN x over (t - W, t]."""
    n = t.shape[0]
    out = np.empty(n, np.float64)
    acc = 0.0
    lo = 0
    for i in range(n):
        if not math.isnan(x[i]):
            acc += x[i]
        while t[lo] <= t[i] - window_s:
            if not math.isnan(x[lo]):
                acc -= x[lo]
            lo += 1
        out[i] = acc
    return out


@nb.njit(cache=True, nogil=True)
def rolling_count(t: np.ndarray, flag: np.ndarray, window_s: int) -> np.ndarray:
    """Number of True flags over (t - W, t] (e.g. real ticks per minute: tick velocity)."""
    n = t.shape[0]
    out = np.empty(n, np.float64)
    acc = 0
    lo = 0
    for i in range(n):
        acc += 1 if flag[i] else 0
        while t[lo] <= t[i] - window_s:
            acc -= 1 if flag[lo] else 0
            lo += 1
        out[i] = acc
    return out


@nb.njit(cache=True, nogil=True)
def rolling_std(t: np.ndarray, x: np.ndarray, window_s: int, min_count: int) -> np.ndarray:
    """Sample standard deviation of non-NaN x over (t - W, t]; NaN with fewer than min_count values.

    Sums are re-centred on the first value to keep the running variance well conditioned."""
    n = t.shape[0]
    out = np.full(n, np.nan)
    s1 = 0.0
    s2 = 0.0
    cnt = 0
    lo = 0
    shift = np.nan
    for i in range(n):
        v = x[i]
        if not math.isnan(v):
            if math.isnan(shift):
                shift = v
            d = v - shift
            s1 += d
            s2 += d * d
            cnt += 1
        while t[lo] <= t[i] - window_s:
            w = x[lo]
            if not math.isnan(w):
                d = w - shift
                s1 -= d
                s2 -= d * d
                cnt -= 1
            lo += 1
        if cnt >= min_count and cnt > 1:
            var = (s2 - s1 * s1 / cnt) / (cnt - 1)
            out[i] = math.sqrt(var) if var > 0.0 else 0.0
    return out


@nb.njit(cache=True, nogil=True)
def lag_value(t: np.ndarray, x: np.ndarray, lag_s: int) -> np.ndarray:
    """x at the latest second <= t - lag (NaN when the grid does not reach that far back)."""
    n = t.shape[0]
    out = np.full(n, np.nan)
    j = 0
    for i in range(n):
        target = t[i] - lag_s
        while j + 1 <= i and t[j + 1] <= target:
            j += 1
        if t[j] <= target:
            out[i] = x[j]
    return out


@nb.njit(cache=True, nogil=True)
def ema(x: np.ndarray, n_periods: int) -> np.ndarray:
    """EMA with alpha = 2/(n+1), seeded with the first non-NaN value, updated every grid second
    (a NaN second carries the EMA unchanged)."""
    alpha = 2.0 / (n_periods + 1.0)
    out = np.full(x.shape[0], np.nan)
    cur = np.nan
    for i in range(x.shape[0]):
        v = x[i]
        if not math.isnan(v):
            cur = v if math.isnan(cur) else cur + alpha * (v - cur)
        out[i] = cur
    return out


@nb.njit(cache=True, nogil=True)
def session_vwap(price: np.ndarray, qty: np.ndarray) -> np.ndarray:
    """Cumulative sum(price * qty) / sum(qty) from the first row (NaN until a trade)."""
    out = np.full(price.shape[0], np.nan)
    pv = 0.0
    q = 0.0
    for i in range(price.shape[0]):
        if not math.isnan(price[i]) and not math.isnan(qty[i]) and qty[i] > 0:
            pv += price[i] * qty[i]
            q += qty[i]
        if q > 0:
            out[i] = pv / q
    return out


@nb.njit(cache=True, nogil=True)
def streak(x: np.ndarray, up: bool) -> np.ndarray:
    """Consecutive higher (up) or lower highs of x between real changes: a new high increments, an
    equal value keeps the count, a reversal resets to 0."""
    out = np.zeros(x.shape[0], np.int32)
    prev = np.nan
    cnt = 0
    for i in range(x.shape[0]):
        v = x[i]
        if not math.isnan(v) and not math.isnan(prev):
            if (v > prev and up) or (v < prev and not up):
                cnt += 1
            elif v != prev:
                cnt = 0
        if not math.isnan(v):
            prev = v
        out[i] = cnt
    return out


@nb.njit(cache=True, nogil=True)
def rolling_slope(t: np.ndarray, x: np.ndarray, y: np.ndarray, window_s: int, min_count: int) -> np.ndarray:
    """OLS slope of y on x over the pairs of (t - W, t] where both are finite: sum((x - mx)(y - my)) /
    sum((x - mx)^2), two passes over each window (exact to rounding, no running sums); NaN with
    fewer than min_count pairs or no spread in x."""
    n = t.shape[0]
    out = np.full(n, np.nan)
    lo = 0
    for i in range(n):
        while t[lo] <= t[i] - window_s:
            lo += 1
        cnt = 0
        sx = 0.0
        sy = 0.0
        for j in range(lo, i + 1):
            if not (math.isnan(x[j]) or math.isnan(y[j])):
                cnt += 1
                sx += x[j]
                sy += y[j]
        if cnt < min_count or cnt < 2:
            continue
        mx = sx / cnt
        my = sy / cnt
        sxy = 0.0
        sxx = 0.0
        for j in range(lo, i + 1):
            if not (math.isnan(x[j]) or math.isnan(y[j])):
                sxy += (x[j] - mx) * (y[j] - my)
                sxx += (x[j] - mx) * (x[j] - mx)
        if sxx > 0.0:
            out[i] = sxy / sxx
    return out
