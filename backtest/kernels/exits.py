"""Exit rules of one open leg, composable and evaluated once per real second (nopython).

`L` is the leg's row of the leg-spec matrix (fields: enums.LegField). Prices are per unit. `side` +1 long / -1 short; `fav` is the best executable price seen since entry
(highest bid for a long, lowest ask for a short; or the LTP when trailing on trades); profit is
measured in the trader's direction. Stops only ever tighten.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from backtest.enums import N_LOCKS, ExitReason, LegField


@nb.njit(cache=True)
def initial_levels(L: np.ndarray, side: int, entry: float) -> tuple:
    """(stop, target) prices at entry: rupee distances, or percent of the entry premium."""
    stop_d = L[LegField.stop] if not math.isnan(L[LegField.stop]) else entry * L[LegField.stop_pct] / 100.0
    tgt_d = L[LegField.target] if not math.isnan(L[LegField.target]) else entry * L[LegField.target_pct] / 100.0
    stop = entry - side * stop_d if not math.isnan(stop_d) else np.nan
    target = entry + side * tgt_d if not math.isnan(tgt_d) else np.nan
    return stop, target


@nb.njit(cache=True)
def tighter(side: int, stop: float, candidate: float) -> float:
    """The tighter of two stops (a NaN stop is no stop)."""
    if math.isnan(candidate):
        return stop
    if math.isnan(stop):
        return candidate
    return max(stop, candidate) if side > 0 else min(stop, candidate)


@nb.njit(cache=True)
def trailed_stop(L: np.ndarray, side: int, entry: float, stop: float, fav: float, atr: float, ema: float) -> float:
    """Apply stepped locks, the activated trail, the ATR trail and the EMA trail to `stop`."""
    best = (fav - entry) * side
    for k in range(N_LOCKS):
        at, to = L[LegField.lock1_at + 2 * k], L[LegField.lock1_at + 2 * k + 1]
        if not math.isnan(at) and best >= at - 1e-9:
            stop = tighter(side, stop, entry + side * to)
    if not math.isnan(L[LegField.trail_activate]) and best >= L[LegField.trail_activate] - 1e-9:
        stop = tighter(side, stop, fav - side * L[LegField.trail_offset])
    if not math.isnan(L[LegField.atr_mult]) and not math.isnan(atr):
        stop = tighter(side, stop, fav - side * L[LegField.atr_mult] * atr)
    if not math.isnan(L[LegField.ema_gap]) and not math.isnan(ema):
        stop = tighter(side, stop, ema - side * L[LegField.ema_gap])
    return stop


@nb.njit(cache=True)
def price_trigger(side: int, exec_px: float, ltp: float, stop: float, target: float,
                  stop_moved: bool) -> tuple:
    """Which price rule fires in this snapshot: (reason code, both fired).

    The stop fires when the executable price (bid for a long, ask for a short) reaches it; the
    target when the executable price or a trade reaches it. If both fire in one snapshot the stop
    is taken (conservative) and the caller logs the choice."""
    hit_stop = not math.isnan(stop) and not math.isnan(exec_px) and (exec_px - stop) * side <= 1e-9
    hit_tgt = not math.isnan(target) and (
        (not math.isnan(exec_px) and (exec_px - target) * side >= -1e-9)
        or (not math.isnan(ltp) and (ltp - target) * side >= -1e-9))
    if hit_stop:
        return (ExitReason.trailing_stop if stop_moved else ExitReason.stop), hit_tgt
    if hit_tgt:
        return ExitReason.target, False
    return ExitReason.none, False
