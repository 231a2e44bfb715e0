"""The catalogue's derived per-second values (backtest.strategies.derived), each against a plain
Python recomputation on the same numbers."""
import math

import numpy as np
import pytest

from backtest.strategies import derived as D
from tests.backtest_paths import T0

rng = np.random.default_rng(7)
X = 100 + np.cumsum(rng.normal(0, 0.3, 200))


def test_windows_lags_and_runs_match_loops():
    n = 7
    for k in range(len(X)):
        win = X[k - n + 1:k + 1] if k >= n - 1 else None
        assert (np.isnan(D.rolling_max(X, n)[k]) if win is None else D.rolling_max(X, n)[k] == max(win))
        if win is not None:
            assert D.rolling_min(X, n)[k] == min(win)
            assert D.rolling_mean(X, n)[k] == pytest.approx(sum(win) / n)
            m = sum(win) / n
            assert D.rolling_std(X, n)[k] == pytest.approx(math.sqrt(sum((w - m) ** 2 for w in win) / (n - 1)))
        assert (np.isnan(D.lag(X, 3)[k]) if k < 3 else D.lag(X, 3)[k] == X[k - 3])
    mask = X > 100
    count, runs = 0, []
    for v in mask:
        count = count + 1 if v else 0
        runs.append(count)
    assert D.run_length(mask).tolist() == runs


def test_index_moves_round_distance_and_parity():
    spot = np.array([100.0, 101.0, 99.0, 102.0, np.nan, 103.0])
    assert D.since_open_pct(spot)[3] == pytest.approx(2.0)
    assert D.move_pct(spot, 2)[3] == pytest.approx((102 / 101 - 1) * 100)
    assert D.up_move_pct(spot, 3)[3] == pytest.approx((102 / 99 - 1) * 100)
    assert D.down_move_pct(spot, 3)[2] == pytest.approx((99 / 101 - 1) * 100)
    assert D.round_distance(np.array([49_040.0, 48_970.0, 49_500.0]), 1000).tolist() == [40.0, -30.0, -500.0]
    dev = D.parity_deviation(np.array([120.0]), np.array([80.0]), np.array([25_030.0]), 25_000.0, np.array([0.02]), 0.065)
    assert dev[0] == pytest.approx(120 - 80 - (25_030 - 25_000 * math.exp(-0.065 * 0.02)))


def test_candle_streak_counts_completed_five_minute_candles_of_one_colour():
    t = T0 + np.arange(25 * 60)                   # 09:15:00 .. 09:39:59
    spot = np.full(len(t), np.nan)
    # candles 09:15, 09:20, 09:25: down (red); 09:30: up (green); each candle opens at its first second
    for k, (o, c) in enumerate([(100, 99), (99, 98), (98, 97), (97, 98), (98, 98)]):
        spot[k * 300], spot[k * 300 + 299] = o, c
    s = D.candle_streak(spot, t, 5)
    assert (s[0], s[300], s[600], s[900], s[1200]) == (0, -1, -2, -3, 1)
    assert s[1499] == 1                            # the 09:35 candle is not complete within the data
    assert (s[299], s[899]) == (0, -2)            # a candle counts from the second after its end


def test_pick_nearest_delta_among_allowed_columns():
    delta = np.array([[0.5, 0.3, 0.2, -0.26], [0.5, 0.3, 0.2, -0.1]])
    allowed = np.array([[True, True, True, False], [False, False, False, False]])
    assert D.pick_nearest_delta(delta, allowed, 0.25).tolist() == [1, -1]
