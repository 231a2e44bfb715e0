"""Deliberately broken engines, each run over real materialised data, each caught by the audit.

The mutants are real engines: the Numba kernel recompiled with one function swapped (fill at mid,
a trailing stop that loosens), the engine fed the next second's data (look-ahead), a fee model
that charges nothing, or backtest/fees.py reading a wrong STT rate. The audit shares no fill, exit
or fee code with any of them (it reads the fee schedule's rows itself), so each mutant is caught."""
import dataclasses
import datetime as dt
import math
import shutil
import types

import numba as nb
import numpy as np
import pytest

import backtest.fees
from backtest.audit import audit_stored_run
from backtest.kernels import engine
from backtest.kernels.exits import trailed_stop
from backtest.run import run_backtest
from backtest.strategies import CATALOGUE


@nb.njit
def fill_at_mid(book, side, qty, allow_partial):
    """Broken market fill: the mid instead of the touch (bid_px0 is the book's first row, ask_px0
    the first of its second half, whether it holds the touch or 5 levels: kernels.fills)."""
    return qty, 0.5 * (book[0] + book[book.shape[0] // 2])


@nb.njit
def loosening_trail(P, side, entry, stop, fav, atr, ema):
    """Broken trailing stop: whenever the stop should move, it moves away from the price instead."""
    s = trailed_stop(P, side, entry, stop, fav, atr, ema)
    if not math.isnan(s) and s != stop and not math.isnan(stop):
        return stop - side * 0.75
    return s


def recompiled(**swaps):
    """run_single_leg compiled again with some of its callees replaced."""
    fn = engine.run_single_leg.py_func
    return nb.njit(types.FunctionType(fn.__code__, {**fn.__globals__, **swaps}, fn.__name__, fn.__defaults__))


def peeking_load_day(real):
    """The engine sees second t+1's quotes, book and features while stamping them t."""
    def load(*args, **kw):
        d = real(*args, **kw)
        d.Q[:-1], d.book_row[:-1] = d.Q[1:].copy(), d.book_row[1:].copy()
        for name in d.F:
            d.F[name][:-1] = d.F[name][1:].copy()
        return d
    return load


@pytest.fixture(scope="module")
def materialised(landed, tmp_path_factory):
    """A copy of the orchestration tests' materialised one-day warehouse (mutants overwrite runs)."""
    _, root, _ = landed
    copy = tmp_path_factory.mktemp("mutants") / "wh"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".dagster"))
    day = dt.date.fromisoformat(sorted(p.name for p in (copy / "features" / "options" / "underlying=NIFTY").iterdir())[0][5:])
    return copy, day


def audit_errors(root, strategy: str, day: dt.date, fees=None) -> tuple[int, set[str]]:
    s = CATALOGUE[strategy]
    res = run_backtest(root, s, s.default(), "NIFTY", [day], fees=fees)
    _, inp, findings = audit_stored_run(root, res.run_id)
    return inp.legs.num_rows, {f["check"] for f in findings.to_pylist() if f["severity"] == "error"}


@pytest.fixture
def clean(materialised):
    root, day = materialised
    trades, errors = audit_errors(root, "micro_ema_flip", day)
    assert trades > 0 and errors == set()
    return root, day


def test_look_ahead_by_one_second_is_caught(clean, monkeypatch):
    import backtest.run
    monkeypatch.setattr(backtest.run, "load_day", peeking_load_day(backtest.run.load_day))
    trades, errors = audit_errors(*clean[:1], "micro_ema_flip", clean[1])
    assert trades > 0 and "decision_quotes" in errors, errors


def test_fill_at_mid_instead_of_the_touch_is_caught(clean, monkeypatch):
    monkeypatch.setattr("backtest.simulate.run_single_leg", recompiled(market_fill=fill_at_mid))
    trades, errors = audit_errors(*clean[:1], "micro_ema_flip", clean[1])
    assert trades > 0 and "fill_rule" in errors, errors


def test_a_stop_that_loosens_is_caught(clean, monkeypatch):
    monkeypatch.setattr("backtest.simulate.run_single_leg", recompiled(trailed_stop=loosening_trail))
    trades, errors = audit_errors(*clean[:1], "micro_ema_flip", clean[1])
    assert trades > 0 and "stop_never_loosens" in errors, errors


class NoFees:
    """A fee model that charges nothing."""

    def charges(self, trade_date, side, entry_px, exit_px, qty):
        return np.zeros(len(side))


def test_an_omitted_fee_is_caught(clean):
    trades, errors = audit_errors(*clean[:1], "micro_ema_flip", clean[1], fees=NoFees())
    assert trades > 0 and errors == {"fees"}, errors


def test_a_wrong_stt_rate_in_the_fee_code_is_caught(clean, monkeypatch):
    """backtest/fees.py reads the schedule with the STT of the sell side halved: the engine's own
    fee model charges less, and the audit, computing charges from the schedule's rows itself,
    says so (when the audit recomputed fees through the engine's fee function, this passed)."""
    right = backtest.fees._schedule()
    stt = backtest.fees.rates_on(clean[1]).stt_sell_pct
    wrong = tuple((a, b, dataclasses.replace(r, stt_sell_pct=r.stt_sell_pct / 2)) for a, b, r in right)
    monkeypatch.setattr(backtest.fees, "_schedule", lambda: wrong)
    assert backtest.fees.rates_on(clean[1]).stt_sell_pct == stt / 2       # the engine's fee model is wrong now
    trades, errors = audit_errors(*clean[:1], "micro_ema_flip", clean[1])
    assert trades > 0 and errors == {"fees"}, errors
