"""Money and bookkeeping, row by row in plain Python: pnl, fees from the schedule's rows (decimal
arithmetic, by instrument), lot_size, no_lookahead, flat_at_close."""
from __future__ import annotations

import csv
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources

import numpy as np

from transforms.expiry import lot_size

from backtest.audit.quotes import _finding


def session_exit_of(config: dict) -> str:
    """The session exit of a stored config (`position`; runs before issue #16 kept it in `exits`)."""
    return (config.get("position") or {}).get("session_exit") or config["exits"]["session_exit"]


@lru_cache(maxsize=1)
def _fee_schedule() -> tuple[dict, ...]:
    """The rows of backtest/data/fee_schedule.csv, rates as exact decimals (read here, not through
    backtest.fees: a bug there must not pass the audit)."""
    text = resources.files("backtest").joinpath("data", "fee_schedule.csv").read_text()
    rows = []
    for r in csv.DictReader(text.splitlines()):
        rows.append({"instrument": r["instrument"], "from": dt.date.fromisoformat(r["effective_from"]),
                     "to": dt.date.fromisoformat(r["effective_to"]) if r["effective_to"] else dt.date.max,
                     **{k: Decimal(r[k]) for k in ("stt_sell_pct", "txn_pct", "ipft_pct", "ipft_per_crore",
                                                    "sebi_per_crore", "stamp_buy_pct", "gst_pct")}})
    return tuple(rows)


_RUPEE, _PAISA, _CRORE = Decimal("1"), Decimal("0.01"), Decimal(10) ** 7


def expected_fees(day: dt.date, side: int, entry_px: float, exit_px: float, qty: int,
                  brokerage_per_order: float, instrument: str = "option") -> Decimal:
    """Charges of one leg's round trip as a broker's calculator rounds them (FEES.md): STT on the
    sell side to the rupee, the rest to the paisa, half up; GST on brokerage + transaction charge
    (with IPFT) + SEBI fee; options on premium, the future ("future") on notional. Prices enter as
    the decimals they print as."""
    rates = [r for r in _fee_schedule() if r["instrument"] == instrument and r["from"] <= day <= r["to"]]
    if not rates:
        raise LookupError(f"fee schedule: no {instrument} rates for {day}")
    r = rates[0]
    entry, exit_ = Decimal(repr(float(entry_px))) * qty, Decimal(repr(float(exit_px))) * qty
    buy, sell = (entry, exit_) if side > 0 else (exit_, entry)
    turnover = buy + sell
    brokerage = Decimal(repr(float(brokerage_per_order))) * 2
    stt = (sell * r["stt_sell_pct"] / 100).quantize(_RUPEE, ROUND_HALF_UP)
    txn = (turnover * (r["txn_pct"] + r["ipft_pct"]) / 100 + turnover * r["ipft_per_crore"] / _CRORE
           ).quantize(_PAISA, ROUND_HALF_UP)
    sebi = (turnover * r["sebi_per_crore"] / _CRORE).quantize(_PAISA, ROUND_HALF_UP)
    stamp = (buy * r["stamp_buy_pct"] / 100).quantize(_PAISA, ROUND_HALF_UP)
    gst = ((brokerage + txn + sebi) * r["gst_pct"] / 100).quantize(_PAISA, ROUND_HALF_UP)
    return brokerage + stt + txn + sebi + stamp + gst


def _brokerage_per_order(config: dict) -> float:
    fees = config["execution"]["fees"]
    if fees.get("model", "nse") != "nse":
        raise ValueError(f"the audit knows the NSE fee schedule only, not fee model {fees['model']!r}")
    if fees.get("brokerage_per_order") is not None:
        return float(fees["brokerage_per_order"])
    return _broker_rows()[fees.get("broker", "zero")]


def _broker_rows() -> dict[str, float]:
    """The broker profiles, read from backtest/data/brokers.csv here (not through the fee model)."""
    import csv
    from pathlib import Path

    with open(Path(__file__).resolve().parents[1] / "data" / "brokers.csv", newline="") as f:
        return {r["broker"]: float(r["brokerage_per_order"]) for r in csv.DictReader(f)}


def _money_findings(r: dict, brokerage: float) -> list[dict]:
    """gross = side x (exit - entry) x qty, net = gross - fees, fees = the schedule's charges."""
    out = []
    gross = r["side"] * (r["exit_px"] - r["entry_px"]) * r["qty"]
    if abs(gross - r["gross_pnl"]) > 1e-6 * max(1.0, abs(gross)):
        out.append(_finding(r, "pnl", "error", f"gross {r['gross_pnl']} != {gross}"))
    if abs(r["gross_pnl"] - r["fees"] - r["net_pnl"]) > 1e-6:
        out.append(_finding(r, "pnl", "error", "net != gross - fees"))
    instrument = "future" if r["opt_type"] == "FUT" else "option"
    fees = expected_fees(r["date"], r["side"], r["entry_px"], r["exit_px"], r["qty"], brokerage, instrument)
    if abs(fees - Decimal(repr(r["fees"]))) > Decimal("0.005"):
        out.append(_finding(r, "fees", "error", f"fees {r['fees']} != schedule {fees}"))
    return out


def check_arithmetic(legs: list[dict], config: dict) -> list[dict]:
    """pnl, hold time, fees, lot size, latency, flat at close: row by row, plain Python."""
    out = []
    latency = config["execution"]["latency"]["seconds"]
    session_exit = session_exit_of(config)
    brokerage = _brokerage_per_order(config)
    for r in legs:
        numbers = (r["entry_px"], r["exit_px"], r["gross_pnl"], r["fees"], r["net_pnl"])
        if all(x is not None and np.isfinite(x) for x in numbers):
            out += _money_findings(r, brokerage)
        else:
            out.append(_finding(r, "pnl", "error", f"a price or P&L is not a number: entry {r['entry_px']}, "
                                                   f"exit {r['exit_px']}, gross {r['gross_pnl']}, fees {r['fees']}"))
        hold = (r["exit_ts"] - r["entry_ts"]).total_seconds()
        if hold != r["hold_s"] or hold < 0:
            out.append(_finding(r, "pnl", "error", f"hold_s {r['hold_s']} != {hold}"))
        lot = lot_size(r["underlying"], r["expiry"], r["date"])
        if lot != r["lot_size"] or r["qty"] != r["lots"] * lot and not r["partial_fill"]:
            out.append(_finding(r, "lot_size", "error", f"lot {r['lot_size']} (expected {lot}), qty {r['qty']}"))
        exit_wait = 0 if r["exit_reason"] == "end_of_data" else latency   # decided and filled at the last quote
        if (r["entry_ts"] - r["signal_ts"]).total_seconds() < latency or \
                (r["exit_ts"] - r["exit_signal_ts"]).total_seconds() < exit_wait:
            out.append(_finding(r, "no_lookahead", "error", f"fill less than {latency}s after its decision"))
        if r["exit_reason"] == "end_of_data":
            out.append(_finding(r, "flat_at_close", "warning", "closed at the end of the data, not by a rule"))
        elif r["exit_signal_ts"].time().isoformat() > session_exit and r["exit_reason"] != "session_exit":
            out.append(_finding(r, "flat_at_close", "error", "exit decided after the session exit"))
    return out
