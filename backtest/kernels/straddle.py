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
Fills walk book[:, book_row[i, c]], the touch only or 5 levels (see kernels.fills).
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from backtest.kernels.engine import EVENT_DTYPE, Q_ASK, Q_BID, Q_SLIP, Q_TRADABLE, TRADE_DTYPE, _arrival, _log
from backtest.kernels.fills import market_fill
from backtest.kernels.params import (COMBINED_STOP, CREDIT_CAPTURE, DAILY_LOSS_R, E_EXIT_FILL, E_EXIT_ORDER,
                                     E_EXIT_SIGNAL, E_FILL, E_ORDER, E_SIGNAL, ENTRY_END_S, ENTRY_START_S, LATENCY_S,
                                     LEG_DIFF_EXIT, LEG_STOP, MAX_ENTRIES, QTY_LOTS, R_COMBINED_STOP,
                                     R_CREDIT_CAPTURED, R_END_OF_DATA, R_LEG_DIVERGENCE, R_LEG_STOP, R_ROLL,
                                     R_SESSION_EXIT, R_SPOT_MOVE, ROLL_AFTER_S, ROLL_SCORE_MULT, SESSION_EXIT_S,
                                     SPOT_ROC_EXIT)

LEG_DTYPE = np.dtype(TRADE_DTYPE.descr + [("position", np.int32), ("leg", np.int8)])
PENDING, OPEN, EXITING, CLOSED = 0, 1, 2, 3
DAY_S = 86400


@nb.njit(cache=True)
def _last_ask(Q, i, c):
    """The leg's ask at i, or the last real one before (a padded second keeps the old quote)."""
    for j in range(i, -1, -1):
        if Q[j, c, Q_TRADABLE] > 0:
            return Q[j, c, Q_ASK]
    return np.nan


@nb.njit(cache=True)
def _position_rule(P, i, t_s, session_over, pnl, credit, change, n_open, spot_roc, entry_i, roll_gain):
    if session_over:
        return R_SESSION_EXIT
    if not math.isnan(P[COMBINED_STOP]) and pnl <= -P[COMBINED_STOP] + 1e-9:
        return R_COMBINED_STOP
    if not math.isnan(P[LEG_DIFF_EXIT]) and n_open == 2 and abs(change[0] - change[1]) >= P[LEG_DIFF_EXIT] - 1e-9:
        return R_LEG_DIVERGENCE
    if not math.isnan(P[SPOT_ROC_EXIT]) and not math.isnan(spot_roc[i]) and abs(spot_roc[i]) >= P[SPOT_ROC_EXIT] - 1e-12:
        return R_SPOT_MOVE
    if not math.isnan(P[CREDIT_CAPTURE]) and pnl >= P[CREDIT_CAPTURE] * credit - 1e-9:
        return R_CREDIT_CAPTURED
    if (not math.isnan(P[ROLL_AFTER_S]) and t_s[i] - t_s[entry_i] >= P[ROLL_AFTER_S] and pnl >= 0
            and n_open == 2 and roll_gain >= P[ROLL_SCORE_MULT]):
        return R_ROLL
    return 0


@nb.njit(cache=True)
def run_straddle(t_s, Q, book, book_row, entry_ok, leg_ce, leg_pe, score, spot_roc, lot, P, log_events, max_legs,
                 max_events):
    S = Q.shape[0]
    legs = np.zeros(max_legs, LEG_DTYPE)
    state = np.full(max_legs, CLOSED, np.int8)
    order_at = np.full(max_legs, -1, np.int64)   # arrival index of the leg's pending entry / exit order
    ev = np.zeros(max_events if log_events else 1, EVENT_DTYPE)
    n_legs, n_ev, n_pos = 0, 0, 0
    cur = -1                                      # first leg index of the current position, -1 = none
    entry_i = -1
    day_pnl = 0.0
    for i in range(S):
        session_over = t_s[i] % DAY_S >= P[SESSION_EXIT_S]
        # 1. orders that reached the market
        for k in range(n_legs):
            if state[k] in (PENDING, EXITING) and i >= order_at[k]:
                c = legs[k]["contract"]
                if Q[i, c, Q_TRADABLE] <= 0:
                    continue
                bid, ask = Q[i, c, Q_BID], Q[i, c, Q_ASK]
                if state[k] == PENDING:
                    got, px = market_fill(book[:, book_row[i, c]], -1, legs[k]["qty"], True)
                    if got > 0:
                        legs[k]["partial"] = got < legs[k]["qty"]
                        legs[k]["entry_i"], legs[k]["entry_px"], legs[k]["qty"] = i, px - Q[i, c, Q_SLIP], got
                        state[k] = OPEN
                        n_ev = _log(ev, n_ev, log_events, k, i, E_FILL, legs[k]["entry_px"], np.nan, np.nan, bid, ask)
                else:
                    got, px = market_fill(book[:, book_row[i, c]], 1, legs[k]["qty"], True)
                    if got > 0:
                        legs[k]["exit_i"], legs[k]["exit_px"] = i, px + Q[i, c, Q_SLIP]
                        day_pnl += (legs[k]["entry_px"] - legs[k]["exit_px"]) * legs[k]["qty"]
                        state[k] = CLOSED
                        n_ev = _log(ev, n_ev, log_events, k, i, E_EXIT_FILL, legs[k]["exit_px"], np.nan, np.nan, bid, ask)
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
                if why == 0 and not math.isnan(P[LEG_STOP]) and change[s] >= P[LEG_STOP] - 1e-9:
                    why = R_LEG_STOP
                if state[k] == OPEN and why != 0:
                    c = legs[k]["contract"]
                    legs[k]["reason"], legs[k]["exit_signal_i"] = why, i
                    state[k], order_at[k] = EXITING, _arrival(t_s, i, P[LATENCY_S])
                    n_ev = _log(ev, n_ev, log_events, k, i, E_EXIT_SIGNAL, pnl, np.nan, np.nan, Q[i, c, Q_BID], Q[i, c, Q_ASK])
                    n_ev = _log(ev, n_ev, log_events, k, i, E_EXIT_ORDER, np.nan, np.nan, np.nan, Q[i, c, Q_BID], Q[i, c, Q_ASK])
            if state[cur] != OPEN and state[cur + 1] != OPEN:
                cur = -1
                roll_now = reason == R_ROLL
        # 3. a new position from the entry signal (or the roll's new strike)
        if cur < 0 and leg_ce[i] >= 0 and leg_pe[i] >= 0 and n_legs + 2 <= max_legs and not session_over:
            sod = t_s[i] % DAY_S
            wants = (entry_ok[i] and P[ENTRY_START_S] <= sod <= P[ENTRY_END_S]
                     and (math.isnan(P[MAX_ENTRIES]) or n_pos < P[MAX_ENTRIES])
                     and (math.isnan(P[DAILY_LOSS_R]) or day_pnl > -P[DAILY_LOSS_R]))
            if wants or roll_now:
                for s in range(2):
                    k = n_legs + s
                    c = leg_ce[i] if s == 0 else leg_pe[i]
                    legs[k]["contract"], legs[k]["side"], legs[k]["qty"], legs[k]["signal_i"] = c, -1, P[QTY_LOTS] * lot[c], i
                    legs[k]["entry_i"], legs[k]["exit_i"], legs[k]["exit_signal_i"] = -1, -1, -1
                    legs[k]["entry_px"], legs[k]["exit_px"], legs[k]["initial_stop"] = np.nan, np.nan, np.nan
                    legs[k]["position"], legs[k]["leg"] = n_pos, s
                    state[k], order_at[k] = PENDING, _arrival(t_s, i, P[LATENCY_S])
                    n_ev = _log(ev, n_ev, log_events, k, i, E_SIGNAL, np.nan, np.nan, np.nan, Q[i, c, Q_BID], Q[i, c, Q_ASK])
                    n_ev = _log(ev, n_ev, log_events, k, i, E_ORDER, np.nan, np.nan, np.nan, Q[i, c, Q_BID], Q[i, c, Q_ASK])
                cur, entry_i = n_legs, i
                n_legs += 2
                n_pos += 1
    # legs still open (or never bought back) when the data ends: their last real ask, flagged
    for k in range(n_legs):
        if state[k] in (OPEN, EXITING):
            c = legs[k]["contract"]
            for j in range(S - 1, -1, -1):
                if Q[j, c, Q_TRADABLE] > 0:
                    legs[k]["exit_i"], legs[k]["exit_px"] = j, Q[j, c, Q_ASK]
                    break
            if legs[k]["reason"] == 0:
                legs[k]["reason"] = R_END_OF_DATA
    return legs[:n_legs], ev[:n_ev]
