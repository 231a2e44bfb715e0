"""The multi-leg engine: short straddles with combined-P&L rules, per-leg stops and rolls (nopython).

One position (two legs: CE = leg 0, PE = leg 1) at a time. At second i the engine fills legs whose
orders reached the market, evaluates the rules of the current position on the snapshot at i, and
opens a new position from the entry signal at i (legs chosen per second by the caller: ATM, or the
best theta score). Per unit and leg, a short's change is ask - entry (what buying it back costs).

Rules (NaN = off): combined P&L per unit <= -combined_stop; |CE change - PE change| >=
leg_diff_exit; |1-minute index ROC| >= spot_roc_exit %; combined P&L >= credit_capture x credit;
the session exit; a leg whose change reaches leg_stop is bought back alone; a roll (after
roll_after_s, P&L >= 0, another strike scoring roll_score_mult x the current one) closes both legs
and sells the new strike in the same second. Legs on padded seconds keep their last real quote.
Fills walk book[:, book_row[i, c]], the touch only or 5 levels (see kernels.fills). No new position
once the day's closed legs lost `daily_loss_rupees` (gross); R has no meaning here (no leg has an
initial stop), so a `daily_loss_r` is refused before the kernel runs (backtest.simulate).
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from backtest.enums import EVENT_DTYPE, POSITION_LEG_DTYPE, EventKind, ExitReason, Param, Quote
from backtest.kernels.engine import _arrival, _log
from backtest.kernels.fills import market_fill

PENDING, OPEN, EXITING, CLOSED = 0, 1, 2, 3
DAY_S = 86400


@nb.njit(cache=True)
def _last_ask(Q, i, c):
    """The leg's ask at i, or the last real one before (a padded second keeps the old quote)."""
    for j in range(i, -1, -1):
        if Q[j, c, Quote.tradable] > 0:
            return Q[j, c, Quote.ask]
    return np.nan


@nb.njit(cache=True)
def _position_rule(P, i, t_s, session_over, pnl, credit, change, n_open, spot_roc, entry_i, roll_gain):
    if session_over:
        return ExitReason.session_exit
    if not math.isnan(P[Param.combined_stop]) and pnl <= -P[Param.combined_stop] + 1e-9:
        return ExitReason.combined_stop
    if not math.isnan(P[Param.leg_diff_exit]) and n_open == 2 and abs(change[0] - change[1]) >= P[Param.leg_diff_exit] - 1e-9:
        return ExitReason.leg_divergence
    if not math.isnan(P[Param.spot_roc_exit]) and not math.isnan(spot_roc[i]) and abs(spot_roc[i]) >= P[Param.spot_roc_exit] - 1e-12:
        return ExitReason.spot_move
    if not math.isnan(P[Param.credit_capture]) and pnl >= P[Param.credit_capture] * credit - 1e-9:
        return ExitReason.credit_captured
    if (not math.isnan(P[Param.roll_after_s]) and t_s[i] - t_s[entry_i] >= P[Param.roll_after_s] and pnl >= 0
            and n_open == 2 and roll_gain >= P[Param.roll_score_mult]):
        return ExitReason.roll
    return ExitReason.none


@nb.njit(cache=True)
def run_straddle(t_s, Q, book, book_row, entry_ok, leg_ce, leg_pe, score, spot_roc, lot, P, log_events, max_legs,
                 max_events):
    S = Q.shape[0]
    legs = np.zeros(max_legs, POSITION_LEG_DTYPE)
    state = np.full(max_legs, CLOSED, np.int8)
    order_at = np.full(max_legs, -1, np.int64)   # arrival index of the leg's pending entry / exit order
    ev = np.zeros(max_events if log_events else 1, EVENT_DTYPE)
    n_legs, n_ev, n_pos = 0, 0, 0
    cur = -1                                      # first leg index of the current position, -1 = none
    entry_i = -1
    day_pnl = 0.0
    for i in range(S):
        session_over = t_s[i] % DAY_S >= P[Param.session_exit_s]
        # 1. orders that reached the market
        for k in range(n_legs):
            if state[k] in (PENDING, EXITING) and i >= order_at[k]:
                c = legs[k]["contract"]
                if Q[i, c, Quote.tradable] <= 0:
                    continue
                bid, ask = Q[i, c, Quote.bid], Q[i, c, Quote.ask]
                if state[k] == PENDING:
                    got, px = market_fill(book[:, book_row[i, c]], -1, legs[k]["qty"], True)
                    if got > 0:
                        legs[k]["partial"] = got < legs[k]["qty"]
                        legs[k]["entry_i"], legs[k]["entry_px"], legs[k]["qty"] = i, px - Q[i, c, Quote.slip], got
                        state[k] = OPEN
                        n_ev = _log(ev, n_ev, log_events, k, i, EventKind.fill, legs[k]["entry_px"], np.nan, np.nan, bid, ask)
                else:
                    got, px = market_fill(book[:, book_row[i, c]], 1, legs[k]["qty"], True)
                    if got > 0:
                        legs[k]["exit_i"], legs[k]["exit_px"] = i, px + Q[i, c, Quote.slip]
                        day_pnl += (legs[k]["entry_px"] - legs[k]["exit_px"]) * legs[k]["qty"]
                        state[k] = CLOSED
                        n_ev = _log(ev, n_ev, log_events, k, i, EventKind.exit_fill, legs[k]["exit_px"], np.nan, np.nan, bid, ask)
        # 2. rules of the current position once both legs are filled
        roll_now = False
        if cur >= 0 and state[cur] != PENDING and state[cur + 1] != PENDING:
            change = np.zeros(2)
            pnl, credit, n_open = 0.0, 0.0, 0
            for s in range(2):
                k = cur + s
                ref = legs[k]["exit_px"] if state[k] == CLOSED else _last_ask(Q, i, legs[k]["contract"])
                change[s] = ref - legs[k]["entry_px"]
                pnl -= change[s]
                credit += legs[k]["entry_px"]
                if state[k] == OPEN:
                    n_open += 1
                    legs[k]["mfe"] = max(legs[k]["mfe"], -change[s])
                    legs[k]["mae"] = min(legs[k]["mae"], -change[s])
            gain = 0.0
            if leg_ce[i] >= 0 and leg_ce[i] != legs[cur]["contract"]:
                old = score[i, legs[cur]["contract"]] + score[i, legs[cur + 1]["contract"]]
                gain = (score[i, leg_ce[i]] + score[i, leg_pe[i]]) / old if old > 0 else 0.0
            reason = _position_rule(P, i, t_s, session_over, pnl, credit, change, n_open, spot_roc, entry_i, gain)
            for s in range(2):
                k = cur + s
                why = reason
                if why == 0 and not math.isnan(P[Param.leg_stop]) and change[s] >= P[Param.leg_stop] - 1e-9:
                    why = ExitReason.leg_stop
                if state[k] == OPEN and why != 0:
                    c = legs[k]["contract"]
                    legs[k]["reason"], legs[k]["exit_signal_i"] = why, i
                    state[k], order_at[k] = EXITING, _arrival(t_s, i, P[Param.latency_s])
                    n_ev = _log(ev, n_ev, log_events, k, i, EventKind.exit_signal, pnl, np.nan, np.nan, Q[i, c, Quote.bid], Q[i, c, Quote.ask])
                    n_ev = _log(ev, n_ev, log_events, k, i, EventKind.exit_order, np.nan, np.nan, np.nan, Q[i, c, Quote.bid], Q[i, c, Quote.ask])
            if state[cur] != OPEN and state[cur + 1] != OPEN:
                cur = -1
                roll_now = reason == ExitReason.roll
        # 3. a new position from the entry signal (or the roll's new strike)
        if cur < 0 and leg_ce[i] >= 0 and leg_pe[i] >= 0 and n_legs + 2 <= max_legs and not session_over:
            sod = t_s[i] % DAY_S
            wants = (entry_ok[i] and P[Param.entry_start_s] <= sod <= P[Param.entry_end_s]
                     and (math.isnan(P[Param.max_entries]) or n_pos < P[Param.max_entries])
                     and (math.isnan(P[Param.daily_loss_rupees]) or day_pnl > -P[Param.daily_loss_rupees]))
            if wants or roll_now:
                for s in range(2):
                    k = n_legs + s
                    c = leg_ce[i] if s == 0 else leg_pe[i]
                    legs[k]["contract"], legs[k]["side"], legs[k]["qty"], legs[k]["signal_i"] = c, -1, P[Param.qty_lots] * lot[c], i
                    legs[k]["entry_i"], legs[k]["exit_i"], legs[k]["exit_signal_i"] = -1, -1, -1
                    legs[k]["entry_px"], legs[k]["exit_px"], legs[k]["initial_stop"] = np.nan, np.nan, np.nan
                    legs[k]["position"], legs[k]["leg"] = n_pos, s
                    state[k], order_at[k] = PENDING, _arrival(t_s, i, P[Param.latency_s])
                    n_ev = _log(ev, n_ev, log_events, k, i, EventKind.signal, np.nan, np.nan, np.nan, Q[i, c, Quote.bid], Q[i, c, Quote.ask])
                    n_ev = _log(ev, n_ev, log_events, k, i, EventKind.order, np.nan, np.nan, np.nan, Q[i, c, Quote.bid], Q[i, c, Quote.ask])
                cur, entry_i = n_legs, i
                n_legs += 2
                n_pos += 1
    # legs still open (or never bought back) when the data ends: their last real ask, flagged
    for k in range(n_legs):
        if state[k] in (OPEN, EXITING):
            c = legs[k]["contract"]
            for j in range(S - 1, -1, -1):
                if Q[j, c, Quote.tradable] > 0:
                    legs[k]["exit_i"], legs[k]["exit_px"] = j, Q[j, c, Quote.ask]
                    break
            if legs[k]["reason"] == 0:
                legs[k]["reason"] = ExitReason.end_of_data
    return legs[:n_legs], ev[:n_ev]
