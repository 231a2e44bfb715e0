"""What a strategy is: a declarative config (defaults exactly as specified) plus a pure signal
function from dense feature matrices [second, contract] to entry orders.

A strategy declares the features it reads (so the feature store materialises only those) and its
exit rules as data; the single engine (backtest.kernels.engine) does everything else.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from backtest.kernels.params import FIELDS, IDX
from backtest.models import ExecParams


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
    qty_lots: int = 1
    max_open: int = 1
    entry_window: tuple[str, str] = ("09:15:00", "15:20:00")
    entry_timeout_s: float | None = None
    daily_loss_r: float | None = None
    cooldown_losers: int = 0
    cooldown_s: float = 0.0


@dataclass
class Selection:
    """Which contracts the strategy may trade: nearest expiry, ATM +- strikes chosen from spot every second."""

    strikes: int = 2
    opt_types: tuple[str, ...] = ("CE", "PE")


@dataclass
class StrategyConfig:
    name: str
    exits: Exits = field(default_factory=Exits)
    risk: Risk = field(default_factory=Risk)
    selection: Selection = field(default_factory=Selection)
    execution: ExecParams = field(default_factory=ExecParams)
    params: dict = field(default_factory=dict)   # the strategy's own signal parameters

    def to_dict(self) -> dict:
        return asdict(self)

    def param_vector(self) -> np.ndarray:
        """The float64 vector the engine kernels read (backtest.kernels.params.FIELDS)."""
        P = np.full(len(FIELDS), np.nan)
        P[:5] = self.execution.as_array()
        e, r = self.exits, self.risk
        values = {"qty_lots": r.qty_lots, "entry_timeout_s": r.entry_timeout_s, "max_open": r.max_open,
                  "entry_start_s": hhmm(r.entry_window[0]), "entry_end_s": hhmm(r.entry_window[1]),
                  "daily_loss_r": r.daily_loss_r, "cooldown_losers": r.cooldown_losers, "cooldown_s": r.cooldown_s,
                  "session_exit_s": hhmm(e.session_exit), "trail_on_ltp": 1.0 if e.trail_on_ltp else 0.0}
        for f in fields(Exits):
            if f.name not in ("locks", "session_exit", "trail_on_ltp"):
                values[f.name] = getattr(e, f.name)
        for k, (at, to) in enumerate(e.locks):
            values[f"lock{k + 1}_at"], values[f"lock{k + 1}_to"] = at, to
        for k in ("combined_stop", "leg_diff_exit", "spot_roc_exit", "credit_capture", "leg_stop", "roll_after_s",
                  "roll_score_mult", "max_entries"):
            values[k] = self.params.get(k, 1 if k == "max_entries" and "combined_stop" in self.params else None)
        for k, v in values.items():
            P[IDX[k]] = np.nan if v is None else float(v)
        return P


@dataclass
class Orders:
    """Entry orders per [second, contract]: side (+1/-1/0), type (ORDER_*), limit price."""

    side: np.ndarray
    type: np.ndarray
    price: np.ndarray
    exit_side: np.ndarray  # a signal exit for legs of the opposite side (+1 closes shorts, -1 closes longs)

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> "Orders":
        return cls(np.zeros(shape, np.int8), np.zeros(shape, np.int8), np.full(shape, np.nan), np.zeros(shape, np.int8))


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
