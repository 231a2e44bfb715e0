"""Named market conditions, evaluated every second in numpy: the engine only reads booleans.

A Cond (backtest.strategies.base) compares a feature with a number or another feature; position
rules read features_spot columns ([S] arrays), leg exits features_options columns ([S, C]).
NaN compares false. A Check's schedule is a clock condition: true at the first grid second at or
after each bucket end.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from backtest.strategies.base import Cond, hhmm

EPS = 1e-9
OPS = (">=", "<=", ">", "<", "cross_above", "cross_below")
DAY_S = 86400


def lagged(x: np.ndarray, t_s: np.ndarray, seconds: int) -> np.ndarray:
    """x at t - seconds (the grid second exactly that far back; NaN where the grid has none)."""
    j = np.searchsorted(t_s, t_s - seconds)
    ok = (j < len(t_s)) & (t_s[np.minimum(j, len(t_s) - 1)] == t_s - seconds)
    out = np.full(x.shape, np.nan)
    out[ok] = x[j[ok]]
    return out


def features_of(cond: Cond) -> set[str]:
    """The feature columns a condition reads."""
    return {cond.feature} | ({cond.value} if isinstance(cond.value, str) else set())


def evaluate(cond: Cond, values: Callable[[str], np.ndarray], t_s: np.ndarray, where: str) -> np.ndarray:
    """The condition per second (and contract, for [S, C] features) as booleans."""
    if cond.op not in OPS:
        raise ValueError(f"{where}: op {cond.op!r} is not one of {', '.join(OPS)}")
    x = np.asarray(values(cond.feature), dtype=np.float64)
    if cond.change_s:
        x = x - lagged(x, t_s, int(cond.change_s))
    if cond.abs:
        x = np.abs(x)
    y = np.asarray(values(cond.value), dtype=np.float64) if isinstance(cond.value, str) else float(cond.value)
    with np.errstate(invalid="ignore"):
        if cond.op in ("cross_above", "cross_below"):
            if not isinstance(cond.value, str):
                raise ValueError(f"{where}: {cond.op} compares two features; value {cond.value!r} is a number")
            a, b = (x, y) if cond.op == "cross_above" else (y, x)
            out = np.zeros(x.shape, bool)
            out[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
            return out
        if cond.op == ">=":
            return x >= y - EPS
        if cond.op == "<=":
            return x <= y + EPS
        if cond.op == ">":
            return x > y + EPS
        return x < y - EPS


def schedule(t_s: np.ndarray, every_s: float, start: str) -> np.ndarray:
    """True at the first grid second at or after each of start + every_s, start + 2 every_s, ..."""
    out = np.zeros(len(t_s), bool)
    if not len(t_s):
        return out
    day0 = t_s[0] - t_s[0] % DAY_S
    ends = np.arange(day0 + hhmm(start) + every_s, t_s[-1] + 1, every_s)
    at = np.searchsorted(t_s, ends)
    out[at[at < len(t_s)]] = True
    return out
