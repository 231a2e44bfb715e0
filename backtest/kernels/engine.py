"""The single-leg engine: one pass over one day's 1-second grid of the selected contracts.

Arrays in, record arrays out, no I/O (nopython). At second i the engine
  1. tries to fill entry orders that have reached the market (decided at i - latency),
  2. fills exits that have reached the market, else evaluates the exit rules of open legs on the
     snapshot at i (real seconds only; time and session exits fire on the clock),
  3. turns signals at i into entry orders that reach the market at i + latency.
A decision at i sees only data stamped <= i. Logging events on or off changes no trade: events are
written to their own buffer and nothing reads them back.

Q[S, C, N_QUOTE]: per second and contract the fields of enums.Quote; book[:, book_row[i, c]]: the
book of contract c at second i, the touch only or 5 levels (see kernels.fills); signals sig_side (+1 buy /
-1 sell / 0), sig_type (enums.OrderType), sig_px (limit price); P: the parameter record (enums.Param).
Risk limits: `daily_loss_r` in R (a leg's result over its entry-to-initial-stop distance) and
`daily_loss_rupees` in rupees (gross, before charges), each over the day's closed legs.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from backtest.enums import EVENT_DTYPE, LEG_DTYPE, EventKind, ExitReason, OrderType, Param, Quote
from backtest.kernels.exits import initial_levels, price_trigger, trailed_stop
from backtest.kernels.fills import limit_fill, market_fill, walk_book

DAY_S = 86400


@nb.njit(cache=True)
def _arrival(t_s: np.ndarray, i: int, delay_s: float) -> int:
    """First grid index at or after t_s[i] + delay (latency is in seconds, not rows)."""
    target = t_s[i] + delay_s
    j = i
    while j < t_s.shape[0] and t_s[j] < target:
        j += 1
    return j


@nb.njit(cache=True)
def _log(ev, n_ev: int, on: bool, record: int, i: int, code: int, price: float, stop: float, target: float,
         bid: float, ask: float) -> int:
    if on and n_ev < ev.shape[0]:
        e = ev[n_ev]
        e["record"], e["i"], e["code"], e["price"] = record, i, code, price
        e["stop"], e["target"], e["bid"], e["ask"] = stop, target, bid, ask
        return n_ev + 1
    return n_ev


@nb.njit(cache=True)
def run_single_leg(t_s, Q, book, book_row, sig_side, sig_type, sig_px, exit_sig, lot, P, log_events, max_legs,
                   max_events):
    S, C = Q.shape[0], Q.shape[1]
    legs = np.zeros(max_legs, LEG_DTYPE)
    ev = np.zeros(max_events if log_events else 1, EVENT_DTYPE)
    n_tr = 0
    n_ev = 0
    latency = P[Param.latency_s]
    allow_partial = P[Param.partial_beyond_book] > 0
    # per-contract state: the pending entry order and the open leg (-1 = none)
    pend = np.full(C, -1, np.int64)          # leg record of a pending entry
    pend_arrive = np.zeros(C, np.int64)
    pend_expire = np.zeros(C, np.int64)
    pend_type = np.zeros(C, np.int64)
    pend_px = np.zeros(C, np.float64)
    pos = np.full(C, -1, np.int64)           # leg record of the open leg
    stop = np.full(C, np.nan)
    target = np.full(C, np.nan)
    fav = np.full(C, np.nan)
    exit_arrive = np.full(C, -1, np.int64)
    exit_qty_done = np.zeros(C, np.float64)
    exit_cost = np.zeros(C, np.float64)
    open_slots = 0
    day_r = 0.0                               # the day's closed legs: result in R ...
    day_rupees = 0.0                          # ... and in rupees (gross)
    losers = 0
    cooldown_until = -1.0
    for i in range(S):
        sod = t_s[i] % DAY_S
        session_over = sod >= P[Param.session_exit_s]
        for c in range(C):
            q = Q[i, c]
            tradable = q[Quote.tradable] > 0
            bid, ask = q[Quote.bid], q[Quote.ask]
            # 1. entry orders that have reached the market
            k = pend[c]
            if k >= 0 and i >= pend_arrive[c]:
                tr = legs[k]
                side = tr["side"]
                filled, px = 0.0, np.nan
                if session_over:
                    pass
                elif tradable:
                    if pend_type[c] == OrderType.market:
                        filled, px = market_fill(book[:, book_row[i, c]], side, tr["qty"], allow_partial)
                    elif pend_type[c] == OrderType.limit:
                        px = limit_fill(book[:, book_row[i, c]], q[Quote.ltp], q[Quote.vol], side, pend_px[c], i == pend_arrive[c])
                        filled = tr["qty"] if not math.isnan(px) else 0.0
                    else:
                        filled, px = walk_book(book[:, book_row[i, c]], side, tr["qty"], pend_px[c])
                if filled > 0:
                    px = px + side * q[Quote.slip]
                    tr["partial"] = filled < tr["qty"]
                    tr["qty"] = filled
                    tr["entry_i"], tr["entry_px"] = i, px
                    s0, t0 = initial_levels(P, side, px)
                    stop[c], target[c], fav[c] = s0, t0, px
                    tr["initial_stop"] = s0
                    tr["mfe"], tr["mae"] = 0.0, 0.0
                    pos[c], pend[c] = k, -1
                    n_ev = _log(ev, n_ev, log_events, k, i, EventKind.fill, px, s0, t0, bid, ask)
                    if tr["partial"]:
                        n_ev = _log(ev, n_ev, log_events, k, i, EventKind.partial, filled, s0, t0, bid, ask)
                elif session_over or pend_type[c] == OrderType.ioc and tradable or i >= pend_expire[c]:
                    n_ev = _log(ev, n_ev, log_events, k, i, EventKind.cancel, pend_px[c], np.nan, np.nan, bid, ask)
                    legs[k]["reason"] = -1     # never filled: dropped from the trade list
                    pend[c] = -1
                    open_slots -= 1
            # 2. the open leg
            k = pos[c]
            if k >= 0:
                tr = legs[k]
                side = tr["side"]
                if exit_arrive[c] >= 0:
                    if i >= exit_arrive[c] and tradable:
                        want = tr["qty"] - exit_qty_done[c]
                        got, px = market_fill(book[:, book_row[i, c]], -side, want, True)
                        if got > 0:
                            exit_qty_done[c] += got
                            exit_cost[c] += got * (px - side * q[Quote.slip])
                            n_ev = _log(ev, n_ev, log_events, k, i, EventKind.exit_fill, px - side * q[Quote.slip], stop[c],
                                        target[c], bid, ask)
                        if exit_qty_done[c] >= tr["qty"] - 1e-9:
                            tr["exit_i"], tr["exit_px"] = i, exit_cost[c] / exit_qty_done[c]
                            pnl_r = (tr["exit_px"] - tr["entry_px"]) * side / max(abs(tr["entry_px"] - tr["initial_stop"]), 1e-9) \
                                if not math.isnan(tr["initial_stop"]) else 0.0
                            day_r += pnl_r
                            day_rupees += (tr["exit_px"] - tr["entry_px"]) * side * tr["qty"]
                            losers = losers + 1 if (tr["exit_px"] - tr["entry_px"]) * side < 0 else 0
                            if P[Param.cooldown_losers] > 0 and losers >= P[Param.cooldown_losers]:
                                cooldown_until = t_s[i] + P[Param.cooldown_s]
                                losers = 0
                            pos[c] = -1
                            exit_arrive[c] = -1
                            exit_qty_done[c], exit_cost[c] = 0.0, 0.0
                            open_slots -= 1
                else:
                    reason = 0
                    both = False
                    if tradable:
                        exec_px = bid if side > 0 else ask
                        # a trade counts only if it printed in this second, after the entry second:
                        # a stale LTP from before the entry must not trail the stop or hit the target
                        traded = q[Quote.ltp] if q[Quote.vol] > 0 and i > tr["entry_i"] else np.nan
                        ref = traded if P[Param.trail_on_ltp] > 0 else exec_px
                        if not math.isnan(ref) and (ref - fav[c]) * side > 0:
                            fav[c] = ref
                        if not math.isnan(exec_px):
                            move = (exec_px - tr["entry_px"]) * side
                            tr["mfe"] = max(tr["mfe"], move)
                            tr["mae"] = min(tr["mae"], move)
                        new_stop = trailed_stop(P, side, tr["entry_px"], stop[c], fav[c], q[Quote.atr], q[Quote.ema])
                        if new_stop != stop[c] and not math.isnan(new_stop):
                            stop[c] = new_stop
                            n_ev = _log(ev, n_ev, log_events, k, i, EventKind.stop_move, exec_px, new_stop, target[c], bid, ask)
                        moved = not math.isnan(stop[c]) and stop[c] != tr["initial_stop"]
                        reason, both = price_trigger(side, exec_px, traded, stop[c], target[c], moved)
                        if reason == 0 and exit_sig[i, c] != 0 and exit_sig[i, c] == -side:
                            reason = ExitReason.signal_exit
                    if reason == 0 and not math.isnan(P[Param.time_stop_s]) and t_s[i] - t_s[tr["entry_i"]] >= P[Param.time_stop_s]:
                        reason = ExitReason.time_stop
                    if reason == 0 and session_over:
                        reason = ExitReason.session_exit
                    if reason != 0:
                        tr["reason"], tr["both_hit"], tr["exit_signal_i"] = reason, both, i
                        exit_arrive[c] = _arrival(t_s, i, latency)
                        if both:
                            n_ev = _log(ev, n_ev, log_events, k, i, EventKind.stop_and_target_same_second, q[Quote.ltp], stop[c],
                                        target[c], bid, ask)
                        n_ev = _log(ev, n_ev, log_events, k, i, EventKind.exit_signal, q[Quote.ltp], stop[c], target[c], bid, ask)
                        n_ev = _log(ev, n_ev, log_events, k, i, EventKind.exit_order, np.nan, stop[c], target[c], bid, ask)
            # 3. new entries from signals at i
            side = sig_side[i, c]
            if (side != 0 and pos[c] < 0 and pend[c] < 0 and not session_over and open_slots < P[Param.max_open]
                    and P[Param.entry_start_s] <= sod <= P[Param.entry_end_s] and t_s[i] >= cooldown_until
                    and (math.isnan(P[Param.daily_loss_r]) or day_r > -P[Param.daily_loss_r])
                    and (math.isnan(P[Param.daily_loss_rupees]) or day_rupees > -P[Param.daily_loss_rupees])
                    and n_tr < max_legs):
                tr = legs[n_tr]
                tr["contract"], tr["side"], tr["qty"], tr["signal_i"] = c, side, P[Param.qty_lots] * lot[c], i
                tr["entry_i"], tr["exit_i"], tr["exit_signal_i"] = -1, -1, -1
                tr["entry_px"], tr["exit_px"], tr["initial_stop"] = np.nan, np.nan, np.nan
                pend[c] = n_tr
                pend_type[c], pend_px[c] = sig_type[i, c], sig_px[i, c]
                pend_arrive[c] = _arrival(t_s, i, latency)
                timeout = P[Param.entry_timeout_s]
                pend_expire[c] = _arrival(t_s, pend_arrive[c], timeout) if not math.isnan(timeout) else S + 1
                open_slots += 1
                n_ev = _log(ev, n_ev, log_events, n_tr, i, EventKind.signal, q[Quote.ltp], np.nan, np.nan, bid, ask)
                n_ev = _log(ev, n_ev, log_events, n_tr, i, EventKind.order, sig_px[i, c], np.nan, np.nan, bid, ask)
                n_tr += 1
    # legs still open when the data ends: closed at their last executable price, flagged
    for c in range(C):
        k = pos[c]
        if k >= 0:
            tr = legs[k]
            side = tr["side"]
            for i in range(S - 1, -1, -1):
                if Q[i, c, Quote.tradable] > 0:
                    px = Q[i, c, Quote.bid] if side > 0 else Q[i, c, Quote.ask]
                    done = exit_qty_done[c]
                    tr["exit_px"] = (exit_cost[c] + (tr["qty"] - done) * px) / tr["qty"]
                    tr["exit_i"] = i
                    break
            if tr["reason"] == 0 or exit_arrive[c] < 0:
                tr["reason"] = ExitReason.end_of_data
            n_ev = _log(ev, n_ev, log_events, k, tr["exit_i"], EventKind.exit_fill, tr["exit_px"], stop[c], target[c],
                        np.nan, np.nan)
    return legs[:n_tr], ev[:n_ev]
