"""Scenario tests of the catalogue's strategies (issue #17) on hand-made seconds: each strategy's
default config, its signal and the one position engine together (backtest.simulate), so an entry
and each exit land at a known second and price. Prices: a buy fills at the ask, a sell at the bid,
one second after the decision (the default 1-s latency); a limit at its price when the market
reaches it on arrival. The book is 0.10 wide (tests.backtest_paths.book); lot 75."""
import numpy as np
import pytest

from backtest.enums import Quote
from backtest.simulate import simulate_day
from backtest.strategies import get
from features.chain import ROUND_STEPS, candle_streak, round_distance
from tests.backtest_paths import NO_FILTERS, T0, book, day_of, pre_18_costs

LOT = 75


def run(name, day, spot=None, **params):
    s = get(name)
    cfg = s.default()
    cfg.filters = NO_FILTERS
    cfg.params.update(params)
    return simulate_day(s, pre_18_costs(cfg), day, "t", True, spot or {}).legs.to_pylist()


def index_features(day) -> dict:
    """The features_spot columns of the index the strategies read, computed by the registry's own
    functions from the hand-made day's spot (as features_spot would store them)."""
    return {"candle_streak_5m": candle_streak(day.t_s, day.spot).astype(float),
            **{f"round_dist_{k}": round_distance(day.spot, k) for k in ROUND_STEPS}}


def sec(leg, key, start=T0):
    return int(leg[key].timestamp()) - (start - 19800)


def brief(leg, start=T0):
    """(opt_type, strike, side, entry second, entry price, reason, exit decision second, exit price)."""
    return (leg["opt_type"], leg["strike"], leg["side"], sec(leg, "entry_ts", start), round(leg["entry_px"], 2),
            leg["exit_reason"], sec(leg, "exit_signal_ts", start), round(leg["exit_px"], 2))


# --- #6 bid-ask snap-back: TP, SL and the spread exit -----------------------------------------------------------
def snap_day(bids, spread_at=None):
    bids = np.asarray(bids, float)
    t, Q, B = book([bids])
    spread = np.full(len(bids), 0.2)
    spread[35], spread[36:] = 1.2, 0.3            # quiet 30 s, blows out at 35, back at 36: the signal
    if spread_at is not None:
        spread[spread_at] = 0.8
    return day_of(Q, B, t, features={"spread": spread})


def test_spread_snap_back_target_stop_and_spread_exit():
    # signal at 36 (bid 100): limit 100.05; the ask is 100.05 at 37: filled there
    up = [100.0] * 37 + [99.95, 101.0, 102.1] + [102.2] * 5          # target 102.05 reached by the bid at 39
    (leg,) = run("spread_snap_back", snap_day(up))
    assert brief(leg) == ("CE", 25000, 1, 37, 100.05, "target", 39, 102.2)
    assert leg["gross_pnl"] == pytest.approx((102.2 - 100.05) * LOT)
    down = [100.0] * 37 + [99.95, 99.0, 98.5] + [98.5] * 5            # stop 98.55 hit by the bid at 39
    (leg,) = run("spread_snap_back", snap_day(down))
    assert brief(leg)[5:] == ("stop", 39, 98.5) and leg["gross_pnl"] == pytest.approx((98.5 - 100.05) * LOT)
    flat = [100.0] * 37 + [99.95] + [100.0] * 7                        # the spread 0.8 > 0.70 at 40: out
    (leg,) = run("spread_snap_back", snap_day(flat, spread_at=40))
    assert brief(leg)[5:] == ("signal_exit", 40, 100.0)


# --- #5 IV-spike fade: short, out on the IV drop, the IV stop or after 30 s ---------------------------------------
def iv_day(iv_after):
    S = 50
    bids = np.array([100.0] * 13 + [99.0] * (S - 13))
    t, Q, B = book([bids])
    iv = np.full(S, 12.0)
    iv[10:] = 18.0                                  # +6 points in 2 s at second 10 (index flat): sell
    iv[14:] = iv_after
    return day_of(Q, B, t, features={"iv": iv})


def test_iv_spike_fade_sells_the_jump_and_covers_on_the_iv_drop_the_iv_stop_or_the_time_stop():
    (leg,) = run("iv_spike_fade", iv_day(15.0))                        # 3 points under the signal's 18
    assert brief(leg) == ("CE", 25000, -1, 11, 100.0, "signal_exit", 14, 99.1)
    assert leg["gross_pnl"] == pytest.approx((100.0 - 99.1) * LOT)
    (leg,) = run("iv_spike_fade", iv_day(20.0))                        # 2 over: the IV stop
    assert brief(leg)[5:] == ("signal_exit", 14, 99.1)
    (leg,) = run("iv_spike_fade", iv_day(17.0))                        # neither: 30 s after the fill
    assert brief(leg)[5:] == ("time_stop", 41, 99.1)


# --- C-4 tick imbalance: an IOC at bid + 0.05, TP +2 / SL -1.5 -----------------------------------------------------
def test_tick_imbalance_ioc_after_three_heavy_seconds_then_target_or_stop():
    S = 20
    bidq, askq = np.full(S, 100.0), np.full(S, 100.0)
    bidq[4:] = 250.0                                 # ratio 2.5 from 4: the third heavy second is 6
    for bids, want in (([100.0] * 7 + [99.95, 101.0, 102.1] + [102.2] * 10, ("target", 9, 102.2)),
                       ([100.0] * 7 + [99.95, 99.0, 98.4] + [98.4] * 10, ("stop", 9, 98.4))):
        t, Q, B = book([np.asarray(bids)])
        (leg,) = run("tick_imbalance", day_of(Q, B, t, features={"bid_qty0": bidq, "ask_qty0": askq}))
        # IOC at 100.05 reaches the market at 7: the ask is 100.05 there
        assert brief(leg) == ("CE", 25000, 1, 7, 100.05, *want)


# --- C-18 round-number reject: a short fade at the ask, TP +2 ---------------------------------------------------------
def test_round_number_reject_fades_the_pop_near_a_round_index_level():
    # the option rises 3 over 60 s, ticks down at 70 with the index 3 points from 25,000: a sell limit
    # at the ask (103.00); the bid comes up to it at 71 (a limit the market does not take on arrival
    # is cancelled); the ask 101.00 at 75 reaches the target 101.00
    bids = np.r_[np.linspace(100, 103, 70), [102.9, 103.0], [102.95] * 3, [100.9], [100.8] * 5]
    t, Q, B = book([bids])
    Q[:, 0, Quote.ltp] = bids + 0.05
    day = day_of(Q, B, t, spot=np.full(len(bids), 25_003.0))
    (leg,) = run("round_number_reject", day, index_features(day))
    assert brief(leg) == ("CE", 25000, -1, 71, 103.0, "target", 75, 100.9)
    assert leg["gross_pnl"] == pytest.approx((103.0 - 100.9) * LOT)


# --- T-6 theta waterfall: a stack of three straddles, all out at 14:45 --------------------------------------------------
def test_theta_waterfall_stacks_one_straddle_per_round_hour_and_closes_at_1445():
    start = T0 + 45 * 60                              # 10:00:00
    S = 4 * 3600 + 46 * 60                            # to 14:46
    t, Q, B = book([np.full(S, 100.0), np.full(S, 90.0)], start=start)
    day = day_of(Q, B, t, strikes=(25000, 25000), opt_types=("CE", "PE"), features={"spread": np.full((S, 2), 0.1)})
    legs = run("theta_waterfall", day)
    assert [(sec(x, "entry_ts", start), x["opt_type"], x["exit_reason"], sec(x, "exit_signal_ts", start)) for x in legs] == \
        [(1, "CE", "session_exit", 4 * 3600 + 45 * 60), (1, "PE", "session_exit", 4 * 3600 + 45 * 60),
         (3601, "CE", "session_exit", 4 * 3600 + 45 * 60), (3601, "PE", "session_exit", 4 * 3600 + 45 * 60),
         (7201, "CE", "session_exit", 4 * 3600 + 45 * 60), (7201, "PE", "session_exit", 4 * 3600 + 45 * 60)]
    assert {x["entry_px"] for x in legs} == {100.0, 90.0}


# --- S-8 put-bid panic: after 3 red candles, the PE to 50 % decay, the CE on its trailing stop ----------------------------
def test_put_bid_panic_after_three_red_candles():
    S = 960
    spot = np.r_[np.linspace(25_100, 25_040, 900), np.full(S - 900, 25_040.0)]
    pe = np.r_[np.full(919, 20.0), np.full(S - 919, 9.8)]             # the PE's ask 9.90 <= 10 at 919
    ce = np.r_[np.full(909, 10.0), np.full(S - 909, 9.0)]             # the CE's bid 9.0 under its stop at 909
    t, Q, B = book([pe, ce])
    day = day_of(Q, B, t, strikes=(24850, 25350), opt_types=("PE", "CE"), spot=spot)
    legs = run("put_bid_panic", day, index_features(day))
    # 09:30:00 (second 900): 3 red 5-minute candles complete; PE nearest 25,040 - 200, CE nearest + 300
    assert [brief(x) for x in legs] == [("PE", 24850, -1, 901, 20.0, "target", 919, 9.9),
                                        ("CE", 25350, 1, 901, 10.1, "stop", 909, 9.0)]


# --- Directional Gamma Scalper: a down-move mirrors the legs; the theta leg is cut on a further 0.25 % ------------------------
def test_directional_gamma_scalper_on_a_down_flip_buys_the_put_and_sells_2x_the_call_400_out():
    start = T0 + 5 * 60                                # 09:20:00, session module 1
    S = 30
    spot = np.full(S, 25_000.0)
    spot[12:] = 24_930.0                               # -0.28 % from the entry's index level
    paths = [np.full(S, 100.0), np.full(S, 100.0), np.full(S, 20.0), np.full(S, 20.0)]
    t, Q, B = book(paths, start=start)
    C = 4
    ema18 = np.full((S, C), 100.0)
    ema6 = ema18.copy()
    ema6[:5, 1] = 99.9
    ema6[5:, 1] = 100.2                                # the ATM put's EMA6 crosses up at 5
    slope = np.zeros((S, C))
    slope[5, 1] = 0.05
    zeros = np.zeros((S, C))
    feats = {"ema6": ema6, "ema18": ema18, "ema6_slope": slope, "spread": np.full((S, C), 0.5),
             "bid_px0": Q[:, :, Quote.bid], "ask_px0": Q[:, :, Quote.ask], "vol_30s": zeros, "vol_5m": zeros,
             "vol_30s_ok": zeros, "vol_5m_ok": zeros, "higher_highs": zeros}
    day = day_of(Q, B, t, strikes=(25000, 25000, 25400, 25400), opt_types=("CE", "PE", "CE", "PE"), features=feats,
                 spot=spot)
    roc = np.full(S, -0.2)
    legs = run("directional_gamma_scalper", day, {"roc_60s": roc})
    by = {(x["opt_type"], x["strike"]): x for x in legs}
    assert set(by) == {("PE", 25000), ("CE", 25400)}
    runner, theta = by[("PE", 25000)], by[("CE", 25400)]
    assert (runner["side"], runner["lots"], sec(runner, "entry_ts", start), runner["entry_px"]) == (1, 1, 6, 100.1)
    assert (theta["side"], theta["lots"], sec(theta, "entry_ts", start), theta["entry_px"]) == (-1, 2, 6, 20.0)
    assert (theta["exit_reason"], sec(theta, "exit_signal_ts", start), theta["exit_px"]) == ("adjustment", 12, 20.1)
    assert runner["exit_reason"] == "end_of_data"
