"""What a strategy is: a declarative config (defaults exactly as specified) plus one pure signal
function `signals(day, spot, cfg)` that returns a typed plan, the plan's type naming the engine
that executes it (backtest.simulate.ENGINES):

  EntryOrders   entry orders per [second, contract] for the single-leg engine (kernels.engine)
  StraddlePlan  which CE and PE to sell each second for the multi-leg engine (kernels.straddle)

A strategy declares the features it reads (so the feature store materialises only those) and its
exit rules as data; the engines do everything else.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Callable

import numpy as np

from backtest.enums import N_LOCKS, N_PARAMS, Param
from backtest.models import Execution


def hhmm(text: str) -> float:
    t = dt.time.fromisoformat(text)
    return float(t.hour * 3600 + t.minute * 60 + t.second)


@dataclass
class Exits:
    """Composable exit rules; None = off. Rupees per unit unless *_pct (percent of the premium)."""

    target: float | None = None
    stop: float | None = None
    target_pct: float | None = None
    stop_pct: float | None = None
    time_stop_s: float | None = None
    session_exit: str = "15:20:00"
    trail_activate: float | None = None
    trail_offset: float | None = None
    trail_on_ltp: bool = False
    atr_mult: float | None = None
    ema_gap: float | None = None
    locks: list[tuple[float, float]] = field(default_factory=list)  # (profit reached, stop moved to entry +)


@dataclass
class Risk:
    """Entry limits. The two daily loss limits count the day's closed legs: `daily_loss_r` in R (a
    leg's result over its entry-to-initial-stop distance; single-leg strategies only, a straddle
    has no initial stop), `daily_loss_rupees` in rupees of gross P&L (both engines)."""

    qty_lots: int = 1
    max_open: int = 1
    entry_window: tuple[str, str] = ("09:15:00", "15:20:00")
    entry_timeout_s: float | None = None
    daily_loss_r: float | None = None
    daily_loss_rupees: float | None = None
    cooldown_losers: int = 0
    cooldown_s: float = 0.0


@dataclass
class Selection:
    """Which contracts the strategy may trade: nearest expiry, ATM +- strikes chosen from spot every second."""

    strikes: int = 2
    opt_types: tuple[str, ...] = ("CE", "PE")


_MULTI_LEG_PARAMS = ("combined_stop", "leg_diff_exit", "spot_roc_exit", "credit_capture", "leg_stop", "roll_after_s",
                     "roll_score_mult", "max_entries")


@dataclass
class StrategyConfig:
    name: str
    exits: Exits = field(default_factory=Exits)
    risk: Risk = field(default_factory=Risk)
    selection: Selection = field(default_factory=Selection)
    execution: Execution = field(default_factory=Execution)
    params: dict = field(default_factory=dict)   # the strategy's own signal parameters

    def to_dict(self) -> dict:
        return {**asdict(self), "execution": self.execution.to_dict()}

    def param_vector(self) -> np.ndarray:
        """The float64 parameter record the engine kernels read (fields: backtest.enums.Param)."""
        P = np.full(N_PARAMS, np.nan)
        e, r = self.exits, self.risk
        if len(e.locks) > N_LOCKS:
            raise ValueError(f"{self.name}: exits.locks has {len(e.locks)} steps; the engine takes {N_LOCKS}")
        values = {**self.execution.kernel_fields(),
                  "qty_lots": r.qty_lots, "entry_timeout_s": r.entry_timeout_s, "max_open": r.max_open,
                  "entry_start_s": hhmm(r.entry_window[0]), "entry_end_s": hhmm(r.entry_window[1]),
                  "daily_loss_r": r.daily_loss_r, "daily_loss_rupees": r.daily_loss_rupees,
                  "cooldown_losers": r.cooldown_losers, "cooldown_s": r.cooldown_s,
                  "session_exit_s": hhmm(e.session_exit), "trail_on_ltp": 1.0 if e.trail_on_ltp else 0.0}
        for f in fields(Exits):
            if f.name not in ("locks", "session_exit", "trail_on_ltp"):
                values[f.name] = getattr(e, f.name)
        for k, (at, to) in enumerate(e.locks):
            values[f"lock{k + 1}_at"], values[f"lock{k + 1}_to"] = at, to
        for k in _MULTI_LEG_PARAMS:   # a straddle enters once a day unless its params say otherwise
            values[k] = self.params.get(k, 1 if k == "max_entries" and "combined_stop" in self.params else None)
        for k, v in values.items():
            P[getattr(Param, k)] = np.nan if v is None else float(v)
        return P


@dataclass
class EntryOrders:
    """The single-leg engine's plan: entry orders per [second, contract] (side +1/-1/0, type
    enums.OrderType, limit price) and signal exits (+1 closes shorts, -1 closes longs)."""

    side: np.ndarray
    type: np.ndarray
    price: np.ndarray
    exit_side: np.ndarray

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> "EntryOrders":
        return cls(np.zeros(shape, np.int8), np.zeros(shape, np.int8), np.full(shape, np.nan), np.zeros(shape, np.int8))


@dataclass
class StraddlePlan:
    """The multi-leg engine's plan, per second: whether to enter, which CE and PE to sell, the score
    a roll compares and the 1-minute index ROC the spot-move rule watches."""

    entry_ok: np.ndarray   # [S] bool
    leg_ce: np.ndarray     # [S] contract index of the CE to sell (-1 none)
    leg_pe: np.ndarray     # [S] contract index of the PE to sell (-1 none)
    score: np.ndarray      # [S, C] what a roll compares (0 when unused)
    spot_roc: np.ndarray   # [S] 1-minute index ROC, percent


Plan = EntryOrders | StraddlePlan
Signals = Callable[..., Plan]     # signals(day: backtest.data.DayData, spot: dict, cfg) -> Plan


def on_selected_contracts(rule: Callable[[dict, np.ndarray, StrategyConfig], EntryOrders]) -> Signals:
    """signals(day, spot, cfg) of a per-contract rule(F, ok, cfg): F the day's feature matrices,
    ok the tradable contracts inside the config's selection (ATM +- strikes, option types)."""
    def signals(day, spot: dict, cfg: StrategyConfig) -> EntryOrders:
        ok = day.selectable(cfg.selection.strikes, cfg.selection.opt_types) & day.tradable
        return rule(day.F, ok, cfg)
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
