"""The position engine: every shape the trader trades, one event-driven pass over a day (nopython).

A position is the legs one entry decision opens (leg specs LS[l] without the `added` flag) plus the
legs adjustments add later; it is one trade. Arrays in, records out, no I/O. At second i:

  1. orders that reached the market fill against their contract's book at i (never on a padded
     second or a null price: they wait; an entry order times out or is cancelled at the session
     exit; an IOC takes what the book has up to its limit and cancels the rest);
  2. marks of every live leg (a short at the ask, a long at the bid; a padded second keeps the
     last real quote), then each open leg's own exits on real seconds (stops only tighten; a stop
     and a target in one snapshot: the stop, flagged), its time stop and the plan's exit signal;
  3. the position rules, in this order: session exit, combined stop (rupees, % of credit), leg
     divergence, kill-switches, credit capture and combined target, maximum hold, the scheduled
     check, the roll, then a short option leg's own hard stop (leg_stop: mark >= entry + x, that
     leg alone); then the adjustments;
  4. a leg alive at its contract's last real second is closed there (`end_of_data`, decided and
     filled at that second, flagged), never later at a quote from before its decision;
  5. entry candidates at i that pass the strategy's rules open positions (orders reach the market
     after the latency);
  6. with zero latency, orders decided at i fill at i's own quotes (optimistic, documented).
A decision at i sees only data stamped <= i (the end of data excepted: step 4 knows the data ends).
The cost is S x (live legs) + candidates, not S x contracts. Logging events on or off changes no
trade: events go to their own buffer and nothing reads them back.

Inputs (enums name every field): t_s[S] wall seconds; Q[S, C, N_QUOTE]; book[:, book_row[i, c]] the
book of contract c at i (kernels.fills); lot[C]; last_real[C] the last tradable second of each
contract (-1 none); the plan's entry candidates entry_i/entry_c/entry_dir/entry_type/entry_px (sorted
by second); leg_contract[NL, S] the contract each leg spec's selector picks; cond[K, S] named
conditions; exit_sig[S, C] (+1 closes shorts, -1 closes longs); score[S, C] what a roll compares;
delta[S, C] and spot[S] for delta and spot-move triggers; LS[NL, N_LEG_FIELDS]; P[N_PARAMS];
windows[W, 2] entry windows (seconds of the day); kills[NK, 2] (cond index, exit reason);
ADJ[NA, N_ADJ_FIELDS].
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from backtest.enums import (EVENT_DTYPE, LEG_DTYPE, POSITION_DTYPE, Action, AdjField, EventKind, ExitReason, LegField,
                            OrderType, Param, PriceRef, QueueKind, Quote, Sizing, Trigger)
from backtest.kernels.common import arrival, log_event
from backtest.kernels.exits import initial_levels, price_trigger, trailed_stop
from backtest.kernels.fills import limit_fill, market_fill, slipped, walk_book
from backtest.kernels.queue import N_QUEUE_STATE, Q_REST, limit_step, note_fill

DAY_S = 86400
MAX_POSITION_LEGS = 8
# leg states
PENDING, OPEN, EXITING, CLOSED, CANCELLED = 0, 1, 2, 3, 4
# per-leg integer state li[k, _] and float state lf[k, _]
LI_STATE, LI_ARRIVE, LI_EXPIRE, LI_TYPE, LI_TRIED = 0, 1, 2, 3, 4
LF_STOP, LF_TARGET, LF_FAV, LF_MARK, LF_XDONE, LF_XCOST, LF_PX, LF_RATIO, LF_PENALTY = 0, 1, 2, 3, 4, 5, 6, 7, 8
LF_QUEUE = 9        # lf[k, LF_QUEUE:] a resting limit's queue state (kernels.queue)
# per-position integer state pi[p, _] and float state pf[p, _]
PI_N, PI_PENDING, PI_ALIVE, PI_DONE, PI_READY, PI_SIGNAL_I, PI_FIRST_FILL, PI_ROLLED_FROM, PI_DIR, PI_FILLED = \
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9
PF_CREDIT, PF_LOTS, PF_SPOT, PF_RUPEES = 0, 1, 2, 3
# counters ctr[_] and accumulators acc[_]
C_LEGS, C_POS, C_EV, C_ENTRIES, C_LOSERS, C_DROPPED = 0, 1, 2, 3, 4, 5
A_DAY_R, A_DAY_RUPEES, A_COOLDOWN_UNTIL, A_NEXT_ENTRY_T, A_CAPITAL = 0, 1, 2, 3, 4


@nb.njit(cache=True)
def _bidask(Q, i, c):
    return Q[i, c, Quote.bid], Q[i, c, Quote.ask]


@nb.njit(cache=True)
def _position_pnl(p, pi, pl, legs, li, lf):
    """Combined P&L per unit of the position (each leg weighted by its ratio in lots): closed legs at
    their exit price, live ones at their mark."""
    pnl = 0.0
    for j in range(pi[p, PI_N]):
        k = pl[p, j]
        if legs[k]["entry_i"] < 0:
            continue
        ref = legs[k]["exit_px"] if li[k, LI_STATE] == CLOSED else lf[k, LF_MARK]
        pnl += legs[k]["side"] * (ref - legs[k]["entry_px"]) * lf[k, LF_RATIO]
    return pnl


@nb.njit(cache=True)
def _event_price(multi, p, k, i, Q, pi, pl, legs, li, lf):
    """What an exit decision logs as its price: the LTP for a one-leg strategy, the combined P&L
    per unit for a multi-leg one (its exits are decided on the P&L)."""
    if multi:
        return _position_pnl(p, pi, pl, legs, li, lf)
    return Q[i, legs[k]["contract"], Quote.ltp]


@nb.njit(cache=True)
def _decide_exit(k, i, reason, both, multi, t_s, Q, P, legs, li, lf, pi, pl, ev, ctr, log_events):
    """An exit decision for open leg k at i: a market order reaching the market after the latency."""
    tr = legs[k]
    c = tr["contract"]
    tr["reason"], tr["both_hit"], tr["exit_signal_i"] = reason, both, i
    li[k, LI_STATE], li[k, LI_ARRIVE] = EXITING, arrival(t_s, i, P[Param.latency_s])
    bid, ask = _bidask(Q, i, c)
    px = _event_price(multi, tr["position"], k, i, Q, pi, pl, legs, li, lf)
    if both:
        ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.stop_and_target_same_second,
                              Q[i, c, Quote.ltp], lf[k, LF_STOP], lf[k, LF_TARGET], bid, ask)
    ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.exit_signal, px, lf[k, LF_STOP],
                          lf[k, LF_TARGET], bid, ask)
    ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.exit_order, np.nan, lf[k, LF_STOP],
                          lf[k, LF_TARGET], bid, ask)


@nb.njit(cache=True)
def _cancel(k, i, Q, legs, li, lf, pi, ev, ctr, log_events):
    """An entry order that will not fill: dropped from the trade list."""
    c = legs[k]["contract"]
    bid, ask = _bidask(Q, i, c)
    ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.cancel, lf[k, LF_PX], np.nan, np.nan, bid, ask)
    legs[k]["reason"] = -1
    li[k, LI_STATE] = CANCELLED
    p = legs[k]["position"]
    if pi[p, PI_READY] == 0:             # an entry leg: the position waits for one order less
        pi[p, PI_PENDING] -= 1


@nb.njit(cache=True)
def _finish_position(p, i, t_s, P, legs, li, lf, pi, pl, pf, ctr, acc):
    """The position's last leg closed (or its orders were cancelled): the day's R, losers, cooldowns."""
    pi[p, PI_DONE] = 1
    if pi[p, PI_FILLED] == 0:            # nothing filled: not an entry after all
        if pi[p, PI_ROLLED_FROM] < 0:
            ctr[C_ENTRIES] -= 1
        return
    pnl_unit = 0.0
    for j in range(pi[p, PI_N]):
        k = pl[p, j]
        if legs[k]["entry_i"] >= 0:
            pnl_unit += legs[k]["side"] * (legs[k]["exit_px"] - legs[k]["entry_px"]) * lf[k, LF_RATIO]
    # R: the combined stop where the position has one, else its first leg's initial stop distance
    risk = P[Param.combined_stop]
    if math.isnan(risk) and not math.isnan(P[Param.stop_pct_credit]):
        risk = P[Param.stop_pct_credit] / 100.0 * pf[p, PF_CREDIT]
    if math.isnan(risk):
        k0 = pl[p, 0]
        if not math.isnan(legs[k0]["initial_stop"]):
            risk = max(abs(legs[k0]["entry_px"] - legs[k0]["initial_stop"]), 1e-9)
    if not math.isnan(risk):
        acc[A_DAY_R] += pnl_unit / max(risk, 1e-9)
    ctr[C_LOSERS] = ctr[C_LOSERS] + 1 if pf[p, PF_RUPEES] < 0 else 0
    if P[Param.cooldown_losers] > 0 and ctr[C_LOSERS] >= P[Param.cooldown_losers]:
        acc[A_COOLDOWN_UNTIL] = t_s[i] + P[Param.cooldown_s]
        ctr[C_LOSERS] = 0
    if not math.isnan(P[Param.cooldown_exit_s]):
        acc[A_NEXT_ENTRY_T] = t_s[i] + P[Param.cooldown_exit_s]


@nb.njit(cache=True)
def _leg_gone(k, i, t_s, P, legs, li, lf, pi, pl, pf, ctr, acc):
    """Leg k is closed or cancelled: the position finishes with its last live leg."""
    p = legs[k]["position"]
    pi[p, PI_ALIVE] -= 1
    if pi[p, PI_ALIVE] == 0 and pi[p, PI_PENDING] == 0:
        _finish_position(p, i, t_s, P, legs, li, lf, pi, pl, pf, ctr, acc)


@nb.njit(cache=True)
def _book_closed_leg(k, i, legs, lf, pf, acc, legs_px):
    tr = legs[k]
    tr["exit_i"], tr["exit_px"] = i, legs_px
    rupees = tr["side"] * (tr["exit_px"] - tr["entry_px"]) * tr["qty"]
    acc[A_DAY_RUPEES] += rupees
    acc[A_CAPITAL] += rupees
    pf[tr["position"], PF_RUPEES] += rupees


@nb.njit(cache=True)
def _fill(k, i, session_over, allow_partial, t_s, Q, book, book_row, LS, P, legs, li, lf, pi, pl, pf, ev, ctr, acc,
          log_events):
    """Try leg k's order (entry or exit) at i; returns nothing, updates the leg and its position."""
    tr = legs[k]
    c = tr["contract"]
    side = tr["side"]
    q = Q[i, c]
    tradable = q[Quote.tradable] > 0
    bid, ask = q[Quote.bid], q[Quote.ask]
    li[k, LI_TRIED] = i
    p = tr["position"]
    if li[k, LI_STATE] == PENDING:
        filled, px = 0.0, np.nan
        otype = li[k, LI_TYPE]
        crossing, skip = otype != OrderType.limit, False     # slippage only when crossing the spread
        if session_over:
            pass
        elif tradable:
            if otype == OrderType.market:
                filled, px = market_fill(book[:, book_row[i, c]], side, tr["qty"], allow_partial)
            elif otype == OrderType.limit and P[Param.queue_model] != QueueKind.full_fill:
                filled, px, crossing, skip = limit_step(
                    lf[k, LF_QUEUE:], book[:, book_row[i, c]], q[Quote.ltp], q[Quote.vol], side, lf[k, LF_PX],
                    tr["qty"], tr["qty"] / (LS[tr["spec"], LegField.lots] * pf[p, PF_LOTS]), i >= li[k, LI_EXPIRE], P)
            elif otype == OrderType.limit:
                px = limit_fill(book[:, book_row[i, c]], q[Quote.ltp], q[Quote.vol], side, lf[k, LF_PX],
                                i == li[k, LI_ARRIVE])
                filled = tr["qty"] if not math.isnan(px) else 0.0
                crossing = i == li[k, LI_ARRIVE] and ((side > 0 and ask <= lf[k, LF_PX] + 1e-9) or
                                                      (side < 0 and bid >= lf[k, LF_PX] - 1e-9))
            else:
                filled, px = walk_book(book[:, book_row[i, c]], side, tr["qty"], lf[k, LF_PX])
        if filled > 0:
            if crossing:
                px = slipped(px, side, q[Quote.slip])
            tr["partial"] = filled < tr["qty"]
            lf[k, LF_QUEUE + Q_REST] = tr["qty"] - filled if otype == OrderType.limit else 0.0
            tr["qty"] = filled
            tr["entry_i"], tr["entry_px"] = i, px
            s0, t0 = initial_levels(LS[tr["spec"]], side, px)
            lf[k, LF_STOP], lf[k, LF_TARGET], lf[k, LF_FAV] = s0, t0, px
            lf[k, LF_MARK] = bid if side > 0 else ask
            tr["initial_stop"] = s0
            tr["mfe"], tr["mae"] = 0.0, 0.0
            li[k, LI_STATE] = OPEN
            ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.fill, px, s0, t0, bid, ask)
            note_fill(ev, ctr[C_EV], log_events, filled, lf[k, LF_QUEUE:])
            if tr["partial"]:
                ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.partial, filled, s0, t0, bid, ask)
            pi[p, PI_FILLED] = 1
            if pi[p, PI_FIRST_FILL] < 0:
                pi[p, PI_FIRST_FILL] = i
            if pi[p, PI_READY] == 0:
                pi[p, PI_PENDING] -= 1
        elif session_over or otype == OrderType.ioc and tradable or i >= li[k, LI_EXPIRE] or skip:
            _cancel(k, i, Q, legs, li, lf, pi, ev, ctr, log_events)
            note_fill(ev, ctr[C_EV], log_events, tr["qty"], lf[k, LF_QUEUE:])
            _leg_gone(k, i, t_s, P, legs, li, lf, pi, pl, pf, ctr, acc)
    elif li[k, LI_STATE] == OPEN:        # the rest of a partly filled resting limit keeps its place
        qs = lf[k, LF_QUEUE:]
        if tradable and not session_over:
            got, px, crossing, skip = limit_step(qs, book[:, book_row[i, c]], q[Quote.ltp], q[Quote.vol], side,
                                                 lf[k, LF_PX], 0.0, 0.0, False, P)
            if got > 0:
                tr["qty"] += got
                tr["partial"] = qs[Q_REST] > 0
                ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.fill, px, lf[k, LF_STOP],
                                      lf[k, LF_TARGET], bid, ask)
                note_fill(ev, ctr[C_EV], log_events, got, qs)
        if qs[Q_REST] > 0 and (session_over or i >= li[k, LI_EXPIRE]):     # as an unfilled order: timed out
            ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.cancel, lf[k, LF_PX], np.nan, np.nan,
                                  bid, ask)
            note_fill(ev, ctr[C_EV], log_events, qs[Q_REST], qs)
            qs[Q_REST] = 0.0
    elif li[k, LI_STATE] == EXITING and tradable:
        want = tr["qty"] - lf[k, LF_XDONE]
        got, px = market_fill(book[:, book_row[i, c]], -side, want, True)
        if got > 0:
            fill_px = slipped(px, -side, q[Quote.slip] + lf[k, LF_PENALTY])
            lf[k, LF_XDONE] += got
            lf[k, LF_XCOST] += got * fill_px
            ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.exit_fill, fill_px, lf[k, LF_STOP],
                                  lf[k, LF_TARGET], bid, ask)
            note_fill(ev, ctr[C_EV], log_events, got, lf[k, LF_QUEUE:LF_QUEUE])
        if lf[k, LF_XDONE] >= tr["qty"] - 1e-9:
            _book_closed_leg(k, i, legs, lf, pf, acc, lf[k, LF_XCOST] / lf[k, LF_XDONE])
            li[k, LI_STATE] = CLOSED
            _leg_gone(k, i, t_s, P, legs, li, lf, pi, pl, pf, ctr, acc)


@nb.njit(cache=True)
def _limit_price(ref, offset, side, Q, i, c):
    """A limit price from the book at the decision: the reference plus `offset` toward the other
    side, on the paise grid (NaN when the reference is not quoted)."""
    bid, ask, ltp = Q[i, c, Quote.bid], Q[i, c, Quote.ask], Q[i, c, Quote.ltp]
    if ref == PriceRef.bid:
        base = bid
    elif ref == PriceRef.ask:
        base = ask
    elif ref == PriceRef.mid:
        base = 0.5 * (bid + ask)
    elif ref == PriceRef.ltp:
        base = ltp
    elif ref == PriceRef.touch:
        base = bid if side > 0 else ask
    else:
        return np.nan
    return math.floor((base + side * offset) * 100.0 + 0.5) / 100.0


@nb.njit(cache=True)
def _new_leg(p, spec, c, side, qty, i, otype, opx, multi, t_s, Q, LS, P, legs, li, lf, pi, pl, ev, ctr, log_events,
             signal_code, signal_px):
    """A new leg of position p with its entry order (reaches the market after the latency)."""
    k = ctr[C_LEGS]
    ctr[C_LEGS] += 1
    tr = legs[k]
    tr["contract"], tr["side"], tr["qty"], tr["signal_i"] = c, side, qty, i
    tr["entry_i"], tr["exit_i"], tr["exit_signal_i"] = -1, -1, -1
    tr["entry_px"], tr["exit_px"], tr["initial_stop"] = np.nan, np.nan, np.nan
    tr["position"], tr["leg"], tr["spec"] = p, pi[p, PI_N], spec
    tr["reason"], tr["mfe"], tr["mae"], tr["both_hit"], tr["partial"] = 0, 0.0, 0.0, False, False
    pl[p, pi[p, PI_N]] = k
    pi[p, PI_N] += 1
    pi[p, PI_ALIVE] += 1
    L = LS[spec]
    li[k, LI_STATE], li[k, LI_TYPE], li[k, LI_TRIED] = PENDING, otype, -1
    li[k, LI_ARRIVE] = arrival(t_s, i, P[Param.latency_s])
    timeout = L[LegField.timeout_s]
    li[k, LI_EXPIRE] = arrival(t_s, li[k, LI_ARRIVE], timeout) if not math.isnan(timeout) else t_s.shape[0] + 1
    lf[k, LF_STOP], lf[k, LF_TARGET], lf[k, LF_FAV], lf[k, LF_MARK] = np.nan, np.nan, np.nan, np.nan
    lf[k, LF_XDONE], lf[k, LF_XCOST], lf[k, LF_PX] = 0.0, 0.0, opx
    lf[k, LF_RATIO], lf[k, LF_PENALTY] = L[LegField.lots], 0.0
    lf[k, LF_QUEUE:] = 0.0                  # no queue state until the order rests (kernels.queue)
    bid, ask = _bidask(Q, i, c)
    ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, signal_code, signal_px if multi or signal_code !=
                          EventKind.signal else Q[i, c, Quote.ltp], np.nan, np.nan, bid, ask)
    ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.order, opx, np.nan, np.nan, bid, ask)
    return k


@nb.njit(cache=True)
def _open_position(i, contracts, dir_, lots, rolled_from, entry_type, entry_px, multi, t_s, Q, lot, LS, P, spot, legs,
                   li, lf, pi, pl, pf, fired, positions, ev, ctr, log_events):
    """A position with its entry legs (LS rows without `added`) on the given contracts."""
    p = ctr[C_POS]
    ctr[C_POS] += 1
    pi[p, :] = 0
    pi[p, PI_SIGNAL_I], pi[p, PI_FIRST_FILL], pi[p, PI_ROLLED_FROM], pi[p, PI_DIR] = i, -1, rolled_from, dir_
    pf[p, :] = 0.0
    pf[p, PF_LOTS], pf[p, PF_SPOT] = lots, spot[i]
    fired[p, :] = False
    positions[p]["signal_i"], positions[p]["exit_i"], positions[p]["rolled_from"] = i, -1, rolled_from
    positions[p]["lots"] = lots
    positions[p]["reason"], positions[p]["credit"], positions[p]["legs"] = 0, 0.0, 0
    n = 0
    for s in range(LS.shape[0]):
        if LS[s, LegField.added] > 0:
            continue
        c = contracts[s]
        side = int(LS[s, LegField.side]) * dir_
        otype = int(LS[s, LegField.order])
        opx = np.nan
        if otype != OrderType.market:
            opx = _limit_price(int(LS[s, LegField.price_ref]), LS[s, LegField.offset], side, Q, i, c)
        if n == 0 and entry_type >= 0:           # the plan's own order for its contract
            otype = entry_type
            opx = entry_px if otype != OrderType.market else np.nan
        _new_leg(p, s, c, side, LS[s, LegField.lots] * lots * lot[c], i, otype, opx, multi, t_s, Q, LS, P, legs, li,
                 lf, pi, pl, ev, ctr, log_events, EventKind.signal, np.nan)
        n += 1
    pi[p, PI_PENDING] = n
    return p


@nb.njit(cache=True)
def _close_position(p, i, reason, multi, t_s, Q, P, legs, li, lf, pi, pl, pf, ev, ctr, acc, log_events):
    """Exit decisions for every open leg of p (legs already exiting keep theirs); unfilled entry
    orders of p are cancelled."""
    for j in range(pi[p, PI_N]):
        k = pl[p, j]
        if li[k, LI_STATE] == OPEN:
            _decide_exit(k, i, reason, False, multi, t_s, Q, P, legs, li, lf, pi, pl, ev, ctr, log_events)
        elif li[k, LI_STATE] == PENDING:
            _cancel(k, i, Q, legs, li, lf, pi, ev, ctr, log_events)
            _leg_gone(k, i, t_s, P, legs, li, lf, pi, pl, pf, ctr, acc)


@nb.njit(cache=True)
def _picks(i, leg_contract, LS, out):
    """The contracts the selectors pick at i (into `out`); False when an entry leg has none."""
    ok = True
    for s in range(LS.shape[0]):
        out[s] = leg_contract[s, i]
        if LS[s, LegField.added] == 0 and out[s] < 0:
            ok = False
    return ok


@nb.njit(cache=True)
def _roll_gain(p, i, picks, score, pi, pl, legs, LS):
    """The picks' total score over the current legs' (0 when no pick differs or nothing scores)."""
    differs = False
    old, new = 0.0, 0.0
    for j in range(pi[p, PI_N]):
        k = pl[p, j]
        s = legs[k]["spec"]
        if LS[s, LegField.added] > 0:
            continue
        c_new = picks[s]
        if c_new < 0:
            return 0.0
        if c_new != legs[k]["contract"]:
            differs = True
        old += score[i, legs[k]["contract"]]
        new += score[i, c_new]
    if not differs or old <= 0:
        return 0.0
    return new / old


@nb.njit(cache=True)
def _picks_differ(p, picks, pi, pl, legs, LS):
    for j in range(pi[p, PI_N]):
        k = pl[p, j]
        s = legs[k]["spec"]
        if LS[s, LegField.added] == 0 and picks[s] >= 0 and picks[s] != legs[k]["contract"]:
            return True
    return False


@nb.njit(cache=True)
def run_positions(t_s, Q, book, book_row, lot, last_real, entry_i, entry_c, entry_dir, entry_type, entry_px,
                  leg_contract, cond, exit_sig, score, delta, spot, LS, P, windows, kills, ADJ, log_events, max_legs,
                  max_events):
    S = Q.shape[0]
    NL = LS.shape[0]
    NA = ADJ.shape[0]
    multi = NL > 1
    # the buffers are sized for the busiest day but a day uses a few thousand rows: np.empty (no
    # memset of ~25 MB per call, untouched pages never mapped); every record and state row is
    # written whole when it is created (_new_leg, _open_position, log_event) before it is read
    legs = np.empty(max_legs, LEG_DTYPE)
    positions = np.empty(max_legs, POSITION_DTYPE)
    ev = np.empty(max_events if log_events else 1, EVENT_DTYPE)
    li = np.empty((max_legs, 5), np.int64)
    lf = np.empty((max_legs, LF_QUEUE + N_QUEUE_STATE), np.float64)
    pi = np.empty((max_legs, 10), np.int64)
    pl = np.empty((max_legs, MAX_POSITION_LEGS), np.int64)
    pf = np.empty((max_legs, 4), np.float64)
    fired = np.empty((max_legs, max(NA, 1)), np.bool_)
    ctr = np.zeros(6, np.int64)
    acc = np.zeros(5, np.float64)
    acc[A_CAPITAL] = P[Param.capital] if not math.isnan(P[Param.capital]) else 0.0
    acc[A_COOLDOWN_UNTIL], acc[A_NEXT_ENTRY_T] = -1.0, -1.0
    active = np.zeros(max_legs, np.int64)        # live legs (pending, open, exiting) in creation order
    n_active = 0
    live_pos = np.zeros(max_legs, np.int64)      # positions not finished, in creation order
    n_live = 0
    picks = np.zeros(NL, np.int64)
    latency = P[Param.latency_s]
    allow_partial = P[Param.partial_beyond_book] > 0
    eod_fix = not (P[Param.close_at_end_of_data] == 0)
    check_cond = int(P[Param.check_cond]) if not math.isnan(P[Param.check_cond]) else -1
    # the old single-leg engine's order within a second (contracts in strike order, each one's fills
    # and entries together): an entry does not see what a higher contract's fill changed that second
    legacy_order = P[Param.legacy_contract_order] > 0
    fin_c = np.zeros(max_legs, np.int64)
    fin_d = np.zeros((max_legs, 5), np.float64)
    n_fin = 0
    reduce_oldest = False         # a full stack admits a new position and closes its oldest
    for x in range(NA):
        if int(ADJ[x, AdjField.trigger]) == Trigger.new_position and int(ADJ[x, AdjField.action]) == Action.close_oldest:
            reduce_oldest = True
    e = 0
    E = entry_i.shape[0]
    for i in range(S):
        sod = t_s[i] % DAY_S
        session_over = sod >= P[Param.session_exit_s]
        for phase in range(2):
            # 1. orders that reached the market (phase 1: only those decided at i, zero latency)
            n_fin = 0
            for a in range(n_active):
                k = active[a]
                st = li[k, LI_STATE]
                if (st == PENDING or st == EXITING or st == OPEN and lf[k, LF_QUEUE + Q_REST] > 0) and \
                        i >= li[k, LI_ARRIVE] and not (phase == 1 and li[k, LI_TRIED] == i):
                    p = legs[k]["position"]
                    done0, r0, rs0, cool0, next0 = pi[p, PI_DONE], acc[A_DAY_R], acc[A_DAY_RUPEES], \
                        acc[A_COOLDOWN_UNTIL], acc[A_NEXT_ENTRY_T]
                    _fill(k, i, session_over, allow_partial, t_s, Q, book, book_row, LS, P, legs, li, lf, pi, pl, pf,
                          ev, ctr, acc, log_events)
                    if legacy_order and pi[p, PI_DONE] != done0:
                        fin_c[n_fin] = legs[k]["contract"]
                        fin_d[n_fin, 0], fin_d[n_fin, 1], fin_d[n_fin, 2] = 1.0, acc[A_DAY_R] - r0, \
                            acc[A_DAY_RUPEES] - rs0
                        fin_d[n_fin, 3], fin_d[n_fin, 4] = cool0, next0
                        n_fin += 1
            if phase == 1:
                break
            # 2. marks and each open leg's own exits
            for a in range(n_active):
                k = active[a]
                st = li[k, LI_STATE]
                if st != OPEN and st != EXITING:
                    continue
                tr = legs[k]
                c = tr["contract"]
                side = tr["side"]
                q = Q[i, c]
                tradable = q[Quote.tradable] > 0
                if tradable:
                    exec_px = q[Quote.bid] if side > 0 else q[Quote.ask]
                    if not math.isnan(exec_px):
                        lf[k, LF_MARK] = exec_px
                if st != OPEN:
                    continue
                L = LS[tr["spec"]]
                reason = 0
                both = False
                if tradable:
                    exec_px = q[Quote.bid] if side > 0 else q[Quote.ask]
                    # a trade counts only if it printed in this second, after the entry second: a
                    # stale LTP from before the entry must not trail the stop or hit the target
                    traded = q[Quote.ltp] if q[Quote.vol] > 0 and i > tr["entry_i"] else np.nan
                    ref = traded if L[LegField.trail_on_ltp] > 0 else exec_px
                    if not math.isnan(ref) and (ref - lf[k, LF_FAV]) * side > 0:
                        lf[k, LF_FAV] = ref
                    if not math.isnan(exec_px):
                        move = (exec_px - tr["entry_px"]) * side
                        tr["mfe"] = max(tr["mfe"], move)
                        tr["mae"] = min(tr["mae"], move)
                    new_stop = trailed_stop(L, side, tr["entry_px"], lf[k, LF_STOP], lf[k, LF_FAV], q[Quote.atr],
                                            q[Quote.ema])
                    if new_stop != lf[k, LF_STOP] and not math.isnan(new_stop):
                        lf[k, LF_STOP] = new_stop
                        ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.stop_move, exec_px, new_stop,
                                              lf[k, LF_TARGET], q[Quote.bid], q[Quote.ask])
                    moved = not math.isnan(lf[k, LF_STOP]) and lf[k, LF_STOP] != tr["initial_stop"]
                    reason, both = price_trigger(side, exec_px, traded, lf[k, LF_STOP], lf[k, LF_TARGET], moved)
                    if (reason == 0 and L[LegField.exit_on_signal] > 0 and exit_sig[i, c] != 0
                            and exit_sig[i, c] == -side):
                        reason = ExitReason.signal_exit
                if (reason == 0 and not math.isnan(L[LegField.time_stop_s])
                        and t_s[i] - t_s[tr["entry_i"]] >= L[LegField.time_stop_s]):
                    reason = ExitReason.time_stop
                if reason != 0:
                    _decide_exit(k, i, reason, both, multi, t_s, Q, P, legs, li, lf, pi, pl, ev, ctr, log_events)
                    if positions[tr["position"]]["reason"] == 0:
                        positions[tr["position"]]["reason"] = reason
            # 3. position rules, then adjustments
            for a in range(n_live):
                p = live_pos[a]
                if pi[p, PI_DONE] or pi[p, PI_PENDING] > 0:
                    continue
                n_open = 0
                for j in range(pi[p, PI_N]):
                    if li[pl[p, j], LI_STATE] == OPEN:
                        n_open += 1
                if n_open == 0:
                    continue
                if pi[p, PI_READY] == 0:          # every entry leg resolved: the credit is known
                    pi[p, PI_READY] = 1
                    credit = 0.0
                    for j in range(pi[p, PI_N]):
                        k = pl[p, j]
                        if legs[k]["entry_i"] >= 0 and LS[legs[k]["spec"], LegField.premium] > 0:
                            credit -= legs[k]["side"] * legs[k]["entry_px"] * lf[k, LF_RATIO]
                    pf[p, PF_CREDIT] = credit
                    positions[p]["credit"] = credit
                pnl = _position_pnl(p, pi, pl, legs, li, lf)
                credit = pf[p, PF_CREDIT]
                reason = 0
                roll = False
                if session_over:
                    reason = ExitReason.session_exit
                elif ((not math.isnan(P[Param.combined_stop]) and pnl <= -P[Param.combined_stop] + 1e-9) or
                      (not math.isnan(P[Param.stop_pct_credit]) and
                       pnl <= -P[Param.stop_pct_credit] / 100.0 * credit + 1e-9)):
                    reason = ExitReason.combined_stop
                if reason == 0 and not math.isnan(P[Param.leg_diff_exit]):
                    la, lb = int(P[Param.div_leg_a]), int(P[Param.div_leg_b])
                    if la < pi[p, PI_N] and lb < pi[p, PI_N]:
                        ka, kb = pl[p, la], pl[p, lb]
                        if li[ka, LI_STATE] == OPEN and li[kb, LI_STATE] == OPEN:
                            cha = lf[ka, LF_MARK] - legs[ka]["entry_px"]
                            chb = lf[kb, LF_MARK] - legs[kb]["entry_px"]
                            if abs(cha - chb) >= P[Param.leg_diff_exit] - 1e-9:
                                reason = ExitReason.leg_divergence
                if reason == 0:
                    for x in range(kills.shape[0]):
                        if cond[kills[x, 0], i]:
                            reason = kills[x, 1]
                            break
                if reason == 0:
                    if not math.isnan(P[Param.credit_capture]) and pnl >= P[Param.credit_capture] * credit - 1e-9:
                        reason = ExitReason.credit_captured
                    elif not math.isnan(P[Param.combined_target]) and pnl >= P[Param.combined_target] - 1e-9:
                        reason = ExitReason.combined_target
                if (reason == 0 and not math.isnan(P[Param.max_hold_s]) and pi[p, PI_FIRST_FILL] >= 0
                        and t_s[i] - t_s[pi[p, PI_FIRST_FILL]] >= P[Param.max_hold_s]):
                    reason = ExitReason.max_hold
                has_picks = False
                if reason == 0 and (check_cond >= 0 or not math.isnan(P[Param.roll_after_s])):
                    has_picks = _picks(i, leg_contract, LS, picks)
                if reason == 0 and check_cond >= 0 and cond[check_cond, i]:
                    if pnl >= P[Param.check_close_pnl] - 1e-9:
                        reason = ExitReason.scheduled_close
                    elif has_picks and n_open == pi[p, PI_N] and _picks_differ(p, picks, pi, pl, legs, LS):
                        reason, roll = ExitReason.roll, True
                if (reason == 0 and not math.isnan(P[Param.roll_after_s]) and has_picks
                        and t_s[i] - t_s[pi[p, PI_SIGNAL_I]] >= P[Param.roll_after_s]
                        and pnl >= P[Param.roll_min_pnl] and n_open == pi[p, PI_N]
                        and _roll_gain(p, i, picks, score, pi, pl, legs, LS) >= P[Param.roll_score_mult]):
                    reason, roll = ExitReason.roll, True
                if reason != 0:
                    if roll and not math.isnan(P[Param.roll_penalty]):
                        for j in range(pi[p, PI_N]):
                            lf[pl[p, j], LF_PENALTY] = P[Param.roll_penalty]
                    _close_position(p, i, reason, multi, t_s, Q, P, legs, li, lf, pi, pl, pf, ev, ctr, acc,
                                    log_events)
                    positions[p]["reason"] = reason
                    if roll and not session_over and ctr[C_POS] < max_legs and ctr[C_LEGS] + NL <= max_legs:
                        newp = _open_position(i, picks, pi[p, PI_DIR], pf[p, PF_LOTS], p, -1, np.nan, multi, t_s, Q,
                                              lot, LS, P, spot, legs, li, lf, pi, pl, pf, fired, positions, ev, ctr,
                                              log_events)
                        for j in range(pi[newp, PI_N]):
                            active[n_active] = pl[newp, j]
                            n_active += 1
                        live_pos[n_live] = newp
                        n_live += 1
                    continue
                if not math.isnan(P[Param.leg_stop]):
                    for j in range(pi[p, PI_N]):
                        k = pl[p, j]
                        if li[k, LI_STATE] == OPEN and legs[k]["side"] < 0 and LS[legs[k]["spec"], LegField.premium] > 0 \
                                and lf[k, LF_MARK] - legs[k]["entry_px"] >= P[Param.leg_stop] - 1e-9:
                            _decide_exit(k, i, ExitReason.leg_stop, False, multi, t_s, Q, P, legs, li, lf, pi, pl, ev,
                                         ctr, log_events)
                # adjustments
                for x in range(NA):
                    if ADJ[x, AdjField.once] > 0 and fired[p, x]:
                        continue
                    trig = int(ADJ[x, AdjField.trigger])
                    arg = int(ADJ[x, AdjField.arg])
                    thr, sgn = ADJ[x, AdjField.threshold], ADJ[x, AdjField.sign]
                    hit, direction, value = False, 1, np.nan
                    if trig == Trigger.cond:
                        hit = cond[arg, i]
                    elif trig == Trigger.spot_move or trig == Trigger.leg_change:
                        if trig == Trigger.spot_move:
                            value = (spot[i] / pf[p, PF_SPOT] - 1.0) * 100.0
                        elif arg < pi[p, PI_N] and legs[pl[p, arg]]["entry_i"] >= 0:
                            value = lf[pl[p, arg], LF_MARK] - legs[pl[p, arg]]["entry_px"]
                        if not math.isnan(value):
                            hit = (value >= thr - 1e-9) if sgn > 0 else (value <= -thr + 1e-9) if sgn < 0 else \
                                abs(value) >= thr - 1e-9
                            direction = 1 if value >= 0 else -1
                    elif trig == Trigger.net_delta:
                        value = 0.0
                        for j in range(pi[p, PI_N]):
                            k = pl[p, j]
                            if li[k, LI_STATE] == OPEN:
                                d = delta[i, legs[k]["contract"]]
                                value += legs[k]["side"] * lf[k, LF_RATIO] * (d if LS[legs[k]["spec"], LegField.premium]
                                                                              > 0 else 1.0)
                        hit = not math.isnan(value) and abs(value) >= thr - 1e-9
                        direction = -1 if value > 0 else 1     # the side that flattens it
                    elif trig == Trigger.leg_closed:
                        hit = arg < pi[p, PI_N] and li[pl[p, arg], LI_STATE] >= EXITING
                    if not hit:
                        continue
                    fired[p, x] = True
                    act = int(ADJ[x, AdjField.action])
                    target = int(ADJ[x, AdjField.leg])
                    if act == Action.close_leg:
                        if target < pi[p, PI_N] and li[pl[p, target], LI_STATE] == OPEN:
                            k = pl[p, target]
                            ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.adjustment, value, np.nan,
                                                  np.nan, Q[i, legs[k]["contract"], Quote.bid],
                                                  Q[i, legs[k]["contract"], Quote.ask])
                            _decide_exit(k, i, ExitReason.adjustment, False, multi, t_s, Q, P, legs, li, lf, pi, pl,
                                         ev, ctr, log_events)
                    elif act == Action.open_leg:
                        c = leg_contract[target, i]
                        if c >= 0 and pi[p, PI_N] < MAX_POSITION_LEGS and ctr[C_LEGS] < max_legs and not session_over:
                            aside = int(LS[target, LegField.side]) * pi[p, PI_DIR]
                            if LS[target, LegField.side_from_trigger] > 0:
                                aside *= direction
                            otype = int(LS[target, LegField.order])
                            opx = np.nan if otype == OrderType.market else _limit_price(
                                int(LS[target, LegField.price_ref]), LS[target, LegField.offset], aside, Q, i, c)
                            k = _new_leg(p, target, c, aside, LS[target, LegField.lots] * pf[p, PF_LOTS] * lot[c], i,
                                         otype, opx, multi, t_s, Q, LS, P, legs, li, lf, pi, pl, ev, ctr, log_events,
                                         EventKind.adjustment, value)
                            active[n_active] = k
                            n_active += 1
                    elif act == Action.close_position:
                        _close_position(p, i, ExitReason.adjustment, multi, t_s, Q, P, legs, li, lf, pi, pl, pf, ev,
                                        ctr, acc, log_events)
                        positions[p]["reason"] = ExitReason.adjustment
            # 4. the end of a contract's data: close there, decided and filled at its last real quote
            if eod_fix:
                for a in range(n_active):
                    k = active[a]
                    c = legs[k]["contract"]
                    if last_real[c] != i:
                        continue
                    st = li[k, LI_STATE]
                    if st == PENDING:
                        _cancel(k, i, Q, legs, li, lf, pi, ev, ctr, log_events)
                        _leg_gone(k, i, t_s, P, legs, li, lf, pi, pl, pf, ctr, acc)
                    elif st == OPEN or st == EXITING:
                        tr = legs[k]
                        bid, ask = _bidask(Q, i, c)
                        px = bid if tr["side"] > 0 else ask
                        tr["reason"], tr["exit_signal_i"] = ExitReason.end_of_data, i
                        ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.exit_signal,
                                              _event_price(multi, tr["position"], k, i, Q, pi, pl, legs, li, lf),
                                              lf[k, LF_STOP], lf[k, LF_TARGET], bid, ask)
                        left = tr["qty"] - lf[k, LF_XDONE]
                        ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, i, EventKind.exit_fill, px, lf[k, LF_STOP],
                                              lf[k, LF_TARGET], bid, ask)
                        _book_closed_leg(k, i, legs, lf, pf, acc, (lf[k, LF_XCOST] + left * px) / tr["qty"])
                        li[k, LI_STATE] = CLOSED
                        p = tr["position"]
                        if positions[p]["reason"] == 0:
                            positions[p]["reason"] = ExitReason.end_of_data
                        _leg_gone(k, i, t_s, P, legs, li, lf, pi, pl, pf, ctr, acc)
            # 5. entry candidates
            while e < E and entry_i[e] < i:
                e += 1
            while e < E and entry_i[e] == i:
                cand = e
                e += 1
                if session_over or ctr[C_POS] >= max_legs or ctr[C_LEGS] + NL > max_legs:
                    continue
                inside = False
                for w in range(windows.shape[0]):
                    if windows[w, 0] <= sod <= windows[w, 1]:
                        inside = True
                if not inside:
                    continue
                n_open_pos = 0
                for a in range(n_live):
                    if pi[live_pos[a], PI_DONE] == 0:
                        n_open_pos += 1
                day_r, day_rupees = acc[A_DAY_R], acc[A_DAY_RUPEES]
                cool_until, next_entry = acc[A_COOLDOWN_UNTIL], acc[A_NEXT_ENTRY_T]
                if legacy_order:        # hide what higher contracts' fills changed this second
                    for x in range(n_fin - 1, -1, -1):
                        if fin_c[x] > entry_c[cand]:
                            n_open_pos += 1
                            day_r -= fin_d[x, 1]
                            day_rupees -= fin_d[x, 2]
                            cool_until, next_entry = fin_d[x, 3], fin_d[x, 4]
                if n_open_pos >= P[Param.max_open] and not (reduce_oldest and n_open_pos > 0):
                    continue
                if not math.isnan(P[Param.max_entries]) and ctr[C_ENTRIES] >= P[Param.max_entries]:
                    continue
                if t_s[i] < cool_until or t_s[i] < next_entry:
                    continue
                if not math.isnan(P[Param.daily_loss_r]) and day_r <= -P[Param.daily_loss_r]:
                    continue
                if not math.isnan(P[Param.daily_loss_rupees]) and day_rupees <= -P[Param.daily_loss_rupees]:
                    continue
                _picks(i, leg_contract, LS, picks)
                if entry_c[cand] >= 0:
                    picks[0] = entry_c[cand]
                ok = True
                for s in range(NL):
                    if LS[s, LegField.added] == 0 and picks[s] < 0:
                        ok = False
                if not ok:
                    continue
                dir_ = int(entry_dir[cand])
                if P[Param.one_per_contract] > 0:
                    for a in range(n_active):
                        k = active[a]
                        if li[k, LI_STATE] <= EXITING:
                            for s in range(NL):
                                if LS[s, LegField.added] == 0 and picks[s] == legs[k]["contract"]:
                                    ok = False
                    if not ok:
                        continue
                if not math.isnan(P[Param.min_credit]):
                    credit = 0.0
                    for s in range(NL):
                        if LS[s, LegField.added] == 0 and LS[s, LegField.premium] > 0:
                            lside = LS[s, LegField.side] * dir_
                            px = Q[i, picks[s], Quote.bid] if lside < 0 else Q[i, picks[s], Quote.ask]
                            credit -= lside * px * LS[s, LegField.lots]
                    if not credit >= P[Param.min_credit] - 1e-9:      # NaN (unquoted) fails too
                        continue
                lots = P[Param.qty_lots]
                sizing = int(P[Param.sizing])
                if sizing != Sizing.fixed:
                    stop_u = P[Param.combined_stop]
                    if math.isnan(stop_u):
                        stop_u = LS[0, LegField.stop]
                    budget = P[Param.risk_rupees] if sizing == Sizing.risk else P[Param.kelly_fraction] * acc[A_CAPITAL]
                    lots = float(math.floor(budget / (stop_u * lot[picks[0]]) + 1e-9))
                    if not lots >= 1:
                        continue
                ctr[C_ENTRIES] += 1
                newp = _open_position(i, picks, dir_, lots, -1, int(entry_type[cand]), entry_px[cand], multi, t_s, Q,
                                      lot, LS, P, spot, legs, li, lf, pi, pl, pf, fired, positions, ev, ctr, log_events)
                for j in range(pi[newp, PI_N]):
                    active[n_active] = pl[newp, j]
                    n_active += 1
                # a new position: adjustments that act on the stack (reduce the oldest)
                for x in range(NA):
                    if int(ADJ[x, AdjField.trigger]) == Trigger.new_position and \
                            int(ADJ[x, AdjField.action]) == Action.close_oldest and n_open_pos >= P[Param.max_open]:
                        for a in range(n_live):
                            old = live_pos[a]
                            if pi[old, PI_DONE] == 0:
                                k0 = pl[old, 0]
                                ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k0, i, EventKind.adjustment, np.nan,
                                                      np.nan, np.nan, Q[i, legs[k0]["contract"], Quote.bid],
                                                      Q[i, legs[k0]["contract"], Quote.ask])
                                _close_position(old, i, ExitReason.stack_reduced, multi, t_s, Q, P, legs, li, lf, pi,
                                                pl, pf, ev, ctr, acc, log_events)
                                positions[old]["reason"] = ExitReason.stack_reduced
                                break
                live_pos[n_live] = newp
                n_live += 1
            if latency > 0:
                break
        # drop finished legs and positions from the live lists (creation order kept)
        m = 0
        for a in range(n_active):
            k = active[a]
            if li[k, LI_STATE] <= EXITING:
                active[m] = k
                m += 1
        n_active = m
        m = 0
        for a in range(n_live):
            p = live_pos[a]
            if pi[p, PI_DONE] == 0:
                live_pos[m] = p
                m += 1
            elif positions[p]["exit_i"] < 0:
                positions[p]["exit_i"] = i
        n_live = m
    # without the end-of-data rule (the old engines): legs still open close at their contract's
    # last executable price after the loop, flagged
    for a in range(n_active):
        k = active[a]
        tr = legs[k]
        st = li[k, LI_STATE]
        if st == PENDING:
            tr["reason"] = -1
            continue
        c = tr["contract"]
        side = tr["side"]
        for j in range(S - 1, -1, -1):
            if Q[j, c, Quote.tradable] > 0:
                px = Q[j, c, Quote.bid] if side > 0 else Q[j, c, Quote.ask]
                tr["exit_px"] = (lf[k, LF_XCOST] + (tr["qty"] - lf[k, LF_XDONE]) * px) / tr["qty"]
                tr["exit_i"] = j
                break
        if tr["reason"] == 0 or st == OPEN:
            tr["reason"] = ExitReason.end_of_data
        ctr[C_EV] = log_event(ev, ctr[C_EV], log_events, k, tr["exit_i"], EventKind.exit_fill, tr["exit_px"],
                              lf[k, LF_STOP], lf[k, LF_TARGET], np.nan, np.nan)
    return legs[:ctr[C_LEGS]], positions[:ctr[C_POS]], ev[:ctr[C_EV]]
