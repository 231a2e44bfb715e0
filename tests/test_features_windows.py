"""Feature windows are declared once (warehouse/data/features.csv `window_s`, features.registry)
and the family kernels take them from there: change the declaration and the feature changes."""
import dataclasses

import numpy as np

from features import build
from features import registry as R
from features.kernels import families, rolling


def test_the_kernels_windows_are_the_registrys():
    assert build.windows(("vol_10s", "vol_5m", "vol_avg_2m", "tick_velocity", "vwap")).tolist() == [10, 300, 120, 60, 0]
    assert build.windows(families.TREND_COLUMNS).tolist() == [0, 0, 1, 1, 900, 0, 10, 30, 60, 120, 120, 300, 300]
    assert build.windows(build.VALID_COLUMNS).tolist() == [10, 30, 60, 300, 900]


def test_a_changed_declaration_changes_the_feature(monkeypatch):
    rng = np.random.default_rng(5)
    n = 400
    t = np.arange(n, dtype=np.int64) + 1_762_247_700
    starts = np.array([0, n], np.int64)
    price, vol = 100 + np.cumsum(rng.normal(0, 0.1, n)), rng.integers(0, 50, n).astype(float)
    is_pad = np.zeros(n, bool)
    before = build.flow_family(t, starts, price, vol, is_pad)
    np.testing.assert_array_equal(before["vol_30s"], rolling.rolling_sum(t, vol, 30))
    monkeypatch.setitem(R.REGISTRY, "vol_30s", dataclasses.replace(R.REGISTRY["vol_30s"], window_s=20))
    after = build.flow_family(t, starts, price, vol, is_pad)
    np.testing.assert_array_equal(after["vol_30s"], rolling.rolling_sum(t, vol, 20))
    np.testing.assert_array_equal(after["vol_60s"], before["vol_60s"])
