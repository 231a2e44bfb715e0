"""NSE charges on index derivatives, by trade date, from the schedule in backtest/data (FEES.md).

Rates are percents of turnover (price x quantity, per side) unless *_per_crore (rupees per Rs 1
crore of turnover). GST is on brokerage + transaction charge (with IPFT, as contract notes and the
worked example show them together) + SEBI fee; STT and stamp never. Rounding modes: 'per_trade' (broker calculators: STT to the rupee, the rest to the
paisa, each trade) and 'per_day' (contract notes: STT and stamp summed over the day and rounded to the
rupee once, the rest to the paisa). Rupee rounding is half up. Brokerage is per executed order.
"""
from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

CRORE = 1e7


@dataclass(frozen=True)
class FeeRates:
    instrument: str
    effective_from: dt.date
    stt_sell_pct: float
    txn_pct: float
    ipft_pct: float
    ipft_per_crore: float
    sebi_per_crore: float
    stamp_buy_pct: float
    gst_pct: float


@lru_cache(maxsize=1)
def _schedule() -> tuple[tuple[dt.date, dt.date, FeeRates], ...]:
    text = resources.files("backtest").joinpath("data", "fee_schedule.csv").read_text()
    out = []
    for r in csv.DictReader(text.splitlines()):
        start = dt.date.fromisoformat(r["effective_from"])
        end = dt.date.fromisoformat(r["effective_to"]) if r["effective_to"] else dt.date.max
        out.append((start, end, FeeRates(r["instrument"], start, *(float(r[k]) for k in (
            "stt_sell_pct", "txn_pct", "ipft_pct", "ipft_per_crore", "sebi_per_crore", "stamp_buy_pct", "gst_pct")))))
    return tuple(out)


def rates_on(trade_date: dt.date, instrument: str = "option") -> FeeRates:
    for start, end, rates in _schedule():
        if rates.instrument == instrument and start <= trade_date <= end:
            return rates
    raise LookupError(f"no {instrument} fee rates for trade date {trade_date}")


def _half_up(x, digits: int = 0):
    f = 10.0 ** digits
    return np.floor(np.asarray(x) * f + 0.5 + 1e-9) / f


@dataclass(frozen=True)
class Charges:
    brokerage: float
    stt: float
    txn: float
    sebi: float
    stamp: float
    gst: float

    @property
    def total(self) -> float:
        return round(self.brokerage + self.stt + self.txn + self.sebi + self.stamp + self.gst, 2)


def _round_trip_parts(rates: FeeRates, buy_turnover, sell_turnover, brokerage_per_order: float, orders: int):
    """(brokerage, stt, txn, sebi, stamp, gst) for scalars or arrays of round trips, each rounded
    as the calculator rounds it; elementwise float arithmetic, so arrays give the scalar results."""
    turnover = buy_turnover + sell_turnover
    brokerage = brokerage_per_order * orders
    stt = _half_up(sell_turnover * rates.stt_sell_pct / 100)
    ipft = turnover * (rates.ipft_pct / 100 + rates.ipft_per_crore / CRORE)
    txn = _half_up(turnover * rates.txn_pct / 100 + ipft, 2)
    sebi = _half_up(turnover * rates.sebi_per_crore / CRORE, 2)
    stamp = _half_up(buy_turnover * rates.stamp_buy_pct / 100, 2)
    gst = _half_up((brokerage + txn + sebi) * rates.gst_pct / 100, 2)   # txn includes IPFT, as on notes
    return brokerage, stt, txn, sebi, stamp, gst


def round_trip(rates: FeeRates, buy_turnover: float, sell_turnover: float, brokerage_per_order: float = 0.0,
               orders: int = 2) -> Charges:
    """Charges of a buy and a sell (any order), calculator rounding (per_trade)."""
    return Charges(*(float(x) for x in _round_trip_parts(rates, buy_turnover, sell_turnover,
                                                         brokerage_per_order, orders)))


def round_trip_fees(trade_date: dt.date, side, entry_px, exit_px, qty, brokerage_per_order: float = 0.0,
                    instrument: str = "option") -> np.ndarray:
    """Total charges per round trip, vectorised over trades of one day (per_trade rounding).

    side +1 bought first (entry is the buy), -1 sold first."""
    rates = rates_on(trade_date, instrument)
    side, entry_px, exit_px, qty = map(np.asarray, (side, entry_px, exit_px, qty))
    buy = np.where(side > 0, entry_px, exit_px) * qty
    sell = np.where(side > 0, exit_px, entry_px) * qty
    brokerage, stt, txn, sebi, stamp, gst = _round_trip_parts(rates, buy, sell, brokerage_per_order, 2)
    total = brokerage + stt + txn + sebi + stamp + gst           # the order Charges.total adds them
    return round2(np.atleast_1d(total))


def round2(x: np.ndarray) -> np.ndarray:
    """Python's round(v, 2) of every element, bit for bit, vectorised: away from a half paisa
    rint(v * 100) / 100 is the same double (the product's error is far below the half), so only
    values within 1e-6 paise of a half take Python's correctly rounded path."""
    x = np.asarray(x, np.float64)
    out = np.rint(x * 100.0) / 100.0
    frac = np.abs(x * 100.0 - np.floor(x * 100.0) - 0.5)
    for j in np.flatnonzero((frac < 1e-6) | ~np.isfinite(x)):
        out[j] = round(float(x[j]), 2) if np.isfinite(x[j]) else x[j]
    return out


def daily_charges(rates: FeeRates, buy_turnover: np.ndarray, sell_turnover: np.ndarray, orders: int,
                  brokerage_per_order: float = 0.0) -> Charges:
    """A day's fills with contract-note rounding: STT and stamp on the day's totals, to the rupee."""
    b, s = float(np.sum(buy_turnover)), float(np.sum(sell_turnover))
    turnover = b + s
    brokerage = brokerage_per_order * orders
    ipft = turnover * (rates.ipft_pct / 100 + rates.ipft_per_crore / CRORE)
    txn = float(_half_up(turnover * rates.txn_pct / 100 + ipft, 2))
    sebi = float(_half_up(turnover * rates.sebi_per_crore / CRORE, 2))
    gst = float(_half_up((brokerage + txn + sebi) * rates.gst_pct / 100, 2))
    return Charges(brokerage, float(_half_up(s * rates.stt_sell_pct / 100)), txn, sebi,
                   float(_half_up(b * rates.stamp_buy_pct / 100)), gst)


def break_even(rates: FeeRates, price: float, qty: float, brokerage_per_order: float = 0.0) -> float:
    """Rupees per unit the exit must beat the entry by to cover the round trip's charges."""
    lo, hi = 0.0, max(price, 1.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        c = round_trip(rates, price * qty, (price + mid) * qty, brokerage_per_order).total
        lo, hi = (mid, hi) if mid * qty < c else (lo, mid)
    return math.ceil(hi * 100 - 1e-9) / 100
