"""Per-contract drivers of the time-window families (nopython, nogil): one call per partition.

The grid holds the contracts one after another (`starts` are their row offsets). Each driver runs
the window kernels of `rolling` and `bars` on every contract's slice and writes the results into
rows of one output matrix, so a million-row partition costs no Python loop and no temporaries.
Row order of each matrix is the matching *_COLUMNS tuple; `windows` gives each column's window in
seconds in the same order (the registry's `window_s`, features.build.windows: declared once, in
warehouse/data/features.csv).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from features.kernels.bars import atr_minutes, opening_range
from features.kernels.rolling import ema, lag_value, rolling_count, rolling_std, rolling_sum, session_vwap, streak

TREND_COLUMNS = ("ema6", "ema18", "ema6_slope", "ema18_slope", "sigma_15m", "atr_1m", "roc_10s", "roc_30s",
                 "roc_60s", "or2_high", "or2_low", "or5_high", "or5_low")
FLOW_COLUMNS = ("vol_10s", "vol_30s", "vol_60s", "vol_5m", "vol_avg_2m", "vol_avg_5m", "vwap", "tick_velocity")
STREAK_COLUMNS = ("higher_highs", "lower_lows")


@nb.njit(cache=True, nogil=True)
def _roc(p: np.ndarray, lagged: np.ndarray) -> np.ndarray:
    """Percent change from the lagged price; NaN where there is none (or it is not positive)."""
    out = np.full(p.shape[0], np.nan)
    for i in range(p.shape[0]):
        if lagged[i] > 0:
            out[i] = (p[i] / lagged[i] - 1.0) * 100.0
    return out


SIGMA_MIN_CHANGES = 30     # sigma_15m needs this many 1-second changes in its window


@nb.njit(cache=True, nogil=True)
def trend_by_contract(t: np.ndarray, starts: np.ndarray, price: np.ndarray, open_s: int,
                      windows: np.ndarray) -> np.ndarray:
    """[len(TREND_COLUMNS), rows]: EMAs (6 and 18 periods) and their slopes over windows[2], [3]
    seconds (rupees/s), sigma over windows[4], ATR(14) of 1-minute bars, ROC over windows[6..8],
    the opening ranges of the first windows[9] and windows[11] seconds."""
    out = np.empty((len(TREND_COLUMNS), t.shape[0]))
    for k in range(starts.shape[0] - 1):
        a, b = starts[k], starts[k + 1]
        ts, p = t[a:b], price[a:b]
        e6, e18 = ema(p, 6), ema(p, 18)
        out[0, a:b], out[1, a:b] = e6, e18
        out[2, a:b] = e6 - lag_value(ts, e6, windows[2])
        out[3, a:b] = e18 - lag_value(ts, e18, windows[3])
        out[4, a:b] = rolling_std(ts, p - lag_value(ts, p, 1), windows[4], SIGMA_MIN_CHANGES)
        out[5, a:b] = atr_minutes(ts, p, 14)
        out[6, a:b] = _roc(p, lag_value(ts, p, windows[6]))
        out[7, a:b] = _roc(p, lag_value(ts, p, windows[7]))
        out[8, a:b] = _roc(p, lag_value(ts, p, windows[8]))
        out[9, a:b], out[10, a:b] = opening_range(ts, p, open_s, open_s + windows[9])
        out[11, a:b], out[12, a:b] = opening_range(ts, p, open_s, open_s + windows[11])
    return out


@nb.njit(cache=True, nogil=True)
def flow_by_contract(t: np.ndarray, starts: np.ndarray, price: np.ndarray, vol: np.ndarray,
                     is_pad: np.ndarray, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """([len(FLOW_COLUMNS), rows] float64, [len(STREAK_COLUMNS), rows] int32): volume over
    windows[0..3], per-second volume averaged over windows[4], [5], session VWAP, real ticks over
    windows[7], higher-high / lower-low streaks."""
    out = np.empty((len(FLOW_COLUMNS), t.shape[0]))
    streaks = np.empty((len(STREAK_COLUMNS), t.shape[0]), np.int32)
    for k in range(starts.shape[0] - 1):
        a, b = starts[k], starts[k + 1]
        ts, v, p = t[a:b], vol[a:b], price[a:b]
        for j in range(4):
            out[j, a:b] = rolling_sum(ts, v, windows[j])
        out[4, a:b] = rolling_sum(ts, v, windows[4]) / float(windows[4])
        # the 5-minute average is the 5-minute volume's (computed once) when the windows agree
        out[5, a:b] = (out[3, a:b] if windows[5] == windows[3] else rolling_sum(ts, v, windows[5])) / float(windows[5])
        out[6, a:b] = session_vwap(p, v)
        out[7, a:b] = rolling_count(ts, ~is_pad[a:b], windows[7])
        streaks[0, a:b] = streak(p, True)
        streaks[1, a:b] = streak(p, False)
    return out, streaks
