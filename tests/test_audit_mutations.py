"""Deliberately broken engines, each run over real materialised data, each caught by the audit.

The mutants are real engines: the Numba kernel recompiled with one function swapped (fill at mid,
a hedge bought at mid, a trailing stop that loosens), the engine fed the next second's data
(look-ahead), its kill-switch condition a second late, its roll rule without the P&L condition, a
fee model that charges nothing, or backtest/fees.py reading a wrong STT rate. The audit shares no
fill, exit, rule or fee code with any of them (it reads the fee schedule's rows itself), so each
mutant is caught; each clean run of the same config audits clean first."""
import dataclasses
import datetime as dt
import math
import shutil
import types

import numba as nb
import numpy as np
import pytest

import backtest.fees
import backtest.simulate
from backtest.audit import audit_stored_run
from backtest.config import apply_overrides
from backtest.enums import Param
from backtest.kernels import position, queue
from backtest.kernels.exits import trailed_stop
from backtest.kernels.fills import market_fill
from backtest.run import run_backtest
from backtest.strategies import CATALOGUE


@nb.njit
def fill_at_mid(book, side, qty, allow_partial):
    """Broken market fill: the mid instead of the touch (bid_px0 is the book's first row, ask_px0
    the first of its second half, whether it holds the touch or 5 levels: kernels.fills)."""
    return qty, 0.5 * (book[0] + book[book.shape[0] // 2])


@nb.njit
def buys_at_mid(book, side, qty, allow_partial):
    """Broken market fill for buys only (the 2B hedge is the straddle's one bought leg)."""
    if side > 0:
        return qty, 0.5 * (book[0] + book[book.shape[0] // 2])
    return market_fill(book, side, qty, allow_partial)


@nb.njit
def loosening_trail(L, side, entry, stop, fav, atr, ema):
    """Broken trailing stop: whenever the stop should move, it moves away from the price instead."""
    s = trailed_stop(L, side, entry, stop, fav, atr, ema)
    if not math.isnan(s) and s != stop and not math.isnan(stop):
        return stop - side * 0.75
    return s


def recompiled(fn, **swaps):
    """A Numba function compiled again from its Python source with some of its callees replaced."""
    f = fn.py_func
    return nb.njit(types.FunctionType(f.__code__, {**f.__globals__, **swaps}, f.__name__, f.__defaults__))


def engine_with_fill(fill):
    """run_positions whose fills (entries and exits) call `fill` instead of kernels.fills.market_fill."""
    return recompiled(position.run_positions, _fill=recompiled(position._fill, market_fill=fill))


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


def audit_errors(root, day: dt.date, strategy: str, fees=None, cfg=None) -> tuple[int, set[str], list[dict]]:
    s = CATALOGUE[strategy]
    res = run_backtest(root, s, cfg or s.default(), "NIFTY", [day], fees=fees)
    _, inp, findings = audit_stored_run(root, res.run_id)
    errors = [f for f in findings.to_pylist() if f["severity"] == "error"]
    return inp.legs.num_rows, {f["check"] for f in errors}, errors


@pytest.fixture
def clean(materialised):
    root, day = materialised
    trades, errors, _ = audit_errors(root, day, "micro_ema_flip")
    assert trades > 0 and errors == set()
    return root, day


def test_look_ahead_by_one_second_is_caught(clean, monkeypatch):
    import backtest.run
    monkeypatch.setattr(backtest.run, "load_day", peeking_load_day(backtest.run.load_day))
    trades, errors, _ = audit_errors(*clean, "micro_ema_flip")
    assert trades > 0 and "decision_quotes" in errors, errors


def test_fill_at_mid_instead_of_the_touch_is_caught(clean, monkeypatch):
    monkeypatch.setattr(backtest.simulate, "run_positions", engine_with_fill(fill_at_mid))
    trades, errors, _ = audit_errors(*clean, "micro_ema_flip")
    assert trades > 0 and "fill_rule" in errors, errors


def test_a_stop_that_loosens_is_caught(clean, monkeypatch):
    monkeypatch.setattr(backtest.simulate, "run_positions", recompiled(position.run_positions,
                                                                       trailed_stop=loosening_trail))
    trades, errors, _ = audit_errors(*clean, "micro_ema_flip")
    assert trades > 0 and "stop_never_loosens" in errors, errors


class NoFees:
    """A fee model that charges nothing."""

    def charges(self, trade_date, side, entry_px, exit_px, qty):
        return np.zeros(len(side))


def test_an_omitted_fee_is_caught(clean):
    trades, errors, _ = audit_errors(*clean, "micro_ema_flip", fees=NoFees())
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
    trades, errors, _ = audit_errors(*clean, "micro_ema_flip")
    assert trades > 0 and errors == {"fees"}, errors


@nb.njit
def unfloored(px, side, slip):
    """Broken slippage: a sale of a cheap option pays out a negative price."""
    return px + side * slip


def test_slippage_that_sells_below_the_minimum_price_is_caught(clean, monkeypatch):
    """Slippage of Rs 500 a unit (every sale of micro_ema_flip's options would be negative): the
    engine floors each sale at the tick and audits clean; an engine without the floor books sales
    at minus hundreds of rupees, and the audit says each is below the minimum price."""
    cfg = apply_overrides(CATALOGUE["micro_ema_flip"].default(), {"execution": {"slippage": {"atm": 500.0, "otm": 500.0}}})
    trades, errors, _ = audit_errors(*clean, "micro_ema_flip", cfg=cfg)
    assert trades > 0 and errors == set(), errors
    monkeypatch.setattr(backtest.simulate, "run_positions", recompiled(
        position.run_positions, _fill=recompiled(position._fill, slipped=unfloored)))
    trades, errors, found = audit_errors(*clean, "micro_ema_flip", cfg=cfg)
    below = [f for f in found if "below the minimum price" in f["detail"]]
    assert trades > 0 and "price_achievable" in errors and len(below) == trades, errors


# --- the position rules ----------------------------------------------------------------------------

QUIET = {"params": {"max_rv_1m": 100.0, "min_atm_iv": 0.0},
         "risk": {"entry_windows": [["09:20:00", "15:00:00"]], "max_entries": 40}}


def _kill_config():
    """The guarded straddle closed only by a sensitive kill-switch on the index's 1-minute ROC."""
    return apply_overrides(CATALOGUE["guarded_straddle"].default(), {**QUIET, "position": {
        "combined_stop": None, "leg_diff_exit": None, "credit_capture_pct": None, "leg_stop": None,
        "kills": [{"when": {"feature": "roc_60s", "op": ">=", "value": 0.02, "abs": True}, "reason": "spot_move"}]}})


def late_kill(real):
    """The engine reads the kill-switch's condition one second late."""
    def inputs(*args, **kw):
        k = real(*args, **kw)
        k.cond[:, 1:] = k.cond[:, :-1].copy()
        k.cond[:, 0] = False
        return k
    return inputs


def test_a_kill_switch_evaluated_a_second_late_is_caught(materialised, monkeypatch):
    root, day = materialised
    trades, errors, _ = audit_errors(root, day, "guarded_straddle", cfg=_kill_config())
    assert trades > 0 and errors == set(), errors
    monkeypatch.setattr(backtest.simulate, "kernel_inputs", late_kill(backtest.simulate.kernel_inputs))
    trades, errors, found = audit_errors(root, day, "guarded_straddle", cfg=_kill_config())
    assert trades > 0 and "position_rules" in errors, errors
    assert any("spot_move" in f["detail"] for f in found)


def test_a_hedge_bought_at_mid_is_caught(materialised, monkeypatch):
    root, day = materialised
    # zero slippage: fill_rule allows a fill within the run's slippage of its rule, and the default
    # Rs 0.30 OTM added to a mid fill lands above the ask of this 0.10-wide book (a known limit of the
    # audit since #18's slippage defaults: it bounds slippage, it does not recompute it per fill)
    cfg = apply_overrides(CATALOGUE["guarded_hedged_2b"].default(),
                          {**QUIET, "execution": {"slippage": {"atm": 0.0, "otm": 0.0}}})
    trades, errors, _ = audit_errors(root, day, "guarded_hedged_2b", cfg=cfg)
    assert trades > 0 and errors == set(), errors
    monkeypatch.setattr(backtest.simulate, "run_positions", engine_with_fill(buys_at_mid))
    trades, errors, found = audit_errors(root, day, "guarded_hedged_2b", cfg=cfg)
    assert "fill_rule" in errors, errors          # a market buy pays at least the ask
    hedge_legs = {2}                            # ce, pe, then the hedge
    assert any(f["leg"] in hedge_legs and f["check"] == "fill_rule" for f in found)


def _rolling_config():
    """The dynamic-theta straddle rolling after a minute to any better-scoring strike."""
    return apply_overrides(CATALOGUE["dynamic_theta_straddle"].default(), {**QUIET, "params": {
        "max_rv_1m": 100.0, "min_atm_iv": 0.0, "theta_mult": None}, "risk": {**QUIET["risk"], "min_credit": None},
        "position": {"combined_stop": None, "leg_diff_exit": None, "credit_capture_pct": None, "kills": [], "leg_stop": None,
                     "roll": {"after_s": 60.0, "score_mult": 1.0}}})


def roll_regardless(real):
    """The engine's roll rule without its P&L condition."""
    def inputs(*args, **kw):
        k = real(*args, **kw)
        k.P[Param.roll_min_pnl] = -1e9
        return k
    return inputs


def test_a_roll_that_ignores_the_pnl_condition_is_caught(materialised, monkeypatch):
    root, day = materialised
    trades, errors, _ = audit_errors(root, day, "dynamic_theta_straddle", cfg=_rolling_config())
    assert trades > 0 and errors == set(), errors
    monkeypatch.setattr(backtest.simulate, "kernel_inputs", roll_regardless(backtest.simulate.kernel_inputs))
    trades, errors, found = audit_errors(root, day, "dynamic_theta_straddle", cfg=_rolling_config())
    assert "position_rules" in errors, errors
    assert any("rolled with P&L" in f["detail"] for f in found)


# --- the queue of a resting limit (issue #18) ------------------------------------------------------

@nb.njit
def nobody_ahead(book, side, price):
    """Broken queue: the displayed quantity at the order's price is never ahead of it."""
    return 0.0


def engine_ignoring_the_queue():
    """run_positions whose limit orders join every queue at its head (kernels.queue.level_qty -> 0)."""
    step = recompiled(queue.limit_step, level_qty=nobody_ahead,
                      queue_fill=recompiled(queue.queue_fill, level_qty=nobody_ahead))
    return recompiled(position.run_positions, _fill=recompiled(position._fill, limit_step=step))


def _resting_config():
    """micro_ema_flip joining the touch with a limit (offset 0) that rests up to 2 minutes."""
    return apply_overrides(CATALOGUE["micro_ema_flip"].default(), {
        "params": {"limit_if_spread_le": 100.0, "offset": 0.0}, "legs": {"scalp": {"order": {"timeout_s": 120}}}})


def test_a_queue_that_ignores_the_quantity_ahead_is_caught(materialised, monkeypatch):
    root, day = materialised
    trades, errors, _ = audit_errors(root, day, "micro_ema_flip", cfg=_resting_config())
    assert trades > 0 and errors == set(), errors
    monkeypatch.setattr(backtest.simulate, "run_positions", engine_ignoring_the_queue())
    trades, errors, found = audit_errors(root, day, "micro_ema_flip", cfg=_resting_config())
    assert trades > 0 and "queue_fill" in errors, errors
