"""What a strategy is: data (its legs, its position and entry rules, its parameters) plus one pure
signal function `signals(day, spot, cfg) -> Plan`, executed by the one position engine
(backtest.kernels.position; backtest.compile turns the config into the engine's records).

A config is plain nested dataclasses: defaults in the strategy's module, overrides from TOML/JSON
section by section (backtest.config), stored with every run as `to_dict()`. The next issue's
strategy cards are these configs plus their signal functions.

  legs       what a position holds: instrument, expiry, strike selector, side, ratio, order, exits
  exits      every leg's own exits (a leg overrides fields in `Leg.exits`)
  position   rules on the whole position: session exit, combined stop/target, credit capture,
             kill-switches, divergence, maximum hold, roll, scheduled check, adjustments
  risk       entry rules: windows, stacking, entries per day, cooldowns, daily loss, sizing
  filters    calendar filters on entries: weekdays, expiry day, the event blackouts table
  selection  where a signal may pick its contract (legs with `strike.by = "signal"`)
  execution  latency, fill, slippage and fee models (backtest.models)
  params     the signal function's own parameters
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from backtest.fields import merge_dataclass
from backtest.models import Execution


def hhmm(text: str) -> float:
    t = dt.time.fromisoformat(text)
    return float(t.hour * 3600 + t.minute * 60 + t.second)


@dataclass
class Cond:
    """A market condition evaluated every second in numpy (backtest.conditions): `feature OP value`,
    `value` a number or another feature's name. `abs` compares |feature|; `change_s` compares the
    feature's change over that many seconds. OP: >=, <=, >, <, cross_above, cross_below (the last
    two against another feature). Position rules read features_spot columns, leg exits
    features_options columns."""

    feature: str
    op: str
    value: float | str = 0.0
    abs: bool = False
    change_s: int | None = None


@dataclass
class Exits:
    """A leg's own exits; None = off. Rupees per unit unless *_pct (percent of the entry premium).
    `close_long_when` / `close_short_when`: a per-contract condition that closes longs / shorts
    (the plan's exit signal; e.g. the reverse EMA cross). `signal = False`: this leg ignores it."""

    target: float | None = None
    stop: float | None = None
    target_pct: float | None = None
    stop_pct: float | None = None
    time_stop_s: float | None = None
    trail_activate: float | None = None
    trail_offset: float | None = None
    trail_on_ltp: bool = False
    atr_mult: float | None = None
    ema_gap: float | None = None
    locks: list[tuple[float, float]] = field(default_factory=list)  # (profit reached, stop moved to entry +)
    signal: bool = True
    close_long_when: Cond | None = None
    close_short_when: Cond | None = None


@dataclass
class Strike:
    """Which contract a leg trades, picked every second (backtest.selectors).

    by: atm (ATM + `steps` strikes), points (the listed strike nearest spot + `points`), delta (the
    |delta| nearest `value`), premium (the mid nearest `value`), feature (the highest `feature`, of
    the strike's CE + PE when `straddle`), max_oi (the most open interest), same_as (the strike leg
    `leg` picks, this leg's own type and expiry: calendars, straddles), signal (the plan picks it),
    future (the index future). `within` limits delta/premium/feature/max_oi to ATM +- within
    strikes; `otm_only` to out-of-the-money strikes."""

    by: str = "atm"
    steps: int = 0
    points: float = 0.0
    value: float | None = None
    feature: str | None = None
    straddle: bool = False
    within: int | None = None
    otm_only: bool = False
    leg: str | None = None


@dataclass
class Order:
    """market | limit | ioc; a limit/IOC price from `price` (signal: the plan's; bid, ask, mid, ltp,
    touch = the order's own side) plus `offset` rupees toward the other side; an entry order not
    filled `timeout_s` after it reached the market is cancelled (None: it waits until the session
    exit)."""

    type: str = "market"
    price: str = "touch"
    offset: float = 0.0
    timeout_s: float | None = None


@dataclass
class Leg:
    """One contract of a position: instrument CE, PE, FUT (the index future) or option (the plan
    picks CE or PE); expiry weekly (the nearest), next_weekly, monthly, next_monthly, and what an
    expiry day does: trade the expiring contract or roll to the next one; side +1 buy / -1 sell;
    lots its ratio (the position's size multiplies it); `added`: opened only by an adjustment;
    `side_from_trigger`: the adjustment's direction (index up +1, down -1) multiplies the side."""

    name: str = "leg"
    instrument: str = "CE"
    expiry: str = "weekly"
    on_expiry_day: str = "trade"
    strike: Strike = field(default_factory=Strike)
    side: int = 1
    lots: float = 1.0
    order: Order = field(default_factory=Order)
    exits: dict = field(default_factory=dict)
    added: bool = False
    side_from_trigger: bool = False


@dataclass
class Kill:
    """A kill-switch: the position closes at the first second `when` holds (reason an ExitReason name)."""

    when: Cond
    reason: str = "kill_switch"


@dataclass
class Roll:
    """Replace the legs by the selectors' new picks after `after_s` seconds, when the picks score
    `score_mult` x the current legs (by `score`, a features_options column) and the P&L is at least
    `min_pnl`; each leg the roll closes is charged `penalty` rupees per unit."""

    after_s: float
    score_mult: float
    min_pnl: float = 0.0
    penalty: float = 0.0
    score: str = "theta_score"


@dataclass
class Check:
    """A scheduled check every `every_s` seconds from `start` (a ladder's bucket ends): close when
    the P&L per unit is at least `close_at_pnl`, else roll to the selectors' new picks (when they differ)."""

    every_s: float
    close_at_pnl: float
    start: str = "09:15:00"


@dataclass
class Adjustment:
    """When `trigger` fires, do `action` (once per position unless `once` is False).

    trigger: cond (`cond` holds), spot_move (the index moved `threshold` % from the entry; `sign`
    +1 up, -1 down, 0 either), leg_change (leg `leg`'s mark - entry reached `threshold`, signed as
    spot_move), net_delta (|net delta per lot| >= threshold), leg_closed (leg `leg` closed),
    new_position (a new position opened while the stack was full).
    action: close_leg (leg `target`), open_leg (the added leg `target`), close_oldest (the stack's
    oldest position), close_position."""

    trigger: str
    action: str
    target: str | None = None
    cond: Cond | None = None
    leg: str | None = None
    threshold: float = 0.0
    sign: int = 0
    once: bool = True


@dataclass
class PositionRules:
    """Rules on the whole position; rupees per unit of premium (legs weighted by their ratio);
    None = off. `leg_stop`: a short option leg whose mark reaches entry + leg_stop is bought back
    alone (evaluated on marks; the trader's per-leg hard stop).
    `close_at_end_of_data`: a position alive at its contract's last real second is closed there,
    decided and filled at that quote (`end_of_data`); False keeps the old engines' behaviour (a
    decision after the data ended, filled at the last quote before it) for comparisons."""

    session_exit: str = "15:20:00"
    combined_stop: float | None = None
    stop_pct_of_credit: float | None = None
    combined_target: float | None = None
    credit_capture_pct: float | None = None
    leg_diff_exit: float | None = None
    divergence_legs: tuple[str, ...] = ()        # the two legs compared (default: the first two)
    leg_stop: float | None = None
    max_hold_s: float | None = None
    kills: list[Kill] = field(default_factory=list)
    roll: Roll | None = None
    check: Check | None = None
    adjustments: list[Adjustment] = field(default_factory=list)
    close_at_end_of_data: bool = True      # False: the old engines' close after the data (a fix switched off)


@dataclass
class Risk:
    """Entry rules. Sizing: fixed (`qty_lots`), risk (lots = floor(risk_rupees / (stop x lot))) or
    kelly (lots = floor(kelly_fraction x tracked capital / (stop x lot))), the stop being the
    combined stop or else the first leg's. The two daily loss limits count the day's closed
    positions, each in its one unit: `daily_loss_r` in R (a position's result over that stop),
    `daily_loss_rupees` in rupees of gross P&L. Within a second the engine fills every order before
    it takes entries, so a slot an exit frees at i is free for every candidate at i;
    `legacy_contract_order` restores the old single-leg engine's order (contract by contract, in
    strike order: a candidate did not see what a higher strike's fill freed that second), only to
    prove the change against the old trades."""

    qty_lots: int = 1
    sizing: str = "fixed"
    risk_rupees: float | None = None
    kelly_fraction: float | None = None
    capital: float = 500_000.0
    max_open: int = 1
    max_entries: int | None = None
    one_per_contract: bool = True
    entry_windows: list[tuple[str, str]] = field(default_factory=lambda: [("09:15:00", "15:20:00")])
    min_credit: float | None = None
    daily_loss_r: float | None = None
    daily_loss_rupees: float | None = None
    cooldown_after_exit_s: float | None = None
    cooldown_losers: int = 0
    cooldown_s: float = 0.0
    legacy_contract_order: bool = False


@dataclass
class Filters:
    """Calendar filters on entries (they depend on the calendar only, so they are applied to the
    plan before the engine): weekdays, the expiry day (any | skip | only: the underlying's nearest
    expiry is today) and the blackout rules of backtest/data/entry_blackouts.csv."""

    weekdays: tuple[str, ...] = ("MON", "TUE", "WED", "THU", "FRI")
    expiry_day: str = "any"
    blackouts: tuple[str, ...] = ("rbi_policy", "budget", "weekly_expiry")


@dataclass
class Selection:
    """Where a signal may pick its contract: ATM +- strikes (from spot every second), these types."""

    strikes: int = 2
    opt_types: tuple[str, ...] = ("CE", "PE")


@dataclass
class StrategyConfig:
    name: str
    legs: list[Leg] = field(default_factory=lambda: [Leg("leg", instrument="option", strike=Strike(by="signal"))])
    exits: Exits = field(default_factory=Exits)
    position: PositionRules = field(default_factory=PositionRules)
    risk: Risk = field(default_factory=Risk)
    filters: Filters = field(default_factory=Filters)
    selection: Selection = field(default_factory=Selection)
    execution: Execution = field(default_factory=Execution)
    params: dict = field(default_factory=dict)   # the signal function's own parameters

    def to_dict(self) -> dict:
        return {**asdict(self), "execution": self.execution.to_dict()}

    def leg_index(self, name: str, where: str) -> int:
        names = [leg.name for leg in self.legs]
        if name not in names:
            raise ValueError(f"{self.name}: {where} names leg {name!r}; the legs are {', '.join(names)}")
        return names.index(name)

    def leg_exits(self, leg: Leg) -> Exits:
        """The leg's exits: the strategy's, with the leg's own overrides."""
        return merge_dataclass(self.exits, leg.exits, f"legs.{leg.name}.exits") if leg.exits else self.exits


@dataclass
class Plan:
    """What a signal function returns: only arrays.

    entry_i/entry_c/entry_dir: entry candidates sorted by second then contract; entry_c is leg 0's
    contract when the signal picks it (single-contract scalps), -1 when the legs' selectors pick;
    entry_dir (+1/-1) multiplies every leg's side. entry_type/entry_px: the signal's own order for
    leg 0 (-1 / NaN: the leg's order). exit_sig[S, C]: +1 closes shorts, -1 closes longs on that
    contract at that second (added to the exits' declared conditions). cond: extra named [S]
    conditions the rules may name (a rule names them "plan.<name>"; never read from the warehouse).
    score[S, C]: what a roll compares (default: its score feature). leg_contract[legs, S]: the legs'
    picks when the signal already computed them (directional combos, DTS), else the selectors'.
    """

    entry_i: np.ndarray
    entry_c: np.ndarray
    entry_dir: np.ndarray
    entry_type: np.ndarray | None = None
    entry_px: np.ndarray | None = None
    exit_sig: np.ndarray | None = None
    cond: dict = field(default_factory=dict)
    score: np.ndarray | None = None
    leg_contract: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.entry_i = np.asarray(self.entry_i, np.int64)
        self.entry_c = np.asarray(self.entry_c, np.int64)
        self.entry_dir = np.asarray(self.entry_dir, np.int8)
        n = len(self.entry_i)
        self.entry_type = np.full(n, -1, np.int8) if self.entry_type is None else np.asarray(self.entry_type, np.int8)
        self.entry_px = np.full(n, np.nan) if self.entry_px is None else np.asarray(self.entry_px, np.float64)

    @classmethod
    def every_second(cls, ok: np.ndarray, direction: int = 1, **kw) -> "Plan":
        """A candidate at each second where `ok` [S] holds; the legs' selectors pick the contracts."""
        i = np.flatnonzero(ok)
        return cls(i, np.full(len(i), -1), np.full(len(i), direction), **kw)

    @classmethod
    def from_orders(cls, side: np.ndarray, type_: np.ndarray, price: np.ndarray,
                    exit_sig: np.ndarray | None = None, **kw) -> "Plan":
        """Single-contract candidates from [S, C] order matrices (side +1/-1/0, enums.OrderType,
        limit price): one per nonzero cell, in (second, contract) order."""
        i, c = np.nonzero(side)
        return cls(i, c, side[i, c], type_[i, c], price[i, c], exit_sig, **kw)

    def keep(self, mask: np.ndarray) -> "Plan":
        """The plan with only the candidates where `mask` [E] holds."""
        return Plan(self.entry_i[mask], self.entry_c[mask], self.entry_dir[mask], self.entry_type[mask],
                    self.entry_px[mask], self.exit_sig, self.cond, self.score, self.leg_contract)


Signals = Callable[..., Plan]     # signals(day: backtest.data.DayData, spot: dict, cfg) -> Plan


class OrderBook:
    """Order matrices a single-contract rule fills ([S, C] side, type, limit price, exit signal),
    turned into a Plan by `plan()`."""

    def __init__(self, shape: tuple[int, int]):
        self.side = np.zeros(shape, np.int8)
        self.type = np.zeros(shape, np.int8)
        self.price = np.full(shape, np.nan)
        self.exit_side = np.zeros(shape, np.int8)

    def plan(self) -> Plan:
        return Plan.from_orders(self.side, self.type, self.price, self.exit_side)


def on_selected_contracts(rule: Callable[[dict, np.ndarray, "StrategyConfig"], OrderBook]) -> Signals:
    """signals(day, spot, cfg) of a per-contract rule(F, ok, cfg): F the day's feature matrices (and
    "lot": each contract's lot size), ok the tradable contracts inside the config's selection (ATM +- strikes, option types, the
    expiry of the signal-picked leg)."""
    def signals(day, spot: dict, cfg: StrategyConfig) -> Plan:
        leg = cfg.legs[0]
        ok = day.selectable(cfg.selection.strikes, cfg.selection.opt_types, leg.expiry, leg.on_expiry_day) & day.tradable
        F = {**day.F, "lot": np.broadcast_to(day.contracts.lot[None, :].astype(float), ok.shape)}
        return rule(F, ok, cfg).plan()
    signals.__name__ = signals.__qualname__ = rule.__name__
    signals.__doc__ = rule.__doc__
    return signals


def rising(x: np.ndarray, n: int) -> np.ndarray:
    """True where x rose on each of the last n seconds (per column); False for the first n."""
    out = np.zeros(x.shape, bool)
    T = x.shape[0]
    if T > n:
        up = out[n:]
        up[:] = True
        for k in range(n):                  # slices are views: no rolled copies of the matrix
            up &= x[n - k:T - k] > x[n - k - 1:T - k - 1]
    return out


def crossed_above(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True where a crossed above b this second (a > b now, a <= b a second ago)."""
    out = np.zeros(a.shape, bool)
    out[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
    return out
