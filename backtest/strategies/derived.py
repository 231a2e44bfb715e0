"""Per-second values the catalogue's signals derive from stored features, in numpy, per day.

Each is a short function over one day's [S] or [S, C] arrays (the session grid: one row per
second), named for what it is; tests/test_catalogue_derived.py checks each against a plain-Python
recomputation. Windows count grid seconds (a padded second is a row like any other: its value is
the last real quote, so a window never reaches across a gap the grid does not hold).
Values of the index or the chain that several strategies read (5-minute candle streak, round-number
distance, parity deviation, skew, term-structure spread, max-OI strike, basis) are registry features
of features_spot (features/chain.py), computed once when features materialise, never here.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np
import pandas as pd


def lag(x: np.ndarray, n: int) -> np.ndarray:
    """x n rows back (NaN for the first n rows)."""
    out = np.full(x.shape, np.nan)
    if n < len(x):
        out[n:] = x[:len(x) - n] if n else x
    return out


def _rolling(x: np.ndarray, n: int, how: str) -> np.ndarray:
    frame = pd.DataFrame(x.reshape(len(x), -1))
    out = getattr(frame.rolling(n, min_periods=n), how)().to_numpy()
    return out.reshape(x.shape)


@nb.njit(cache=True)
def _extreme(x: np.ndarray, n: int, largest: bool) -> np.ndarray:
    """max (or min) of each column over rows (t - n, t], NaN until n rows exist or while the window
    holds a NaN or an infinity (pandas' rolling(n, min_periods=n), which reads infinities as NaN):
    a monotonic queue of row numbers per column, O(rows) instead of O(rows x n)."""
    S, K = x.shape
    out = np.full((S, K), np.nan)
    queue = np.empty(max(S, 1), np.int64)
    for k in range(K):
        head, tail, bad = 0, 0, -1        # bad: the last row holding a NaN or an infinity
        for t in range(S):
            v = x[t, k]
            if not math.isfinite(v):
                bad, head, tail = t, 0, 0
            else:
                while tail > head and ((x[queue[tail - 1], k] <= v) if largest else (x[queue[tail - 1], k] >= v)):
                    tail -= 1
                queue[tail] = t
                tail += 1
                while queue[head] <= t - n:
                    head += 1
                if t >= n - 1 and bad <= t - n:
                    out[t, k] = x[queue[head], k]
    return out


def _extreme_of(x: np.ndarray, n: int, largest: bool) -> np.ndarray:
    if n < 1:
        return _rolling(x, n, "max" if largest else "min")      # pandas' own error for a bad window
    x = np.asarray(x, np.float64)
    flat = np.ascontiguousarray(x.reshape(x.shape[0], int(np.prod(x.shape[1:]))))
    return _extreme(flat, int(n), largest).reshape(x.shape)


def rolling_max(x: np.ndarray, n: int) -> np.ndarray:
    """max over rows (t - n, t] (NaN until n rows exist)."""
    return _extreme_of(x, n, True)


def rolling_min(x: np.ndarray, n: int) -> np.ndarray:
    return _extreme_of(x, n, False)


def rolling_mean(x: np.ndarray, n: int) -> np.ndarray:
    return _rolling(x, n, "mean")


def rolling_std(x: np.ndarray, n: int) -> np.ndarray:
    """Sample standard deviation over rows (t - n, t]."""
    return _rolling(x, n, "std")


@nb.njit(cache=True)
def _run_length(m: np.ndarray) -> np.ndarray:
    S, K = m.shape
    out = np.zeros((S, K), np.int64)
    for k in range(K):
        if S and m[0, k]:
            out[0, k] = 1
    for t in range(1, S):
        for k in range(K):
            if m[t, k]:
                out[t, k] = out[t - 1, k] + 1
    return out


def run_length(mask: np.ndarray) -> np.ndarray:
    """Consecutive rows up to and including t where `mask` holds (0 where it does not)."""
    m = np.asarray(mask, bool)
    return _run_length(np.ascontiguousarray(m.reshape(m.shape[0], int(np.prod(m.shape[1:]))))).reshape(m.shape)


def move_pct(x: np.ndarray, n: int) -> np.ndarray:
    """Percent change over n rows."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (x / lag(x, n) - 1.0) * 100.0


def since_open_pct(spot: np.ndarray) -> np.ndarray:
    """Percent change of the index from the day's first known value."""
    known = np.flatnonzero(~np.isnan(spot))
    if not len(known):
        return np.full(spot.shape, np.nan)
    return (spot / spot[known[0]] - 1.0) * 100.0


def up_move_pct(spot: np.ndarray, n: int) -> np.ndarray:
    """How far the index is above its low of the last n rows, percent (a move 'within n s')."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (spot / rolling_min(spot, n) - 1.0) * 100.0


def down_move_pct(spot: np.ndarray, n: int) -> np.ndarray:
    """How far the index is below its high of the last n rows, percent (negative)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (spot / rolling_max(spot, n) - 1.0) * 100.0


def pick_nearest_delta(delta: np.ndarray, allowed: np.ndarray, target: float) -> np.ndarray:
    """[S] the column whose |delta| is nearest `target` among the allowed ones (-1: none)."""
    score = np.where(allowed, -np.abs(np.abs(delta) - target), -np.inf)
    best = np.argmax(score, axis=1)
    ok = np.isfinite(score[np.arange(len(score)), best])
    return np.where(ok, best, -1)
