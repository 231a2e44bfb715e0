"""Scenario tests of the five strategies added to the catalogue in wave 3 (issue #17): S-1, C-19
(which read earlier days through backtest.history), and the pattern detectors C-9, C-10, C-12. Each
runs its default config on hand-made seconds through the one position engine; conventions as in
tests/test_catalogue_scenarios.py (buy at the ask, sell at the bid, a second after the decision;
the book is 0.10 wide; lot 75). The loader's side (the previous close from the previous trading
day's partition, the bias from the days before) is tested on a real warehouse at the end."""
import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from tests.backtest_paths import book, day_of
from tests.test_catalogue_scenarios import LOT, brief, run

SESSION_END = 6 * 3600 + 5 * 60           # 15:20:00 as seconds after 09:15:00


# --- S-1 skew-flip strangle ----------------------------------------------------------------------------------------
def strangle_day(S, spot, hedge_bids):
    """CE 25400 and PE 24600 (the shorts, ATM 25000 +- 400) flat at 30 / 28; CE 25050 (the hedge
    once the index is at 25,065) on `hedge_bids`."""
    t, Q, B = book([np.full(S, 30.0), np.full(S, 28.0), hedge_bids])
    return day_of(Q, B, t, strikes=(25400, 24600, 25050), opt_types=("CE", "PE", "CE"), spot=spot)


def strangle_spot(S, prev_close, wing=14.0):
    return {"prev_close": np.full(S, prev_close), "iv_25d_call": np.full(S, wing), "iv_25d_put": np.full(S, 11.0),
            "atm_iv": np.full(S, 12.0)}


def test_skew_flip_strangle_sells_the_gap_hedges_the_strong_side_and_trails_the_hedge():
    S = SESSION_END + 10
    spot = np.full(S, 25_000.0)
    spot[100:] = 25_065.0                                  # +0.26 % from the entry's level: hedge the call side
    hedge = np.full(S, 50.0)
    hedge[150:], hedge[200:] = 55.0, 52.9                  # LTP high 55.05; 52.95 is under 55.05 - 2
    day = strangle_day(S, spot, hedge)
    legs = run("skew_flip_strangle", day, strangle_spot(S, 24_875.0))     # open +0.50 % over the close
    assert [brief(x) for x in legs] == [
        ("CE", 25400, -1, 1, 30.0, "session_exit", SESSION_END, 30.1),
        ("PE", 24600, -1, 1, 28.0, "session_exit", SESSION_END, 28.1),
        ("CE", 25050, 1, 101, 50.1, "trailing_stop", 200, 52.9)]
    assert [x["lots"] for x in legs] == [1, 1, 3]
    assert [x["gross_pnl"] for x in legs] == pytest.approx([(30.0 - 30.1) * LOT, (28.0 - 28.1) * LOT,
                                                            (52.9 - 50.1) * 3 * LOT])
    # no trade: a gap of 0.28 % (under 0.40 %), or the call wing no richer than ATM
    assert run("skew_flip_strangle", day, strangle_spot(S, 24_930.0)) == []
    assert run("skew_flip_strangle", day, strangle_spot(S, 24_875.0, wing=12.0)) == []


# --- C-19 time-slice momentum --------------------------------------------------------------------------------------
def test_time_slice_momentum_buys_with_the_slice_bias_and_exits_at_target_stop_or_slice_end():
    S = 3 * 1800 + 10                                      # three 30-minute slices and a bit
    spot = np.full(S, 25_000.0)
    spot[60:], spot[1900:], spot[3700:] = 25_013.0, 24_986.0, 25_020.0
    ce = np.full(S, 100.0)
    ce[200:1800] = 102.1                                   # slice 0: the call's bid reaches entry + 2 at 200
    ce[3760:] = 98.5                                       # slice 2: a new call entry at 3701 stopped at 3760
    pe = np.full(S, 90.0)                                  # slice 1: the put held to the slice's end
    t, Q, B = book([ce, pe])
    day = day_of(Q, B, t, strikes=(25000, 25000), opt_types=("CE", "PE"), spot=spot)
    bias = np.r_[np.full(1800, 0.65), np.full(1800, 0.30), np.full(S - 3600, 0.65)]
    hist = {"slice_bias_30m": bias, "slice_bias_days": np.full(S, 20.0)}
    legs = run("time_slice_momentum", day, hist)
    # slice 0 (up 65 %): the index +0.052 % at 60: buy the call at 61, target at 200; slice 1 (down
    # 70 %): -0.056 % from the slice's first level at 1900: the put, out at the slice's last second
    # 3599; slice 2: +0.14 % at 3700: the call at 3701 at 100.10, the stop (98.60) at 3760
    assert [brief(x) for x in legs] == [("CE", 25000, 1, 61, 100.1, "target", 200, 102.1),
                                        ("PE", 25000, 1, 1901, 90.1, "signal_exit", 3599, 90.0),
                                        ("CE", 25000, 1, 3701, 100.1, "stop", 3760, 98.5)]
    assert [x["gross_pnl"] for x in legs] == pytest.approx([(102.1 - 100.1) * LOT, (90.0 - 90.1) * LOT,
                                                            (98.5 - 100.1) * LOT])
    # too few earlier days (min_days 10): no trade
    assert run("time_slice_momentum", day, {**hist, "slice_bias_days": np.full(S, 9.0)}) == []


# --- the loader's side: earlier days from the warehouse, by the calendar, never a later day ----------------------------
def _store_spot(root, day, price_of):
    import pyarrow.parquet as pq

    from warehouse.clock import IST_OFFSET_S, IST_TS
    from warehouse.layout import DATA_FILE, partition_dir

    wall = int((dt.datetime.combine(day, dt.time(9, 15)) - dt.datetime(1970, 1, 1)).total_seconds()) + np.arange(3 * 1800)
    price = np.array([price_of(k) for k in range(len(wall))], float)
    d = partition_dir(root, "spot_grid", {"underlying": "NIFTY", "date": day})
    d.mkdir(parents=True)
    pq.write_table(pa.table({"ts": pa.array((wall - IST_OFFSET_S) * 1_000_000).cast(IST_TS), "price": price}),
                   d / DATA_FILE)
    return wall, price


def test_history_reads_the_previous_trading_day_and_earlier_days_only(tmp_path):
    from backtest.history import history_columns

    # 2025-11-05 is a holiday: the trading day before Thursday 6 November is Tuesday 4 November
    moves = {dt.date(2025, 11, 3): (1, -1, 1), dt.date(2025, 11, 4): (1, 1, -1),
             dt.date(2025, 11, 6): (-1, -1, -1), dt.date(2025, 11, 7): (-1, -1, -1)}
    for day, signs in moves.items():          # each slice moves by its sign; the day's last level differs
        base = 25_000 + day.day
        _store_spot(tmp_path, day, lambda k, s=signs, b=base: b + s[k // 1800] * (k % 1800) / 100)
    t = _store_spot(tmp_path / "today", dt.date(2025, 11, 6), lambda k: 25_000.0)[0]
    names = ("prev_close", "slice_bias_30m", "slice_bias_days")
    got = history_columns(tmp_path, "NIFTY", dt.date(2025, 11, 6), t, names)
    assert set(got["prev_close"]) == {25_004 + (-1) * 1799 / 100}      # 4 Nov's last level
    # slice k: the share of 3 and 4 November (the days stored before the 6th) that rose
    want = [sum(moves[d][k] > 0 for d in (dt.date(2025, 11, 3), dt.date(2025, 11, 4))) / 2 for k in range(3)]
    assert [got["slice_bias_30m"][k * 1800] for k in range(3)] == want == [1.0, 0.5, 0.5]
    assert set(got["slice_bias_days"]) == {2.0}
    # Monday 3 November: its previous trading day (31 October) is not stored: no close, no bias,
    # though later days are
    early = history_columns(tmp_path, "NIFTY", dt.date(2025, 11, 3), t, names)
    assert np.isnan(early["prev_close"]).all() and np.isnan(early["slice_bias_30m"]).all()
    assert set(early["slice_bias_days"]) == {0.0}


# --- C-10 30-second flag -------------------------------------------------------------------------------------------
def flag_bids(after):
    """Flat 100, a pole to 107 over 20 s (to second 40), a flag 106.5 / 107.0 (41-50), the breakout
    bid 108 at 51, then `after` from 60."""
    bids = np.r_[np.full(20, 100.0), 100 + 0.35 * np.arange(21), [106.5, 107.0] * 5, np.full(9, 108.0),
                 np.full(20, after)]
    return bids


def test_flag_30s_buys_the_breakout_of_a_tight_flag_after_a_pole():
    for after, want in ((110.2, ("target", 60, 110.2)), (106.5, ("stop", 60, 106.5))):
        t, Q, B = book([flag_bids(after)])
        (leg,) = run("flag_30s", day_of(Q, B, t))
        # decided at 51 (LTP 108.05 over the flag's high 107.05): an IOC at 108.15, the ask 108.10 at 52
        assert brief(leg) == ("CE", 25000, 1, 52, 108.1, *want)
        assert leg["gross_pnl"] == pytest.approx((want[2] - 108.1) * LOT)
    # a flag wider than 2 (106.5 / 108.6) broken at 51 by 108.7: no trade (and none after it, on a
    # flat 108.7 the price never trades over a flag's high)
    bids = flag_bids(108.7)
    bids[41:51] = [106.5, 108.6] * 5
    bids[51:] = 108.7
    t, Q, B = book([bids])
    assert run("flag_30s", day_of(Q, B, t)) == []


# --- C-9 micro double bottom ---------------------------------------------------------------------------------------
def double_bottom_bids(after, second_low=100.5):
    """105 falling to the first low 100 at 20, the neckline 103 at 30, the second low at 40, back
    to 102.9 at 49, the breakout bid 103.2 at 50 (LTP 103.25 >= 103.05 + 0.10), `after` from 70."""
    return np.r_[np.full(10, 105.0), np.linspace(105, 100, 11), np.linspace(100, 103, 11)[1:],
                 np.linspace(103, second_low, 11)[1:], np.linspace(second_low, 102.9, 10)[1:], np.full(20, 103.2),
                 np.full(20, after)]


def test_micro_double_bottom_enters_over_the_neckline_and_takes_the_pattern_height():
    # height 103.05 - 100.05 = 3: the pattern's target is the bid at 103.15 + 3 = 106.15
    for after, want in ((106.2, ("signal_exit", 70, 106.2)), (101.7, ("stop", 70, 101.7))):
        t, Q, B = book([double_bottom_bids(after)])
        (leg,) = run("micro_double_bottom", day_of(Q, B, t))
        assert brief(leg) == ("CE", 25000, 1, 51, 103.3, *want)            # a market buy at the ask
        assert leg["gross_pnl"] == pytest.approx((want[2] - 103.3) * LOT)
    # the second low 1.5 under the first is no double bottom
    t, Q, B = book([double_bottom_bids(106.2, second_low=98.5)])
    assert run("micro_double_bottom", day_of(Q, B, t)) == []


def test_the_double_bottom_detector_skips_only_seconds_that_cannot_break_out():
    """The detector looks for a pattern only where the LTP rises to at least the window's low +
    min_height + offset (a bound on any neckline + offset); on random tick paths (with gaps) it
    finds exactly what searching every rising second finds, breakouts included."""
    from backtest.kernels.patterns import _breakout, double_bottom

    rng = np.random.default_rng(7)
    steps = rng.choice([-0.5, -0.1, -0.05, 0.0, 0.05, 0.1, 0.5], size=(1500, 3), p=[.05, .1, .25, .2, .25, .1, .05])
    ltp = np.round((100 + np.cumsum(steps, axis=0) * 3) / 0.05) * 0.05
    ltp[rng.random(ltp.shape) < 0.03] = np.nan
    found = 0
    for lookback, tol, height_min, offset in ((90, 1.0, 2.0, 0.10), (40, 0.5, 0.5, 0.0)):
        neck, height = double_bottom(ltp, lookback, tol, height_min, offset)
        want_n, want_h = np.full(ltp.shape, np.nan), np.full(ltp.shape, np.nan)
        low1, since1 = np.empty(lookback + 1), np.empty(lookback + 1)
        for c in range(ltp.shape[1]):
            for t in range(3, ltp.shape[0]):
                if ltp[t, c] > ltp[t - 1, c]:
                    _breakout(ltp, c, t, max(0, t - lookback), tol, height_min, offset, low1, since1, want_n, want_h)
        assert np.array_equal(neck, want_n, equal_nan=True) and np.array_equal(height, want_h, equal_nan=True)
        found += int(np.isfinite(neck).sum())
    assert found > 20                         # the paths do break out


# --- C-12 speed-line break -----------------------------------------------------------------------------------------
def speed_line_bids(after):
    """Minute lows 105, 100 (at 90), 103, 101 (at 210), 104: pivots at 90 and 210 draw a line rising
    1 per 120 s (LTP 100.05 -> 101.05), known from 300 (minute 4 closed). The LTP touches it at 330
    (102.10 vs 102.05), breaks it at 340 (101.95 <= 102.13 - 0.10); `after` from 360."""
    b = np.r_[np.full(60, 105.0), np.full(60, 102.0), np.full(60, 103.0), np.full(60, 102.5), np.full(60, 104.0),
              np.full(30, 104.0), np.full(10, 102.05), np.full(20, 101.9), np.full(20, after)]
    b[90], b[210] = 100.0, 101.0
    return b


def test_speed_line_break_sells_when_the_touched_support_line_breaks():
    for after, want in ((99.8, ("target", 360, 99.9)), (103.4, ("stop", 360, 103.5))):
        t, Q, B = book([speed_line_bids(after)])
        (leg,) = run("speed_line_break", day_of(Q, B, t))
        assert brief(leg) == ("CE", 25000, -1, 341, 101.9, *want)          # sold at the bid
        assert leg["gross_pnl"] == pytest.approx((101.9 - want[2]) * LOT)
    # no touch first: the LTP gaps from 104 straight through the line: no trade
    bids = speed_line_bids(99.8)
    bids[330:340] = 104.0
    bids[340:360] = 101.0
    t, Q, B = book([bids])
    assert run("speed_line_break", day_of(Q, B, t)) == []
