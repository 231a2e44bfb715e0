"""Execution models: latency, fill, slippage and fees, each a small object with a one-method
protocol, chosen by config and passed to the engine (hftbacktest / NautilusTrader style).

A config names each model (`execution.fees = {model = "nse", broker = "rs20"}`; MODELS
lists the kinds); the run's stored config names the models its trades used. The Numba kernels
cannot call Python objects, so the models are read once per day into what the kernels read: the
parameter record (latency, fill) and the quote matrix's slippage field; fees are charged on the
trade legs the kernel returns.
"""
from __future__ import annotations

import csv
import datetime as dt
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from backtest.enums import ProbFunc, QueueKind, code_of


@runtime_checkable
class LatencyModel(Protocol):
    def delay_s(self) -> float:
        """Seconds from a decision at t until its order meets the market (the quotes of t + delay)."""


@runtime_checkable
class FillModel(Protocol):
    def allow_partial(self) -> bool:
        """Does a market order larger than the 5-level book fill partially (else not at all)?"""


@runtime_checkable
class QueueModel(Protocol):
    def kernel_fields(self) -> dict[str, float]:
        """The parameter record's queue fields (enums.Param.queue_*)."""


@runtime_checkable
class SlippageModel(Protocol):
    def per_unit(self, strikes_from_atm: np.ndarray) -> np.ndarray:
        """Rupees per unit added against the trader to every fill, per [second, contract], from the
        contract's distance to ATM in strike steps (NaN without spot)."""


@runtime_checkable
class FeeModel(Protocol):
    def charges(self, trade_date: dt.date, side: np.ndarray, entry_px: np.ndarray, exit_px: np.ndarray,
                qty: np.ndarray, instrument: str = "option") -> np.ndarray:
        """Rupees charged per round trip (leg) of one trade date; side +1 bought first, -1 sold first;
        instrument "option" (charges on premium) or "future" (on notional)."""


@dataclass(frozen=True)
class ConstantLatency:
    """Constant latency in whole seconds. Default 1: a cloud box ~10 ms from the broker, seen
    through 1-second snapshots."""

    kind: ClassVar[str] = "constant"
    seconds: int = 1

    def delay_s(self) -> float:
        return float(self.seconds)


@dataclass(frozen=True)
class BookFill:
    """How orders meet the 1-second book.

    market: buy at the ask, sell at the bid; quantity beyond level 0 walks the 5 levels; beyond the
      book -> partial fill (`beyond_book='partial'`) or none (`'reject'`: the order stays unfilled,
      trying again each second, until the risk section's entry timeout cancels it).
    limit: fills at the limit price when a later snapshot quotes through it (ask <= buy limit,
      bid >= sell limit) or trades through it (LTP beyond the limit with volume); a limit that is
      marketable on arrival fills at the touch. Cancelled after the risk section's entry timeout.
    IOC: fills on arrival against the book up to the limit price; the rest is cancelled.
    Never fills on a padded second or a null price: the order waits for the next real second.
    """

    kind: ClassVar[str] = "book"
    beyond_book: str = "partial"

    def __post_init__(self) -> None:
        if self.beyond_book not in ("partial", "reject"):
            raise ValueError(f"execution.fill.beyond_book: {self.beyond_book!r} is not 'partial' or 'reject'")

    def allow_partial(self) -> bool:
        return self.beyond_book == "partial"


@dataclass(frozen=True)
class QueueSkip:
    """The conversation's rule "skip when 5th or worse in the queue" (L5700, L5718), a parameter of
    every queue model: a limit order that would rest at place `skip_from_rank` or worse is
    cancelled when it is placed. The place is 1 + the ORDERS ahead, estimated as ceil(quantity
    displayed ahead / (typical_order_lots x the lot)) -- the book shows quantities, not orders, so
    the typical order size is the assumption (1 lot: retail; not the price level's rank). Off
    (None) by default."""

    skip_from_rank: int | None = None
    typical_order_lots: float = 1.0

    def _skip_fields(self) -> dict[str, float]:
        if self.typical_order_lots <= 0:
            raise ValueError(f"execution.queue.typical_order_lots: {self.typical_order_lots} must be > 0")
        return {"queue_skip_rank": np.nan if self.skip_from_rank is None else float(self.skip_from_rank),
                "queue_order_lots": float(self.typical_order_lots)}


@dataclass(frozen=True)
class RiskAverseQueue(QueueSkip):
    """The default: a resting LIMIT joins the back of its price level's displayed quantity and
    advances only by trades printed at its price; cancellations never advance it (the level
    shrinking below the estimate caps it). hftbacktest's RiskAdverseQueueModel, partial fills as
    its PartialFillExchange (kernels.queue)."""

    kind: ClassVar[str] = "risk_averse"

    def kernel_fields(self) -> dict[str, float]:
        return {"queue_model": float(QueueKind.risk_averse), "queue_func": 0.0, "queue_n": np.nan, **self._skip_fields()}


@dataclass(frozen=True)
class ProbQueue(QueueSkip):
    """Trades advance the order as in the risk-averse model; the displayed quantity shrinking
    beyond the second's trades (cancellations) advances it by the share that happened ahead of it,
    1 - p, p = f(back) / (f(back) + f(front)) for `func` power (f = x ** n) or log (f = log(1 + x)),
    power2 / log2: f(back) / f(back + front), power3: 1 - (front / (front + back)) ** n
    (hftbacktest's ProbQueueModel and its probability functions)."""

    kind: ClassVar[str] = "prob"
    func: str = "power"
    n: float = 3.0

    def kernel_fields(self) -> dict[str, float]:
        return {"queue_model": float(QueueKind.prob),
                "queue_func": float(code_of(ProbFunc, self.func, "execution.queue.func")), "queue_n": float(self.n),
                **self._skip_fields()}


@dataclass(frozen=True)
class FullFillQueue(QueueSkip):
    """No queue (the engine before issue #18): a resting LIMIT fills in full once the book quotes
    or trades through its price. Kept for comparisons (benchmarks/queue.py) and pinned tests."""

    kind: ClassVar[str] = "full_fill"

    def kernel_fields(self) -> dict[str, float]:
        return {"queue_model": float(QueueKind.full_fill), "queue_func": 0.0, "queue_n": np.nan, **self._skip_fields()}


@dataclass(frozen=True)
class AtmBandSlippage:
    """Extra rupees per unit per side, worse for the trader, on fills that cross the spread (market,
    IOC, a limit marketable when placed, every exit); none for a resting limit. Contracts within
    `atm_band` strike steps of ATM pay `atm`, the others `otm`. Defaults: the conversation's Rs 0.15
    ATM and Rs 0.30 OTM (L823, L1123-1125)."""

    kind: ClassVar[str] = "atm_band"
    atm: float = 0.15
    otm: float = 0.30
    atm_band: int = 1

    def per_unit(self, strikes_from_atm: np.ndarray) -> np.ndarray:
        return np.where(strikes_from_atm <= self.atm_band, self.atm, self.otm)


@dataclass(frozen=True)
class NseFees:
    """NSE charges by trade date from the schedule in backtest/data (backtest.fees) plus the
    broker's brokerage per executed order (the broker profile's, backtest/data/brokers.csv, unless
    `brokerage_per_order` names one); calculator rounding per trade (the contract-note per-day
    mode is backtest.fees.daily_charges)."""

    kind: ClassVar[str] = "nse"
    brokerage_per_order: float | None = None  # None: the broker profile's
    broker: str = "zero"                     # a profile of backtest/data/brokers.csv

    def __post_init__(self) -> None:
        broker_profile(self.broker)           # an unknown broker fails when the config is read

    @property
    def brokerage(self) -> float:
        if self.brokerage_per_order is not None:
            return float(self.brokerage_per_order)
        return broker_profile(self.broker)["brokerage_per_order"]

    def charges(self, trade_date, side, entry_px, exit_px, qty, instrument: str = "option") -> np.ndarray:
        from backtest.fees import round_trip_fees

        return round_trip_fees(trade_date, side, entry_px, exit_px, qty, self.brokerage, instrument)


BROKERS_CSV = Path(__file__).parent / "data" / "brokers.csv"


@lru_cache(maxsize=1)
def broker_profiles() -> dict[str, dict]:
    """Broker profiles (backtest/data/brokers.csv): name -> brokerage per executed order and a note."""
    with open(BROKERS_CSV, newline="") as f:
        return {r["broker"]: {"brokerage_per_order": float(r["brokerage_per_order"]), "note": r["note"]}
                for r in csv.DictReader(f)}


def broker_profile(name: str) -> dict:
    profiles = broker_profiles()
    if name not in profiles:
        raise KeyError(f"execution.fees.broker: unknown broker {name!r}; known: {', '.join(sorted(profiles))} "
                       f"({BROKERS_CSV.name})")
    return profiles[name]


# slot -> model kind -> class: what a config may name
MODELS: dict[str, dict[str, type]] = {
    "latency": {ConstantLatency.kind: ConstantLatency},
    "fill": {BookFill.kind: BookFill},
    "queue": {RiskAverseQueue.kind: RiskAverseQueue, ProbQueue.kind: ProbQueue, FullFillQueue.kind: FullFillQueue},
    "slippage": {AtmBandSlippage.kind: AtmBandSlippage},
    "fees": {NseFees.kind: NseFees},
}


@dataclass(frozen=True)
class Execution:
    """The five models a run executes with."""

    latency: LatencyModel = field(default_factory=ConstantLatency)
    fill: FillModel = field(default_factory=BookFill)
    queue: QueueModel = field(default_factory=RiskAverseQueue)
    slippage: SlippageModel = field(default_factory=AtmBandSlippage)
    fees: FeeModel = field(default_factory=NseFees)

    def kernel_fields(self) -> dict[str, float]:
        """The parameter record's execution fields (enums.Param)."""
        return {"latency_s": self.latency.delay_s(), "partial_beyond_book": 1.0 if self.fill.allow_partial() else 0.0,
                **self.queue.kernel_fields()}

    def to_dict(self) -> dict:
        """Each slot as {"model": kind, **its fields}: what a config file says and a run stores."""
        return {slot: {"model": type(m).kind, **asdict(m)} for slot, m in self._slots().items()}

    def with_overrides(self, data: dict) -> "Execution":
        """A copy with some slots' models or fields replaced (unknown slots, kinds or keys fail loudly);
        `broker = "rs20"` is short for `fees.broker`."""
        data = dict(data)
        if "broker" in data:
            data["fees"] = {**data.get("fees", {}), "broker": data.pop("broker")}
        unknown = sorted(set(data) - set(MODELS))
        if unknown:
            raise KeyError(f"execution: unknown sections {', '.join(unknown)}")
        slots = self._slots()
        for slot, over in data.items():
            over = dict(over)
            kind = over.pop("model", type(slots[slot]).kind)
            if kind not in MODELS[slot]:
                raise KeyError(f"execution.{slot}: unknown model {kind!r}; known: {', '.join(sorted(MODELS[slot]))}")
            cls = MODELS[slot][kind]
            base = slots[slot] if type(slots[slot]) is cls else cls()
            names = {f.name for f in fields(cls)}
            bad = sorted(set(over) - names)
            if bad:
                raise KeyError(f"execution.{slot}: unknown keys {', '.join(bad)}")
            slots[slot] = replace(base, **over)
        return Execution(**slots)

    def _slots(self) -> dict:
        return {"latency": self.latency, "fill": self.fill, "queue": self.queue, "slippage": self.slippage,
                "fees": self.fees}


def describe_execution(stored: dict) -> str:
    """One line naming a stored run's execution models (its config's `execution` section), for
    reports: the broker and its brokerage, the queue model, slippage, latency."""
    fees, queue = stored.get("fees", {}), stored.get("queue", {"model": "full_fill"})
    slip, latency = stored.get("slippage", {}), stored.get("latency", {})
    broker = fees.get("broker", "-")
    per_order = fees.get("brokerage_per_order")
    if per_order is None and broker in broker_profiles():
        per_order = broker_profiles()[broker]["brokerage_per_order"]
    q = queue.get("model", "full_fill")
    if q == "prob":
        q += f" ({queue.get('func')}, n={queue.get('n')})"
    if queue.get("skip_from_rank") is not None:
        q += f", skip from place {queue['skip_from_rank']}"
    return (f"broker {broker} (Rs {float(per_order or 0):g}/order); queue {q}; slippage Rs {slip.get('atm', 0):g} ATM / "
            f"{slip.get('otm', 0):g} OTM crossing the spread; latency {latency.get('seconds', '-')} s")
