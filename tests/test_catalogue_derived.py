"""The catalogue's derived per-second values (backtest.strategies.derived), each against a plain
Python recomputation on the same numbers. The index and chain values strategies share are registry
features (tests/test_features_catalogue.py checks them)."""
import math

import numpy as np
import pytest

from backtest.strategies import derived as D

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


def test_index_moves():
    spot = np.array([100.0, 101.0, 99.0, 102.0, np.nan, 103.0])
    assert D.since_open_pct(spot)[3] == pytest.approx(2.0)
    assert D.move_pct(spot, 2)[3] == pytest.approx((102 / 101 - 1) * 100)
    assert D.up_move_pct(spot, 3)[3] == pytest.approx((102 / 99 - 1) * 100)
    assert D.down_move_pct(spot, 3)[2] == pytest.approx((99 / 101 - 1) * 100)


def test_pick_nearest_delta_among_allowed_columns():
    delta = np.array([[0.5, 0.3, 0.2, -0.26], [0.5, 0.3, 0.2, -0.1]])
    allowed = np.array([[True, True, True, False], [False, False, False, False]])
    assert D.pick_nearest_delta(delta, allowed, 0.25).tolist() == [1, -1]
