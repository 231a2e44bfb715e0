"""Feature kernels against straightforward pandas references on random 1-second data with gaps."""
import numpy as np
import pandas as pd
import pytest

from features.kernels import bars, book, rolling

RNG = np.random.default_rng(11)


def grid(n=4000, holes=((500, 1400), (2000, 2040))):
    """A contract's grid seconds with two session-segment style jumps removed, random prices/volumes."""
    t = np.arange(n, dtype=np.int64) + 9 * 3600 * 0 + 1_700_000_000 // 60 * 60
    keep = np.ones(n, bool)
    for a, b in holes:
        keep[a:b] = False
    t = t[keep]
    price = np.round(100 + np.cumsum(RNG.normal(0, 0.2, len(t))), 2)
    price[RNG.random(len(t)) < 0.05] = np.nan
    vol = RNG.integers(0, 50, len(t)).astype(float)
    return t, price, vol


def series(t, x):
    return pd.Series(x, index=pd.to_datetime(t, unit="s"))


@pytest.mark.parametrize("w", [10, 30, 60, 300])
def test_rolling_sum_matches_pandas_time_window(w):
    t, _, vol = grid()
    vol[RNG.random(len(t)) < 0.1] = np.nan
    ref = series(t, vol).rolling(f"{w}s").sum().to_numpy()   # (t - w, t], NaN skipped
    np.testing.assert_allclose(rolling.rolling_sum(t, vol, w), np.nan_to_num(ref), atol=1e-9)


def test_rolling_std_matches_pandas_with_min_count():
    t, price, _ = grid()
    ref = series(t, price).rolling("900s", min_periods=30).std().to_numpy()
    got = rolling.rolling_std(t, price, 900, 30)
    np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-9, equal_nan=True)


def test_ema_matches_pandas_ewm_seeded_with_first_price():
    _, price, _ = grid()
    for n in (6, 18):
        ref = pd.Series(price).ewm(alpha=2 / (n + 1), adjust=False, ignore_na=True).mean().ffill().to_numpy()
        np.testing.assert_allclose(rolling.ema(price, n), ref, rtol=1e-12, equal_nan=True)


def test_vwap_matches_cumulative_reference():
    _, price, vol = grid()
    ok = ~np.isnan(price)
    pv = pd.Series(np.where(ok, price * vol, 0)).cumsum()
    q = pd.Series(np.where(ok, vol, 0)).cumsum()
    ref = (pv / q.where(q > 0)).to_numpy()
    np.testing.assert_allclose(rolling.session_vwap(price, vol), ref, rtol=1e-12, equal_nan=True)


def test_atr_matches_pandas_minute_bars_with_wilder_smoothing():
    t, price, _ = grid()
    s = series(t, price)
    b = s.resample("1min").agg(["max", "min", "last"]).dropna()
    prev = b["last"].shift()
    tr = np.maximum(b["max"] - b["min"], np.maximum((b["max"] - prev).abs(), (b["min"] - prev).abs()))
    tr.iloc[0] = b["max"].iloc[0] - b["min"].iloc[0]
    atr = np.full(len(tr), np.nan)
    atr[13] = tr.iloc[:14].mean()
    for i in range(14, len(tr)):
        atr[i] = (atr[i - 1] * 13 + tr.iloc[i]) / 14
    # published from each bar's last second on: compare at the last grid second of every minute
    got = bars.atr_minutes(t, price, 14)
    minute = t // 60
    # the final minute of the array is still open at its last second (no look-ahead): not published
    last_of_minute = np.r_[minute[1:] != minute[:-1], t[-1] % 60 == 59]
    by_minute = dict(zip((b.index - pd.Timestamp(0)) // pd.Timedelta("1min"), atr))
    ref = np.array([by_minute.get(m, np.nan) for m in minute[last_of_minute]])
    np.testing.assert_allclose(got[last_of_minute], ref, rtol=1e-10, equal_nan=True)


def test_window_is_invalid_only_where_it_touches_a_longer_gap():
    is_pad = np.zeros(200, bool)
    is_pad[50:80] = True   # a 30-second hole
    t = np.arange(200, dtype=np.int64)
    run = rolling.pad_run_length(is_pad)
    ok10, ok60 = rolling.window_valid(t, run, 10), rolling.window_valid(t, run, 60)
    assert ok10[49] and not ok10[50] and not ok10[88] and ok10[89]   # (t-10, t] touches second 79 until t = 88
    assert ok60.all()                                                # a 30 s hole is shorter than 60 s


def test_lag_value_looks_back_in_time_not_rows():
    t = np.array([0, 1, 2, 10, 11], dtype=np.int64)
    x = np.array([1.0, 2, 3, 4, 5])
    np.testing.assert_array_equal(rolling.lag_value(t, x, 2), [np.nan, np.nan, 1, 3, 3])


def test_book_imbalance_microprice_and_quote_changes():
    assert book.imbalance(np.array([300.0]), np.array([100.0]))[0] == 0.5
    assert book.microprice(np.array([10.0]), np.array([10.2]), np.array([300.0]), np.array([100.0]))[0] == pytest.approx(10.15)
    b = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 3.0], [2.0, np.nan]])
    got = book.quote_changes(list(b.T), np.array([False, False, True, False]), np.array([True, False, False, False]))
    assert got.tolist() == [0, 1, 0, 2]


def test_opening_range_is_published_only_after_it_closes():
    t = np.arange(0, 200, dtype=np.int64)
    p = np.arange(200, dtype=float)
    hi, lo = bars.opening_range(t, p, 0, 120)
    assert np.isnan(hi[119]) and hi[120] == 119 and lo[199] == 0


def test_a_day_without_rows_builds_an_empty_feature_table():
    import datetime as dt

    from features.build import build_option_features
    from features.registry import resolve, schema
    from warehouse.schema import OPTION_GRID

    out = build_option_features(OPTION_GRID.empty_table(), None, dt.date(2025, 11, 4))
    assert out.num_rows == 0 and out.schema == schema(resolve(None))


def test_spot_at_is_the_last_spot_row_at_or_before_each_second():
    import pyarrow as pa

    from features.build import spot_at
    from warehouse.clock import wall_seconds

    rng = np.random.default_rng(5)
    t0 = 1_762_141_500                                  # wall seconds of some 09:15
    spot_s = np.sort(rng.choice(np.arange(t0 + 30, t0 + 3_000), 400, replace=False))   # gaps, starts late
    ts = pa.array((spot_s - 19_800) * 1_000_000, pa.timestamp("us", tz="Asia/Kolkata"))  # wall clock is IST
    assert (wall_seconds(ts) == spot_s).all()
    grid = pa.table({"ts": ts, "price": rng.normal(48_000, 50, 400)})
    t = rng.integers(t0, t0 + 3_100, 5_000)            # before the first spot row and after the last
    want_i = np.searchsorted(spot_s, t, side="right") - 1
    want = np.where(want_i >= 0, grid["price"].to_numpy()[np.maximum(want_i, 0)], np.nan)
    np.testing.assert_array_equal(spot_at(t, grid), want)
    assert np.isnan(spot_at(t, grid)[t < spot_s[0]]).all() and (t < spot_s[0]).any()


@pytest.mark.parametrize("cut", [1, 3, 4, 6])
def test_depth_and_quote_changes_read_arrow_chunks_in_place_as_numpy_columns(cut):
    """Arrow columns (int with nulls, float with null and NaN) split into chunks at `cut`: the
    same sums and counts as their float64 copies, a change across the chunk border included."""
    import pyarrow as pa

    qty = [[5, None, 7, 7, 9, None, None, 3], [1, 1, None, 2, 2, 2, 4, None]]
    px = [[10.0, 10.0, None, float("nan"), 10.5, 10.5, 10.0, None]]
    cols = [pa.array(qty[0], pa.int64()), pa.array(qty[1], pa.int64()), pa.array(px[0], pa.float64())]
    chunked = [pa.chunked_array([c.slice(0, cut), c.slice(cut)]) for c in cols]
    as_np = [c.to_numpy(zero_copy_only=False).astype(float) for c in cols]     # null -> NaN
    np.testing.assert_array_equal(book.depth_sum(chunked[:2]), [6, 1, 7, 9, 11, 2, 4, 3])
    np.testing.assert_array_equal(book.depth_sum(chunked[:2]), book.depth_sum(as_np[:2]))
    none = np.zeros(8, bool)
    got = book.quote_changes(chunked, none, none)
    assert got.tolist() == [0, 1, 3, 1, 2, 1, 2, 3]
    assert got.tolist() == book.quote_changes(as_np, none, none).tolist()
