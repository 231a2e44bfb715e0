"""Per-second inputs that come from earlier trading days: the previous session's close (S-1's gap)
and each 30-minute slice's historical bias (C-19). The loader reads them from the warehouse's
spot_grid partitions of the days before, found by the trading calendar (transforms.calendar);
nothing of the day itself or after it is read, so a backtest never peeks ahead.

A strategy names them as features_spot columns (`Strategy.spot_features`); `backtest.run` reads
the stored features_spot columns and these from here. Pure parts (`prev_close_of`, `slice_bias`)
take arrays; `history_columns` reads and wires.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from transforms.calendar import previous_trading_day
from warehouse.clock import wall_seconds

SLICE_S = 30 * 60          # C-19's 30-minute windows, from 09:15
OPEN_S = 9 * 3600 + 15 * 60
BIAS_DAYS = 20             # trading days back the bias table looks
HISTORY_COLUMNS = ("prev_close", "slice_bias_30m", "slice_bias_days")


def prev_close_of(price: np.ndarray) -> float:
    """A session's close: its last known index level (NaN without one)."""
    known = price[~np.isnan(price)]
    return float(known[-1]) if len(known) else float("nan")


def slice_of(t_s: np.ndarray) -> np.ndarray:
    """The 30-minute slice of the session (0 = 09:15-09:44:59) of each wall second."""
    return (t_s % 86400 - OPEN_S) // SLICE_S


def slice_moves(t_s: np.ndarray, price: np.ndarray) -> dict[int, int]:
    """{slice: +1 the index closed the slice above its open, -1 below, 0 flat} of one day (slices
    with at least one known value; open = the first known value, close = the last)."""
    ok = ~np.isnan(price)
    t_s, price = t_s[ok], price[ok]
    s = slice_of(t_s)
    out: dict[int, int] = {}
    for k in np.unique(s):
        p = price[s == k]
        out[int(k)] = int(np.sign(p[-1] - p[0]))
    return out


def slice_bias(days: list[dict[int, int]], t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fraction of the days whose slice rose, number of days with that slice) at each second of
    today's grid, from earlier days' `slice_moves`. NaN / 0 where no day has the slice."""
    s = slice_of(t_s)
    up, n = np.full(len(t_s), np.nan), np.zeros(len(t_s))
    for k in np.unique(s):
        moves = [d[int(k)] for d in days if int(k) in d]
        if moves:
            up[s == k] = sum(m > 0 for m in moves) / len(moves)
            n[s == k] = len(moves)
    return up, n


def previous_days(day: dt.date, n: int) -> list[dt.date]:
    """The n trading days before `day`, nearest first (by the calendar, not by what is stored)."""
    out, d = [], day
    for _ in range(n):
        d = previous_trading_day(d)
        out.append(d)
    return out


def history_columns(root, underlying: str, day: dt.date, t_s: np.ndarray, names: tuple[str, ...]) -> dict:
    """The named HISTORY_COLUMNS per second of `day`'s grid, from the stored spot_grid of earlier
    trading days (a day missing from the warehouse contributes nothing: prev_close is NaN when the
    previous trading day is missing, the bias counts the days that are there)."""
    from warehouse.writer import read_partition

    def spot_of(d: dt.date):
        grid = read_partition(root, "spot_grid", {"underlying": underlying, "date": d}, columns=["ts", "price"])
        if grid is None or not grid.num_rows:
            return None
        return wall_seconds(grid["ts"]), grid["price"].to_numpy(zero_copy_only=False).astype(float)

    out: dict[str, np.ndarray] = {}
    if "prev_close" in names:
        prev = spot_of(previous_trading_day(day))
        out["prev_close"] = np.full(len(t_s), prev_close_of(prev[1]) if prev is not None else np.nan)
    if {"slice_bias_30m", "slice_bias_days"} & set(names):
        days = [slice_moves(*x) for d in previous_days(day, BIAS_DAYS) if (x := spot_of(d)) is not None]
        out["slice_bias_30m"], out["slice_bias_days"] = slice_bias(days, t_s)
    return {k: v for k, v in out.items() if k in names}
