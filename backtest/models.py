"""Execution models: latency, fill, slippage and fees, each a small object with a one-method
protocol, chosen by config and passed to the engine (hftbacktest / NautilusTrader style).

A config names each model (`execution.fees = {model = "nse", brokerage_per_order = 20}`; MODELS
lists the kinds); the run's stored config names the models its trades used. The Numba kernels
cannot call Python objects, so the models are read once per day into what the kernels read: the
parameter record (latency, fill) and the quote matrix's slippage field; fees are charged on the
trade legs the kernel returns.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields, replace
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class LatencyModel(Protocol):
    def delay_s(self) -> float:
        """Seconds from a decision at t until its order meets the market (the quotes of t + delay)."""


@runtime_checkable
class FillModel(Protocol):
    def allow_partial(self) -> bool:
        """Does a market order larger than the 5-level book fill partially (else not at all)?"""


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
class AtmBandSlippage:
    """Extra rupees per unit per side, worse for the trader: contracts within `atm_band` strike
    steps of ATM pay `atm`, the others `otm`."""

    kind: ClassVar[str] = "atm_band"
    atm: float = 0.0
    otm: float = 0.0
    atm_band: int = 1

    def per_unit(self, strikes_from_atm: np.ndarray) -> np.ndarray:
        return np.where(strikes_from_atm <= self.atm_band, self.atm, self.otm)


@dataclass(frozen=True)
class NseFees:
    """NSE charges by trade date from the schedule in backtest/data (backtest.fees) plus the
    broker's brokerage per executed order; calculator rounding per trade (the contract-note per-day
    mode is backtest.fees.daily_charges)."""

    kind: ClassVar[str] = "nse"
    brokerage_per_order: float = 20.0

    def charges(self, trade_date, side, entry_px, exit_px, qty, instrument: str = "option") -> np.ndarray:
        from backtest.fees import round_trip_fees

        return round_trip_fees(trade_date, side, entry_px, exit_px, qty, self.brokerage_per_order, instrument)


# slot -> model kind -> class: what a config may name
MODELS: dict[str, dict[str, type]] = {
    "latency": {ConstantLatency.kind: ConstantLatency},
    "fill": {BookFill.kind: BookFill},
    "slippage": {AtmBandSlippage.kind: AtmBandSlippage},
    "fees": {NseFees.kind: NseFees},
}


@dataclass(frozen=True)
class Execution:
    """The four models a run executes with."""

    latency: LatencyModel = field(default_factory=ConstantLatency)
    fill: FillModel = field(default_factory=BookFill)
    slippage: SlippageModel = field(default_factory=AtmBandSlippage)
    fees: FeeModel = field(default_factory=NseFees)

    def kernel_fields(self) -> dict[str, float]:
        """The parameter record's execution fields (enums.Param)."""
        return {"latency_s": self.latency.delay_s(), "partial_beyond_book": 1.0 if self.fill.allow_partial() else 0.0}

    def to_dict(self) -> dict:
        """Each slot as {"model": kind, **its fields}: what a config file says and a run stores."""
        return {slot: {"model": type(m).kind, **asdict(m)} for slot, m in self._slots().items()}

    def with_overrides(self, data: dict) -> "Execution":
        """A copy with some slots' models or fields replaced (unknown slots, kinds or keys fail loudly)."""
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
        return {"latency": self.latency, "fill": self.fill, "slippage": self.slippage, "fees": self.fees}
