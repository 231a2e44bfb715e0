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


def rolling_max(x: np.ndarray, n: int) -> np.ndarray:
    """max over rows (t - n, t] (NaN until n rows exist)."""
    return _rolling(x, n, "max")


def rolling_min(x: np.ndarray, n: int) -> np.ndarray:
    return _rolling(x, n, "min")


def rolling_mean(x: np.ndarray, n: int) -> np.ndarray:
    return _rolling(x, n, "mean")


def rolling_std(x: np.ndarray, n: int) -> np.ndarray:
    """Sample standard deviation over rows (t - n, t]."""
    return _rolling(x, n, "std")


def run_length(mask: np.ndarray) -> np.ndarray:
    """Consecutive rows up to and including t where `mask` holds (0 where it does not)."""
    m = np.asarray(mask, bool)
    t = np.arange(len(m)).reshape((-1,) + (1,) * (m.ndim - 1))
    last_false = np.where(m, -1, t)                  # the run starts after the last row where it did not hold
    np.maximum.accumulate(last_false, axis=0, out=last_false)
    return np.where(m, t - last_false, 0)


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
