"""The short-straddle engine on hand-built CE/PE paths: every exit rule fires where it should."""
import numpy as np

from backtest.data import dense_book
from backtest.enums import EXIT_REASONS, N_PARAMS, N_QUOTE, Param, Quote
from backtest.kernels.straddle import run_straddle

T0 = (1_762_247_700 // 86400) * 86400 + 10 * 3600 + 30 * 60   # 10:30:00 of some day


def book(*paths, spread=0.10):
    S, C = len(paths[0]), len(paths)
    Q = np.full((S, C, N_QUOTE), np.nan)
    B = np.full((S, C, 20), np.nan)
    for c, p in enumerate(paths):
        p = np.asarray(p, float)
        Q[:, c, Quote.bid], Q[:, c, Quote.ask], Q[:, c, Quote.tradable], Q[:, c, Quote.slip] = p, p + spread, 1, 0
        B[:, c, 0], B[:, c, 5], B[:, c, 10], B[:, c, 15] = p, 1000, p + spread, 1000
    return np.arange(S, dtype=np.int64) + T0, Q, B


def params(**kw):
    P = np.full(N_PARAMS, np.nan)
    base = dict(latency_s=1, qty_lots=1, entry_start_s=0, entry_end_s=86400, session_exit_s=15 * 3600 + 5 * 60,
                max_entries=1)
    for k, v in {**base, **kw}.items():
        P[getattr(Param, k)] = v
    return P


def run(t, Q, B, P, roc=None, ce=None, pe=None, score=None):
    S, C = Q.shape[:2]
    ok = np.zeros(S, bool)
    ok[0] = True
    ce = np.zeros(S, np.int64) if ce is None else ce
    pe = np.ones(S, np.int64) if pe is None else pe
    legs, _ = run_straddle(t, Q, *dense_book(B), ok, ce, pe, np.zeros((S, C)) if score is None else score,
                           np.zeros(S) if roc is None else roc, np.full(C, 75), P, True, 100, 1000)
    return [(int(l["leg"]), int(l["exit_signal_i"]), EXIT_REASONS[l["reason"]]) for l in legs]


def test_combined_stop_exits_both_legs_at_the_first_second_the_loss_reaches_it():
    t, Q, B = book([100] * 5 + [100.6, 101.0] + [101.0] * 3, [100] * 10)
    # sold at the bids of second 1 (100, 100); the buy-back cost is the ask: at second 5 the loss is
    # 0.7 + 0.1 = 0.8, at second 6 it is 1.1 + 0.1 = 1.2 >= 1.00
    assert run(t, Q, B, params(combined_stop=1.0)) == [(0, 6, "combined_stop"), (1, 6, "combined_stop")]


def test_leg_divergence_and_the_per_leg_hard_stop():
    t, Q, B = book([100, 100, 99.0, 98.4, 98.0, 98.0], [100, 100, 100.2, 100.2, 100.2, 100.2])
    assert run(t, Q, B, params(leg_diff_exit=1.5)) == [(0, 3, "leg_divergence"), (1, 3, "leg_divergence")]
    t, Q, B = book([100, 100, 102, 104, 104, 104, 104], [100, 100, 98, 96, 96, 96, 95])
    legs = run(t, Q, B, params(leg_stop=4.0))
    assert legs[0] == (0, 3, "leg_stop") and legs[1][2] == "end_of_data"   # only the CE is bought back


def test_spot_move_credit_capture_and_session_exit():
    t, Q, B = book([100] * 8, [100] * 8)
    roc = np.zeros(8)
    roc[4] = -0.26
    assert run(t, Q, B, params(spot_roc_exit=0.25), roc=roc)[0] == (0, 4, "spot_move")
    t, Q, B = book([100, 100, 60, 30, 29, 29], [100, 100, 70, 30, 29, 29])
    # credit 200; at second 3 the position has made 139.8 (< 140), at second 4 141.8
    assert run(t, Q, B, params(credit_capture=0.70))[0] == (0, 4, "credit_captured")
    t, Q, B = book([100] * 6, [100] * 6)
    assert run(t, Q, B, params(session_exit_s=10 * 3600 + 30 * 60 + 3))[0] == (0, 3, "session_exit")


def test_roll_to_a_strike_with_a_higher_score_after_the_wait():
    t, Q, B = book([100, 100] + [99.5] * 10, [100, 100] + [99.5] * 10, [100] * 12, [100] * 12)  # in profit
    score = np.ones((12, 4))
    score[:, 2:] = 1.3                         # strike B (contracts 2, 3) scores 1.3x strike A
    ce = np.where(np.arange(12) < 6, 0, 2)
    pe = np.where(np.arange(12) < 6, 1, 3)
    legs = run(t, Q, B, params(roll_after_s=5, roll_score_mult=1.2), ce=ce, pe=pe, score=score)
    assert legs[:2] == [(0, 6, "roll"), (1, 6, "roll")]
    assert len(legs) == 4                       # the new strike sold in the same second


def test_daily_loss_limit_in_rupees_stops_new_positions():
    """The CE rises 0.6 a second: each position is sold, stopped by the combined stop 3 s later and
    bought back a second after that for 2.00 a unit (150 rupees for 75 units); a new one is sold in
    the stop's second. The loss counts once a buy-back fills."""
    S = 40
    t, Q, B = book(100 + 0.6 * np.arange(S), [100] * S)

    def positions(**kw):
        P = params(combined_stop=1.0, max_entries=np.nan, **kw)
        legs, _ = run_straddle(t, Q, *dense_book(B), np.ones(S, bool), np.zeros(S, np.int64), np.ones(S, np.int64),
                               np.zeros((S, 2)), np.zeros(S), np.full(2, 75), P, True, 100, 1000)
        return legs

    for limit, n in ((100, 2), (200, 3)):            # at 6 one loss (-150) has filled, at 9 two (-300)
        legs = positions(daily_loss_rupees=limit)
        assert sorted(set(legs["position"].tolist())) == list(range(n)), limit
        np.testing.assert_allclose((legs["entry_px"] - legs["exit_px"]) * legs["qty"], [-142.5, -7.5] * n)
    assert len(set(positions()["position"].tolist())) > 10


def test_a_straddle_refuses_a_loss_limit_in_r():
    """R is a leg's result over its entry-to-stop distance; a straddle leg has no initial stop, so
    the run says so instead of reading the number as rupees."""
    import pytest

    from backtest.config import apply_overrides
    from backtest.simulate import simulate_day
    from backtest.strategies import get
    from tests.backtest_paths import day_of

    t, Q, B = book([100] * 5, [100] * 5)
    day = day_of(Q, B, t, strikes=(25000, 25000), opt_types=("CE", "PE"))
    s = get("guarded_straddle")
    spot = {"rv_1m": np.zeros(5), "atm_iv": np.full(5, 15.0), "roc_60s": np.zeros(5)}
    assert simulate_day(s, s.default(), day, "t", True, spot).legs.num_rows == 2
    with pytest.raises(ValueError, match="daily_loss_r: a straddle has no initial stop.*daily_loss_rupees"):
        simulate_day(s, apply_overrides(s.default(), {"risk": {"daily_loss_r": 2}}), day, "t", True, spot)
