"""The short-straddle shape on hand-built CE/PE paths: every position rule fires where it should
(the guarded straddle's config on the one position engine)."""
import dataclasses

import numpy as np
import pytest

from backtest.strategies import straddles as M
from backtest.strategies.base import Cond, Kill, Leg, Plan, Roll, Strike
from tests.backtest_paths import NO_FILTERS, T0, book, day_of, engine, reasons

START = T0 + 75 * 60        # 10:30:00


def straddle(**position) -> "M.StrategyConfig":
    """The guarded straddle with only the given position rules, entering once, at any time."""
    cfg = M.guarded_straddle()
    off = dict(combined_stop=None, leg_diff_exit=None, kills=[], credit_capture_pct=None, leg_stop=None)
    cfg.position = dataclasses.replace(cfg.position, **{**off, **position})
    cfg.risk = dataclasses.replace(cfg.risk, entry_windows=[("00:00:00", "23:59:59")], max_entries=1)
    cfg.filters = NO_FILTERS
    return cfg


def run(paths, cfg, spot=None, features=None, strikes=(25000, 25000), types=("CE", "PE"), entries=(0,), roc=None):
    t, Q, B = book(paths, start=START)
    day = day_of(Q, B, t, strikes=strikes, opt_types=types, features=features, spot=spot)
    ok = np.zeros(len(t), bool)
    ok[list(entries)] = True
    legs, pos, _ = engine(day, cfg, Plan.every_second(ok), {"roc_60s": np.zeros(len(t)) if roc is None else roc})
    return legs


def summary(legs):
    return [(int(x["leg"]), int(x["exit_signal_i"]), r) for x, r in zip(legs, reasons(legs))]


def test_combined_stop_exits_both_legs_at_the_first_second_the_loss_reaches_it():
    # sold at the bids of second 1 (100, 100); the buy-back cost is the ask: at second 5 the loss is
    # 0.7 + 0.1 = 0.8, at second 6 it is 1.1 + 0.1 = 1.2 >= 1.00
    legs = run([[100] * 5 + [100.6, 101.0] + [101.0] * 3, [100] * 10], straddle(combined_stop=1.0))
    assert summary(legs) == [(0, 6, "combined_stop"), (1, 6, "combined_stop")]


def test_leg_divergence_and_the_per_leg_hard_stop():
    legs = run([[100, 100, 99.0, 98.4, 98.0, 98.0], [100, 100, 100.2, 100.2, 100.2, 100.2]], straddle(leg_diff_exit=1.5))
    assert summary(legs) == [(0, 3, "leg_divergence"), (1, 3, "leg_divergence")]
    legs = run([[100, 100, 102, 104, 104, 104, 104], [100, 100, 98, 96, 96, 96, 95]], straddle(leg_stop=4.0))
    # only the CE is bought back; the PE is alive at the data's last second and closed there
    assert summary(legs) == [(0, 3, "leg_stop"), (1, 6, "end_of_data")]


def test_spot_move_credit_capture_and_session_exit():
    roc = np.zeros(8)
    roc[4] = -0.26
    cfg = straddle(kills=[Kill(Cond("roc_60s", ">=", 0.25, abs=True), "spot_move")])
    assert summary(run([[100] * 8, [100] * 8], cfg, roc=roc))[0] == (0, 4, "spot_move")
    # credit 200; at second 3 the position has made 139.8 (< 140), at second 4 141.8
    legs = run([[100, 100, 60, 30, 29, 29], [100, 100, 70, 30, 29, 29]], straddle(credit_capture_pct=70.0))
    assert summary(legs)[0] == (0, 4, "credit_captured")
    assert summary(run([[100] * 6, [100] * 6], straddle(session_exit="10:30:03")))[0] == (0, 3, "session_exit")


def test_roll_to_a_strike_with_a_higher_score_after_the_wait():
    """Strike B (contracts 2, 3) scores 1.3x strike A from second 6: the roll closes A and sells B
    in that second, once the position is 5 s old and not losing."""
    S = 12
    score = np.ones((S, 4))
    score[:6, 2:] = 0.5
    score[6:, 2:] = 1.3
    cfg = straddle(roll=Roll(after_s=5, score_mult=1.2))
    cfg.legs = [Leg("ce", "CE", strike=Strike("feature", feature="theta_score", straddle=True), side=-1),
                Leg("pe", "PE", strike=Strike("same_as", leg="ce"), side=-1)]
    paths = [[100, 100] + [99.5] * 10, [100, 100] + [99.5] * 10, [100] * 12, [100] * 12]   # A in profit
    legs = run(paths, cfg, strikes=(25000, 25000, 25050, 25050), types=("CE", "PE", "CE", "PE"),
               features={"theta_score": score})
    assert summary(legs)[:2] == [(0, 6, "roll"), (1, 6, "roll")]
    assert [int(x) for x in legs["contract"][2:]] == [2, 3] and list(legs["signal_i"][2:]) == [6, 6]
    # the penalty: each leg the roll closes is bought back 0.15 dearer
    cfg.position.roll = Roll(after_s=5, score_mult=1.2, penalty=0.15)
    legs = run(paths, cfg, strikes=(25000, 25000, 25050, 25050), types=("CE", "PE", "CE", "PE"),
               features={"theta_score": score})
    assert legs["exit_px"][:2] == pytest.approx([99.6 + 0.15, 99.6 + 0.15])


def test_daily_loss_limit_in_rupees_stops_new_positions():
    """The CE rises 0.6 a second: each position is sold, stopped by the combined stop 3 s later and
    bought back a second after that for 2.00 a unit (150 rupees for 75 units). The loss counts once
    a buy-back fills, and a new position may open only once the last one's exits filled (the same
    second: fills come before entries): position 0 is sold at 1 and bought back at 5, position 1
    sold at 6 and bought back at 10."""
    S = 40

    def positions(**risk):
        cfg = straddle(combined_stop=1.0)
        cfg.risk = dataclasses.replace(cfg.risk, max_entries=None, **risk)
        return run([100 + 0.6 * np.arange(S), [100] * S], cfg, entries=range(S))

    for limit, n in ((100, 1), (200, 2)):            # one loss (-150) filled at 5, two (-300) at 10
        legs = positions(daily_loss_rupees=limit)
        assert sorted(set(legs["position"].tolist())) == list(range(n)), limit
        np.testing.assert_allclose((legs["entry_px"] - legs["exit_px"]) * legs["qty"], [-142.5, -7.5] * n)
    assert len(set(positions()["position"].tolist())) > 6


def test_a_straddle_refuses_a_loss_limit_in_r_without_a_stop():
    """R is a position's result over its stop; without a combined stop or a leg stop there is
    nothing to measure it against, so the run says so instead of reading the number as rupees."""
    from backtest.config import apply_overrides
    from backtest.simulate import simulate_day
    from backtest.strategies import get

    t, Q, B = book([[100] * 5, [100] * 5], start=START)
    day = day_of(Q, B, t, strikes=(25000, 25000), opt_types=("CE", "PE"))
    s = get("guarded_straddle")
    cfg = apply_overrides(s.default(), {"risk": {"daily_loss_r": 2}})
    spot = {"rv_1m": np.zeros(5), "atm_iv": np.full(5, 15.0), "roc_60s": np.zeros(5)}
    simulate_day(s, cfg, day, "t", True, spot)          # the combined stop is its R
    cfg.position.combined_stop = None
    with pytest.raises(ValueError, match="daily_loss_r: guarded_straddle has no stop to measure R.*daily_loss_rupees"):
        simulate_day(s, cfg, day, "t", True, spot)
