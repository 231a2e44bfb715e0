"""The backtest's vocabulary, declared once: exit reasons, event kinds, order types, the fields of
the quote matrix and of the parameter record the engine kernels read, and the record dtypes the
kernels write (vectorbt's `enums` layout).

Each enum is a NamedTuple instance: Numba kernels read `ExitReason.stop` or `P[Param.target]` as
compile-time constants, readers and linters see every name, and the names tables the trade-leg
and event rows are written with are the enums' own field names (code 0 is "no reason / no event").
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class ExitReasonT(NamedTuple):
    none: int = 0
    target: int = 1
    stop: int = 2
    trailing_stop: int = 3         # a stop that moved (locks, trail, ATR or EMA trail) was hit
    time_stop: int = 4
    session_exit: int = 5
    signal_exit: int = 6
    combined_stop: int = 7         # multi-leg: combined P&L per unit
    leg_divergence: int = 8
    spot_move: int = 9
    credit_captured: int = 10
    leg_stop: int = 11
    roll: int = 12
    end_of_data: int = 13          # still open when the day's data ended: closed at the last quote


ExitReason = ExitReasonT()


class EventKindT(NamedTuple):
    none: int = 0
    signal: int = 1
    order: int = 2
    fill: int = 3
    cancel: int = 4
    stop_move: int = 5
    exit_signal: int = 6
    exit_order: int = 7
    exit_fill: int = 8
    partial: int = 9
    stop_and_target_same_second: int = 10


EventKind = EventKindT()


class OrderTypeT(NamedTuple):
    market: int = 0
    limit: int = 1
    ioc: int = 2


OrderType = OrderTypeT()


class QuoteT(NamedTuple):
    """Fields of the quote matrix Q[second, contract, field] (backtest.data.load_day fills it)."""
    bid: int = 0
    ask: int = 1
    ltp: int = 2
    vol: int = 3
    tradable: int = 4      # 1: a real snapshot with a two-sided book and an LTP this second
    atr: int = 5           # atr_1m, for the ATR trail
    ema: int = 6           # ema18, for the EMA trail
    slip: int = 7          # rupees per unit of slippage (the slippage model's matrix)


Quote = QuoteT()
N_QUOTE = len(QuoteT._fields)


class ParamT(NamedTuple):
    """Index of each field of the float64 parameter record the engine kernels read (NaN: rule off).

    Built by StrategyConfig.param_vector from the config's exits, risk, params and execution models.
    Prices are rupees per unit unless *_pct (percent of the entry premium); times are seconds."""
    # execution models
    latency_s: int
    partial_beyond_book: int
    # entries and risk
    qty_lots: int
    entry_timeout_s: int
    entry_start_s: int
    entry_end_s: int
    max_open: int
    daily_loss_r: int           # single leg: stop entering once the day's closed legs lost this many R
    daily_loss_rupees: int      # both engines: ... once they lost this many rupees (gross, before charges)
    cooldown_losers: int
    cooldown_s: int
    # exits
    target: int
    stop: int
    target_pct: int
    stop_pct: int
    time_stop_s: int
    session_exit_s: int
    trail_activate: int
    trail_offset: int
    trail_on_ltp: int
    atr_mult: int
    ema_gap: int                # the EMA trail: stop at ema18 -/+ this many rupees
    lock1_at: int
    lock1_to: int
    lock2_at: int
    lock2_to: int
    lock3_at: int
    lock3_to: int
    max_entries: int
    # multi-leg
    combined_stop: int
    leg_diff_exit: int
    spot_roc_exit: int
    credit_capture: int
    leg_stop: int
    roll_after_s: int
    roll_score_mult: int


Param = ParamT(*range(len(ParamT._fields)))
N_PARAMS = len(ParamT._fields)
N_LOCKS = 3                      # lock1..lock3: consecutive (at, to) pairs from Param.lock1_at


def names(enum: NamedTuple) -> tuple[str, ...]:
    """The names table of an enum, by code (code 0 is the empty name)."""
    out = [""] * len(enum)
    for name, code in enum._asdict().items():
        out[code] = "" if code == 0 else name
    return tuple(out)


EXIT_REASONS = names(ExitReason)
EVENT_KINDS = names(EventKind)

# one leg of a trade as the kernels write it (indices are seconds of the day's grid, -1 = none); an
# event names the leg by its record's index (`record`)
LEG_DTYPE = np.dtype([("contract", np.int32), ("side", np.int8), ("qty", np.float64), ("signal_i", np.int32),
                      ("entry_i", np.int32), ("entry_px", np.float64), ("exit_signal_i", np.int32),
                      ("exit_i", np.int32), ("exit_px", np.float64), ("reason", np.int8), ("mfe", np.float64),
                      ("mae", np.float64), ("initial_stop", np.float64), ("both_hit", np.bool_),
                      ("partial", np.bool_)])
# a multi-leg position's legs: which position and which leg of it (0 = CE, 1 = PE)
POSITION_LEG_DTYPE = np.dtype(LEG_DTYPE.descr + [("position", np.int32), ("leg", np.int8)])
EVENT_DTYPE = np.dtype([("record", np.int32), ("i", np.int32), ("code", np.int8), ("price", np.float64),
                        ("stop", np.float64), ("target", np.float64), ("bid", np.float64), ("ask", np.float64)])
