"""Per-contract drivers of the time-window families (nopython, nogil): one call per partition.

The grid holds the contracts one after another (`starts` are their row offsets). Each driver runs
the window kernels of `rolling` and `bars` on every contract's slice and writes the results into
rows of one output matrix, so a million-row partition costs no Python loop and no temporaries.
Row order of each matrix is the matching *_COLUMNS tuple.
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


@nb.njit(cache=True, nogil=True)
def trend_by_contract(t: np.ndarray, starts: np.ndarray, price: np.ndarray, open_s: int) -> np.ndarray:
    """[len(TREND_COLUMNS), rows]: EMAs and slopes (rupees/s), sigma 15 min, ATR of 1-minute bars,
    ROC 10/30/60 s, 2- and 5-minute opening ranges."""
    out = np.empty((len(TREND_COLUMNS), t.shape[0]))
    for k in range(starts.shape[0] - 1):
        a, b = starts[k], starts[k + 1]
        ts, p = t[a:b], price[a:b]
        e6, e18 = ema(p, 6), ema(p, 18)
        out[0, a:b], out[1, a:b] = e6, e18
        out[2, a:b] = e6 - lag_value(ts, e6, 1)
        out[3, a:b] = e18 - lag_value(ts, e18, 1)
        out[4, a:b] = rolling_std(ts, p - lag_value(ts, p, 1), 900, 30)
        out[5, a:b] = atr_minutes(ts, p, 14)
        out[6, a:b] = _roc(p, lag_value(ts, p, 10))
        out[7, a:b] = _roc(p, lag_value(ts, p, 30))
        out[8, a:b] = _roc(p, lag_value(ts, p, 60))
        out[9, a:b], out[10, a:b] = opening_range(ts, p, open_s, open_s + 120)
        out[11, a:b], out[12, a:b] = opening_range(ts, p, open_s, open_s + 300)
    return out


@nb.njit(cache=True, nogil=True)
def flow_by_contract(t: np.ndarray, starts: np.ndarray, price: np.ndarray, vol: np.ndarray,
                     is_pad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """([len(FLOW_COLUMNS), rows] float64, [len(STREAK_COLUMNS), rows] int32): volume windows and
    per-second baselines, session VWAP, real ticks per minute, higher-high / lower-low streaks."""
    out = np.empty((len(FLOW_COLUMNS), t.shape[0]))
    streaks = np.empty((len(STREAK_COLUMNS), t.shape[0]), np.int32)
    for k in range(starts.shape[0] - 1):
        a, b = starts[k], starts[k + 1]
        ts, v, p = t[a:b], vol[a:b], price[a:b]
        out[0, a:b] = rolling_sum(ts, v, 10)
        out[1, a:b] = rolling_sum(ts, v, 30)
        out[2, a:b] = rolling_sum(ts, v, 60)
        out[3, a:b] = rolling_sum(ts, v, 300)
        out[4, a:b] = rolling_sum(ts, v, 120) / 120.0
        out[5, a:b] = out[3, a:b] / 300.0
        out[6, a:b] = session_vwap(p, v)
        out[7, a:b] = rolling_count(ts, ~is_pad[a:b], 60)
        streaks[0, a:b] = streak(p, True)
        streaks[1, a:b] = streak(p, False)
    return out, streaks
