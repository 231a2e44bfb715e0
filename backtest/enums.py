"""The backtest's vocabulary, declared once: exit reasons, event kinds, order types, the fields of
the quote matrix and of the records the position engine reads (the rules vector, the leg specs,
the adjustments), and the record dtypes the engine writes (vectorbt's `enums` layout).

Each enum is a NamedTuple instance: Numba kernels read `ExitReason.stop` or `P[Param.max_open]` as
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
    combined_stop: int = 7         # position: combined P&L per unit at -x rupees or -x % of the credit
    leg_divergence: int = 8
    spot_move: int = 9             # a kill-switch on the index (e.g. |1-minute ROC| >= 0.25 %)
    credit_captured: int = 10
    leg_stop: int = 11             # position rule: one leg's loss reached x, that leg bought back alone
    roll: int = 12
    end_of_data: int = 13          # alive at its contract's last real second: closed there, flagged
    combined_target: int = 14
    max_hold: int = 15
    scheduled_close: int = 16      # a scheduled check (a ladder's bucket end) found the P&L good enough
    adjustment: int = 17           # an adjustment closed this leg (or the whole position)
    stack_reduced: int = 18        # the oldest of a stack closed when a new position opened
    kill_switch: int = 19          # a kill-switch on a market condition (named in the config)
    iv_jump: int = 20


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
    adjustment: int = 11           # an adjustment fired (logged on the leg it opens or closes)


EventKind = EventKindT()


class OrderTypeT(NamedTuple):
    market: int = 0
    limit: int = 1
    ioc: int = 2


OrderType = OrderTypeT()


class PriceRefT(NamedTuple):
    """Where a limit or IOC order's price comes from (plus the leg's offset toward the other side)."""
    signal: int = 0    # the plan's own price for the entry (e.g. the breakout LTP)
    bid: int = 1
    ask: int = 2
    mid: int = 3
    ltp: int = 4
    touch: int = 5     # the order's own side of the book: a buy joins the bid, a sell the ask


PriceRef = PriceRefT()


class QueueKindT(NamedTuple):
    """How a resting LIMIT order's queue ahead advances (backtest.kernels.queue)."""
    full_fill: int = 0     # no queue: fills in full once quoted or traded through (the engine before #18)
    risk_averse: int = 1   # only trades at the level advance it; cancellations never do (hftbacktest)
    prob: int = 2          # cancellations advance it with a probability from the position in the queue


QueueKind = QueueKindT()


class ProbFuncT(NamedTuple):
    """hftbacktest's probability functions: the share of a cancellation that happened behind us."""
    power: int = 0         # f(back) / (f(back) + f(front)), f(x) = x ** n
    log: int = 1           # the same with f(x) = log(1 + x)
    power2: int = 2        # f(back) / f(back + front), f(x) = x ** n
    log2: int = 3          # the same with f(x) = log(1 + x)
    power3: int = 4        # 1 - (front / (front + back)) ** n


ProbFunc = ProbFuncT()


class SizingT(NamedTuple):
    fixed: int = 0     # lots = risk.qty_lots
    risk: int = 1      # lots = floor(risk_rupees / (stop x lot size))
    kelly: int = 2     # lots = floor(kelly_fraction x tracked capital / (stop x lot size))


Sizing = SizingT()


class TriggerT(NamedTuple):
    """What fires an adjustment (AdjField.trigger)."""
    cond: int = 0          # a named market condition is true this second
    spot_move: int = 1     # the index moved >= x % from the position's entry (sign: +1 up, -1 down, 0 either)
    leg_change: int = 2    # leg l's mark - entry >= x (sign as above)
    net_delta: int = 3     # |the position's net delta per lot| >= x
    leg_closed: int = 4    # leg l is closed (or closing)
    new_position: int = 5  # another position of the strategy opened this second


Trigger = TriggerT()


class ActionT(NamedTuple):
    close_leg: int = 0       # buy back / sell out leg l
    open_leg: int = 1        # open the ADDED leg spec l
    close_oldest: int = 2    # close the oldest open position of the stack
    close_position: int = 3  # close every leg of this position


Action = ActionT()


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
    """Fields of the float64 rules vector P the engine reads (NaN: rule off): the execution models,
    the strategy's entry rules and the position rules. Prices are rupees per unit of premium,
    times seconds (of the day where *_s names a clock time). StrategyConfig.compile builds it."""
    # execution models
    latency_s: int
    partial_beyond_book: int
    queue_model: int            # enums.QueueKind: how a resting limit's queue ahead advances
    queue_func: int             # enums.ProbFunc of the probability model
    queue_n: int                # the power of the power functions
    queue_skip_rank: int        # cancel a limit that would rest this far back in its queue or worse (NaN: off)
    queue_order_lots: int       # the typical order size ahead of us, in lots (estimates the rank)
    # entry rules (strategy level)
    qty_lots: int
    max_open: int               # concurrent positions (a stack)
    max_entries: int            # entries per day (a roll is not an entry)
    one_per_contract: int       # 1: no new position on a contract a leg already holds or orders
    cooldown_exit_s: int        # no entry for this long after a position closed
    cooldown_losers: int        # after this many losing positions in a row ...
    cooldown_s: int             # ... no entry for this long
    daily_loss_r: int           # no entry once the day's closed positions lost this many R
    daily_loss_rupees: int      # ... or this many rupees (gross, before charges)
    sizing: int                 # enums.Sizing
    risk_rupees: int
    kelly_fraction: int
    capital: int                # tracked capital at the day's start (Kelly sizing)
    min_credit: int             # skip an entry whose net credit at the decision's touch is below this
    # position rules
    session_exit_s: int
    combined_stop: int          # combined P&L per unit <= -x
    stop_pct_credit: int        # combined P&L per unit <= -x % of the credit
    combined_target: int        # combined P&L per unit >= x
    credit_capture: int         # combined P&L per unit >= x (a fraction) of the credit
    leg_diff_exit: int          # |change of leg a - change of leg b| >= x
    div_leg_a: int
    div_leg_b: int
    leg_stop: int               # one leg's loss per unit >= x: that leg alone is closed
    max_hold_s: int
    roll_after_s: int
    roll_score_mult: int
    roll_min_pnl: int
    roll_penalty: int           # rupees per unit charged on each leg a roll closes
    check_cond: int             # condition index of the scheduled check (-1 none)
    check_close_pnl: int        # at a check: close when P&L >= x, else roll to the new picks
    # engine switches
    close_at_end_of_data: int   # 1: a position alive at its data's last real second closes there
    legacy_contract_order: int  # 1: the old single-leg engine's order within a second (for comparisons)


Param = ParamT(*range(len(ParamT._fields)))
N_PARAMS = len(ParamT._fields)


class LegFieldT(NamedTuple):
    """Fields of one row of the leg-spec matrix LS[leg, field] (float64; NaN: off)."""
    side: int                   # +1 buy / -1 sell (times the entry's direction)
    lots: int                   # ratio in lots (the position's size multiplies it)
    added: int                  # 1: opened only by an adjustment
    side_from_trigger: int      # 1: an adjustment's trigger sign also multiplies the side
    premium: int                # 1: an option (counts in the credit), 0: the future
    order: int                  # enums.OrderType
    price_ref: int              # enums.PriceRef
    offset: int                 # rupees toward the other side of the book
    timeout_s: int              # entry order cancelled this long after it reached the market
    target: int
    stop: int
    target_pct: int
    stop_pct: int
    time_stop_s: int
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
    exit_on_signal: int         # 1: the plan's per-contract exit signal closes this leg


LegField = LegFieldT(*range(len(LegFieldT._fields)))
N_LEG_FIELDS = len(LegFieldT._fields)
N_LOCKS = 3                      # lock1..lock3: consecutive (at, to) pairs from LegField.lock1_at


class AdjFieldT(NamedTuple):
    """Fields of one row of the adjustment matrix ADJ[adjustment, field] (float64)."""
    trigger: int       # enums.Trigger
    arg: int           # the condition index (cond) or the leg number (leg_change, leg_closed)
    threshold: int
    sign: int          # +1 / -1: only that direction; 0: either
    action: int        # enums.Action
    leg: int           # the leg number (close_leg) or leg spec (open_leg) acted on
    once: int          # 1: at most once per position


AdjField = AdjFieldT(*range(len(AdjFieldT._fields)))
N_ADJ_FIELDS = len(AdjFieldT._fields)


def names(enum: NamedTuple) -> tuple[str, ...]:
    """The names table of an enum, by code (code 0 is the empty name)."""
    out = [""] * len(enum)
    for name, code in enum._asdict().items():
        out[code] = "" if code == 0 else name
    return tuple(out)


def code_of(enum: NamedTuple, name: str, where: str) -> int:
    """An enum's code by name, or a clear error naming the config field and the known names."""
    if name not in enum._fields:
        raise ValueError(f"{where}: {name!r} is not one of {', '.join(enum._fields)}")
    return getattr(enum, name)


EXIT_REASONS = names(ExitReason)
EVENT_KINDS = names(EventKind)

# one leg as the engine writes it (indices are seconds of the day's grid, -1 = none): the position
# (trade) it belongs to, its number within the position (creation order) and its leg spec; an
# event names the leg by its record's index (`record`)
LEG_DTYPE = np.dtype([("contract", np.int32), ("side", np.int8), ("qty", np.float64), ("signal_i", np.int32),
                      ("entry_i", np.int32), ("entry_px", np.float64), ("exit_signal_i", np.int32),
                      ("exit_i", np.int32), ("exit_px", np.float64), ("reason", np.int8), ("mfe", np.float64),
                      ("mae", np.float64), ("initial_stop", np.float64), ("both_hit", np.bool_),
                      ("partial", np.bool_), ("position", np.int32), ("leg", np.int8), ("spec", np.int8)])
# one position: decided at signal_i, closed when its last leg's exit filled (exit_i); its first exit
# reason, net credit per unit, the position it rolled from (-1 none)
POSITION_DTYPE = np.dtype([("signal_i", np.int32), ("exit_i", np.int32), ("reason", np.int8),
                           ("credit", np.float64), ("lots", np.float64), ("rolled_from", np.int32),
                           ("legs", np.int8)])
# qty and queue_ahead: an entry fill's quantity and the queue ahead of the order after it (NaN elsewhere)
EVENT_DTYPE = np.dtype([("record", np.int32), ("i", np.int32), ("code", np.int8), ("price", np.float64),
                        ("stop", np.float64), ("target", np.float64), ("bid", np.float64), ("ask", np.float64),
                        ("qty", np.float64), ("queue_ahead", np.float64)])
