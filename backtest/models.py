"""Execution models, each one small object chosen by config (hftbacktest / NautilusTrader style).

The engine kernel is Numba, so each model also flattens itself into a float64 parameter vector
(`ExecParams.as_array()`, field order in EXEC_FIELDS) that the kernel reads by index; the audit
names the models a run used from `describe()`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class LatencyModel:
    """Constant latency in whole seconds: an order decided at t meets the quotes of t + seconds.
    Default 1: a cloud box ~10 ms from the broker, seen through 1-second snapshots."""

    seconds: int = 1


@dataclass(frozen=True)
class FillModel:
    """How orders meet the 1-second book.

    market: buy at the ask, sell at the bid; quantity beyond level 0 walks the 5 levels; beyond the
      book -> partial fill (`beyond_book='partial'`) or no fill (`'reject'`).
    limit: fills at the limit price when a later snapshot quotes through it (ask <= buy limit,
      bid >= sell limit) or trades through it (LTP beyond the limit with volume); a limit that is
      marketable on arrival fills at the touch. Cancelled after `timeout_s`.
    IOC: fills on arrival against the book up to the limit price; the rest is cancelled.
    Never fills on a padded second or a null price: the order waits for the next real second.
    """

    beyond_book: str = "partial"


@dataclass(frozen=True)
class SlippageModel:
    """Extra rupees per unit per side, worse for the trader: ATM contracts vs the rest."""

    atm: float = 0.0
    otm: float = 0.0
    atm_band: int = 1   # strikes within this many steps of ATM count as ATM


@dataclass(frozen=True)
class FeeModel:
    """NSE charges by trade date (backtest.fees) plus the broker's per-order brokerage; calculator
    rounding per trade (the contract-note per-day mode is available in backtest.fees.daily_charges)."""

    brokerage_per_order: float = 20.0


@dataclass(frozen=True)
class ExecParams:
    latency: LatencyModel = field(default_factory=LatencyModel)
    fill: FillModel = field(default_factory=FillModel)
    slippage: SlippageModel = field(default_factory=SlippageModel)
    fees: FeeModel = field(default_factory=FeeModel)

    def as_array(self) -> np.ndarray:
        return np.array([self.latency.seconds, 1.0 if self.fill.beyond_book == "partial" else 0.0,
                         self.slippage.atm, self.slippage.otm, self.slippage.atm_band], dtype=np.float64)

    def describe(self) -> dict:
        return asdict(self)


EXEC_FIELDS = ("latency_s", "partial_beyond_book", "slip_atm", "slip_otm", "atm_band")
