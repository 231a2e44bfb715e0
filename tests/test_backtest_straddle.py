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
