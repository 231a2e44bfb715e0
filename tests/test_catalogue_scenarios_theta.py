"""Scenario tests of the catalogue's multi-leg strategies (issue #17): theta-plus-flow S-2..S-10,
theta plays T-1..T-5 and the pond's strategies, each on hand-made seconds with its default config
and the one position engine (backtest.simulate), so the entry and each exit land at a known second,
price and P&L. Conventions (tests/test_catalogue_scenarios.py): a decision at second i fills at
i + 1 (1-s latency); a market sell at the bid, a buy at the ask; the book is 0.10 wide; lot 75.
Every expected value is worked out from the card's rules in the comments, not read off the engine.
"""
import dataclasses
import datetime as dt

import numpy as np
import pytest

from backtest.simulate import simulate_day
from backtest.strategies import get
from tests.backtest_paths import DAY, T0, book, day_of, pre_18_costs

LOT = 75
FRI, MON, RBI_DAY = dt.date(2025, 11, 7), dt.date(2025, 11, 3), dt.date(2025, 10, 1)


def at(hh: int, mm: int, ss: int = 0) -> int:
    return T0 - (9 * 3600 + 15 * 60) + hh * 3600 + mm * 60 + ss


def steps(S: int, first: float, *changes: tuple[int, float]) -> np.ndarray:
    """A bid path: `first`, then each (second, new bid) from that second on."""
    out = np.full(S, first)
    for i, v in changes:
        out[i:] = v
    return out


def legs_of(name, paths, strikes, types, start, spot=None, spot_feats=None, feats=None, date=DAY, expiries=None,
            keep_filters=False):
    """Run `name`'s default config over the hand-made contracts (no event blackouts unless
    `keep_filters`: the weekday and expiry-day filters stay); leg rows, in the engine's order."""
    t, Q, B = book(paths, start=start)
    S = len(t)
    day = day_of(Q, B, t, strikes=strikes, opt_types=types, spot=spot, date=date, expiries=expiries,
                 features={k: (v if np.ndim(v) == 2 else np.broadcast_to(np.asarray(v, float)[:, None],
                                                                          (S, len(paths)))).copy()
                           for k, v in (feats or {}).items()})
    s = get(name)
    cfg = s.default()
    if not keep_filters:
        cfg.filters = dataclasses.replace(cfg.filters, blackouts=())
    return simulate_day(s, pre_18_costs(cfg), day, "t", True, spot_feats or {}).legs.to_pylist()


def brief(leg, start):
    """(type, strike, side, lots, entry second, entry price, exit reason, exit decision second, exit price)."""
    def sec(key):
        return int(leg[key].timestamp()) - (start - 19800)
    return (leg["opt_type"], leg["strike"], leg["side"], leg["lots"], sec("entry_ts"), round(leg["entry_px"], 2),
            leg["exit_reason"], sec("exit_signal_ts"), round(leg["exit_px"], 2))


def gross(legs) -> float:
    return sum(x["gross_pnl"] for x in legs)


IRON = ((25000, 25000, 25150, 24850), ("CE", "PE", "CE", "PE"))


# --- T-4 lunch-hour iron net: 11:45-13:15 when ATM IV >= 12; out on a 0.2 % index move or at 13:15 ------------------
def test_lunch_iron_net_opens_at_1145_and_closes_on_the_index_move_or_at_1315():
    start, S = at(11, 44, 50), 5420                    # 11:45:00 is second 10; 13:15:00 is 10 + 90 * 60 = 5410
    flat = [np.full(S, 100.0), np.full(S, 90.0), np.full(S, 40.0), np.full(S, 35.0)]
    iv = {"atm_iv": np.full(S, 13.0)}
    moved = np.full(S, 25000.0)
    moved[40:] = 25060.0                               # +0.24 % >= 0.2 %: the whole position out at 40
    legs = legs_of("lunch_iron_net", flat, *IRON, start, spot=moved, spot_feats=iv)
    # decision 10, fills at 11: the shorts at the bid (100, 90), the wings at the ask (40.1, 35.1); out at
    # 41 the other way round: every leg loses the 0.10 spread: -0.10 * 75 = -7.5 each
    assert [brief(x, start) for x in legs] == [
        ("CE", 25000, -1, 1, 11, 100.0, "adjustment", 40, 100.1), ("PE", 25000, -1, 1, 11, 90.0, "adjustment", 40, 90.1),
        ("CE", 25150, 1, 1, 11, 40.1, "adjustment", 40, 40.0), ("PE", 24850, 1, 1, 11, 35.1, "adjustment", 40, 35.0)]
    assert gross(legs) == pytest.approx(4 * -7.5)
    # prices move at 100; the index stays: out at 13:15:00, filled at 5411 (CE ask 80.1, PE ask 95.1,
    # wings' bids 30 and 38): (100-80.1)*75 + (90-95.1)*75 + (30-40.1)*75 + (38-35.1)*75
    #                       = 1492.5 - 382.5 - 757.5 + 217.5 = 570
    late = [steps(S, 100.0, (100, 80.0)), steps(S, 90.0, (100, 95.0)), steps(S, 40.0, (100, 30.0)),
            steps(S, 35.0, (100, 38.0))]
    legs = legs_of("lunch_iron_net", late, *IRON, start, spot_feats=iv)
    assert [brief(x, start)[6:] for x in legs] == [("session_exit", 5410, 80.1), ("session_exit", 5410, 95.1),
                                                   ("session_exit", 5410, 30.0), ("session_exit", 5410, 38.0)]
    assert gross(legs) == pytest.approx(570.0)
    # ATM IV 11.9 < 12: nothing
    assert legs_of("lunch_iron_net", flat, *IRON, start, spot_feats={"atm_iv": np.full(S, 11.9)}) == []


# --- S-4 intraday iron snap: the ATM call's spread >= 1 by its VWAP; out on a 0.30 % index move ----------------------
def test_iron_snap_opens_on_a_spread_blowout_at_vwap_and_closes_on_the_index_move():
    start, S = at(10, 0), 40
    paths = [steps(S, 100.0, (20, 110.0)), steps(S, 90.0, (20, 85.0)), steps(S, 40.0, (20, 45.0)),
             steps(S, 35.0, (20, 33.0))]
    spread = np.full((S, 4), 0.2)
    spread[5, 0] = 1.2                                 # the ATM call's spread blows out at 5
    vwap = np.full((S, 4), 100.05)                     # = the ATM call's LTP (its mid) until 20
    spot = steps(S, 25000.0, (20, 25080.0))            # +0.32 % >= 0.30 %: out at 20
    legs = legs_of("iron_snap", paths, *IRON, start, spot=spot, feats={"spread": spread, "vwap": vwap})
    # in at 6: CE 100, PE 90 sold, wings bought 40.1, 35.1; out at 21: CE ask 110.1, PE ask 85.1, wings' bids 45, 33
    # (100-110.1)*75 + (90-85.1)*75 + (45-40.1)*75 + (33-35.1)*75 = -757.5 + 367.5 + 367.5 - 157.5 = -180
    assert [brief(x, start) for x in legs] == [
        ("CE", 25000, -1, 1, 6, 100.0, "adjustment", 20, 110.1), ("PE", 25000, -1, 1, 6, 90.0, "adjustment", 20, 85.1),
        ("CE", 25150, 1, 1, 6, 40.1, "adjustment", 20, 45.0), ("PE", 24850, 1, 1, 6, 35.1, "adjustment", 20, 33.0)]
    assert gross(legs) == pytest.approx(-180.0)
    # the LTP 0.6 away from the VWAP (> 0.50): no entry
    assert legs_of("iron_snap", paths, *IRON, start, spot=spot, feats={"spread": spread, "vwap": vwap + 0.6}) == []


CONDOR = ((25300, 24700, 25600, 24400), ("CE", "PE", "CE", "PE"))


# --- S-5 post-news condor: an RBI day, ATM IV up >= 6 points in 10 min; held to the session exit ----------------------
def test_post_news_condor_on_an_rbi_day_iv_spike_holds_to_the_session_exit():
    start = at(10, 0)
    S = at(15, 20) - start + 5                         # 15:20:00 is second 19,200
    iv = np.full(S, 12.0)
    iv[600:] = 18.1                                    # 600 s after 12.0: +6.1 >= 6 at second 600
    paths = [steps(S, 60.0, (700, 50.0)), steps(S, 55.0, (700, 40.0)), steps(S, 20.0, (700, 15.0)),
             steps(S, 18.0, (700, 12.0))]
    spot = np.full(S, 25_000.0)
    legs = legs_of("post_news_condor", paths, *CONDOR, start, spot=spot, spot_feats={"atm_iv": iv}, date=RBI_DAY)
    # in at 601 (+-300 sold at 60 / 55, +-600 bought at 20.1 / 18.1); out at 15:20:00, filled at 19,201:
    # (60-50.1)*75 + (55-40.1)*75 + (15-20.1)*75 + (12-18.1)*75 = 742.5 + 1117.5 - 382.5 - 457.5 = 1020
    end = 19_200
    assert [brief(x, start) for x in legs] == [
        ("CE", 25300, -1, 1, 601, 60.0, "session_exit", end, 50.1), ("PE", 24700, -1, 1, 601, 55.0, "session_exit", end, 40.1),
        ("CE", 25600, 1, 1, 601, 20.1, "session_exit", end, 15.0), ("PE", 24400, 1, 1, 601, 18.1, "session_exit", end, 12.0)]
    assert gross(legs) == pytest.approx(1020.0)
    # the same spike on a day without an RBI policy decision: nothing
    assert legs_of("post_news_condor", paths, *CONDOR, start, spot=spot, spot_feats={"atm_iv": iv}, date=DAY) == []


# --- S-6 Friday theta dunk: Friday 14:00 when ATM IV >= 16; out on a combined -3 or at 15:15 --------------------------
def test_friday_theta_dunk_sells_the_straddle_at_1400_and_stops_at_minus_3_combined():
    start = at(13, 59, 50)
    S = at(15, 15) - start + 5
    strikes, types = (25000, 25000, 0), ("CE", "PE", "FUT")
    iv = {"atm_iv": np.full(S, 16.0)}
    delta = np.tile([0.5, -0.5, 1.0], (S, 1))          # the short straddle is delta-flat: no futures hedge
    # CE 100 -> 101.5, PE 90 -> 90.5 at 30: -(1.5 + 0.1) - (0.5 + 0.1) = -2.2 on the asks (-2.1 on mids): held;
    # CE -> 103 at 40: -(3.0 + 0.1) - 0.6 = -3.7 (mids -3.6) <= -3: both out at 40, filled 41 at the asks
    paths = [steps(S, 100.0, (30, 101.5), (40, 103.0)), steps(S, 90.0, (30, 90.5)), np.full(S, 25_050.0)]
    legs = legs_of("friday_theta_dunk", paths, strikes, types, start, spot_feats=iv, feats={"delta": delta}, date=FRI,
                   keep_filters=True)
    # (100-103.1)*75 + (90-90.6)*75 = -232.5 - 45 = -277.5
    assert [brief(x, start) for x in legs] == [("CE", 25000, -1, 1, 11, 100.0, "combined_stop", 40, 103.1),
                                               ("PE", 25000, -1, 1, 11, 90.0, "combined_stop", 40, 90.6)]
    assert gross(legs) == pytest.approx(-277.5)
    # quiet prices: out at 15:15:00 (second 4,510), filled at the asks 100.1 / 90.1
    flat = [np.full(S, 100.0), np.full(S, 90.0), np.full(S, 25_050.0)]
    legs = legs_of("friday_theta_dunk", flat, strikes, types, start, spot_feats=iv, feats={"delta": delta}, date=FRI,
                   keep_filters=True)
    assert [brief(x, start)[6:] for x in legs] == [("session_exit", 4510, 100.1), ("session_exit", 4510, 90.1)]
    # not a Friday, or the IV under 16: nothing
    assert legs_of("friday_theta_dunk", flat, strikes, types, start, spot_feats=iv, feats={"delta": delta}, date=DAY,
                   keep_filters=True) == []
    assert legs_of("friday_theta_dunk", flat, strikes, types, start, spot_feats={"atm_iv": np.full(S, 15.9)},
                   feats={"delta": delta}, date=FRI, keep_filters=True) == []


# --- S-7 100-point magnet short: the index within 40 points of a round 1,000; a futures hedge on a 0.25 % break --------
def test_magnet_short_sells_both_100_point_strikes_and_buys_the_future_when_the_magnet_breaks_up():
    start = at(9, 29, 50)
    S = at(15, 20) - start + 5                         # 15:20:00 is second 21,010
    spot = steps(S, 25_000.0, (50, 25_070.0))          # on the round level; +0.28 % >= 0.25 % at 50
    paths = [steps(S, 50.0, (50, 70.0)), steps(S, 45.0, (50, 30.0)), steps(S, 25_080.0, (1000, 25_100.0))]
    # the registry's distance from the round 1,000 (features_spot round_dist_1000), by hand: 0, then 70
    rounds = {"round_dist_1000": spot - 25_000.0, "round_dist_100": (spot + 50) % 100 - 50}
    legs = legs_of("magnet_short", paths, (25100, 24900, 0), ("CE", "PE", "FUT"), start, spot=spot, spot_feats=rounds)
    # in at 09:30:00 (second 10), filled 11: CE 25,100 at 50, PE 24,900 at 45; the break up at 50 buys the
    # future (the index went up) at 51's ask 25,080.1; all out at 15:20:00, filled 21,011:
    # (50-70.1)*75 + (45-30.1)*75 + (25,100-25,080.1)*75 = -1507.5 + 1117.5 + 1492.5 = 1102.5
    end = 21_010
    assert [brief(x, start) for x in legs] == [
        ("CE", 25100, -1, 1, 11, 50.0, "session_exit", end, 70.1), ("PE", 24900, -1, 1, 11, 45.0, "session_exit", end, 30.1),
        ("FUT", 0, 1, 1, 51, 25_080.1, "session_exit", end, 25_100.0)]
    assert gross(legs) == pytest.approx(1102.5)


PIN = ((25000, 25050, 25050, 25100, 24900), ("CE", "CE", "PE", "CE", "PE"))


# --- S-10 gamma-pin wick seller: expiry day 12:30, the max-OI strike's straddle and +-100 wings; out on +-0.14 % -------
def test_pin_wick_seller_sells_the_max_oi_straddle_on_expiry_day_and_exits_on_the_drift():
    start, S = at(12, 29, 50), 80
    oi = np.tile([1e6, 9e6, 2e6, 1e6, 1e6], (S, 1))     # the 25,050 call has the most open interest: the pin
    spot = steps(S, 25_000.0, (60, 25_040.0))          # +0.16 % >= 0.14 %: all out at 60
    paths = [np.full(S, 100.0), np.full(S, 80.0), np.full(S, 70.0), np.full(S, 50.0), np.full(S, 45.0)]
    exp = [DAY] * 5                                     # today is the expiry
    legs = legs_of("pin_wick_seller", paths, *PIN, start, spot=spot, feats={"oi": oi}, expiries=exp, keep_filters=True)
    # in at 12:30:00 (10), filled 11: the 25,050 CE and PE sold (80, 70), the 25,100 CE and 24,900 PE bought
    # (50.1, 45.1); out at 61: each leg loses the 0.10 spread: 4 * -7.5 = -30
    assert [brief(x, start) for x in legs] == [
        ("CE", 25050, -1, 1, 11, 80.0, "adjustment", 60, 80.1), ("PE", 25050, -1, 1, 11, 70.0, "adjustment", 60, 70.1),
        ("CE", 25100, 1, 1, 11, 50.1, "adjustment", 60, 50.0), ("PE", 24900, 1, 1, 11, 45.1, "adjustment", 60, 45.0)]
    assert gross(legs) == pytest.approx(-30.0)
    # the expiry a week away: not an expiry day, nothing
    later = [dt.date(2025, 11, 11)] * 5
    assert legs_of("pin_wick_seller", paths, *PIN, start, spot=spot, feats={"oi": oi}, expiries=later,
                   keep_filters=True) == []


LADDER = ((25000, 25050, 25100, 24950, 24900), ("CE", "CE", "CE", "PE", "PE"))


# --- T-1 theta-density ladder: the highest theta-score OTM call and put; each cut on its own 0.2 %, or -2 combined ------
def test_theta_density_ladder_sells_the_two_highest_theta_scores_and_cuts_each_side():
    start, S = at(9, 29, 50), 80
    score = np.tile([9.0, 1.0, 3.0, 2.0, 1.0], (S, 1))  # the ATM call scores most but is not OTM: 25,100 CE, 24,950 PE
    rv = np.full(S, 0.2)
    rv[10] = 0.05                                      # quiet (< 0.12 %) at 09:30:00 only: one entry
    feats = {"rv_1m": rv, "atm_iv": np.full(S, 11.0)}
    paths = [np.full(S, 100.0), np.full(S, 60.0), np.full(S, 40.0), np.full(S, 35.0), np.full(S, 20.0)]
    spot = steps(S, 25_000.0, (30, 25_060.0), (50, 24_940.0))   # +0.24 %: the call cut; then -0.24 %: the put
    legs = legs_of("theta_density_ladder", paths, *LADDER, start, spot=spot, spot_feats=feats,
                   feats={"theta_score": score})
    assert [brief(x, start) for x in legs] == [("CE", 25100, -1, 1, 11, 40.0, "adjustment", 30, 40.1),
                                               ("PE", 24950, -1, 1, 11, 35.0, "adjustment", 50, 35.1)]
    # combined: CE 40 -> 40.8, PE 35 -> 35.8 at 20: -(0.9) - (0.9) = -1.8 on the asks: held; CE -> 41.5,
    # PE -> 36 at 30: -1.6 - 1.1 = -2.7 (mids -2.6) <= -2: both out at 30, at the asks 41.6 / 36.1
    # (40-41.6)*75 + (35-36.1)*75 = -120 - 82.5 = -202.5
    paths[2], paths[3] = steps(S, 40.0, (20, 40.8), (30, 41.5)), steps(S, 35.0, (20, 35.8), (30, 36.0))
    legs = legs_of("theta_density_ladder", paths, *LADDER, start, spot_feats=feats, feats={"theta_score": score})
    assert [brief(x, start)[6:] for x in legs] == [("combined_stop", 30, 41.6), ("combined_stop", 30, 36.1)]
    assert gross(legs) == pytest.approx(-202.5)


# --- T-2 rolling time-spread: sell this week's ATM call, buy next week's; closed at the 30-minute bucket's end ---------
def test_rolling_time_spread_opens_on_the_iv_spread_and_closes_at_the_bucket_end():
    start, S = at(9, 29, 50), 920
    near, far = dt.date(2025, 11, 11), dt.date(2025, 11, 18)
    iv = np.tile([12.5, 12.5], (S, 1))
    iv[10, 0] = 14.0                                   # near - far = 1.5 >= 1 at 09:30:00 only
    paths = [steps(S, 80.0, (500, 75.0)), steps(S, 95.0, (500, 93.0))]
    legs = legs_of("rolling_time_spread", paths, (25000, 25000), ("CE", "CE"), start, feats={"iv": iv},
                   expiries=[near, far])
    # in at 11 (near sold 80, far bought 95.1); the check every 30 min from 09:15 falls at 09:45:00 = second 910:
    # closed there (close_at_pnl is -1e9), filled 911: (80-75.1)*75 + (93-95.1)*75 = 367.5 - 157.5 = 210
    assert [(x["expiry"], *brief(x, start)) for x in legs] == [
        (near, "CE", 25000, -1, 1, 11, 80.0, "scheduled_close", 910, 75.1),
        (far, "CE", 25000, 1, 1, 11, 95.1, "scheduled_close", 910, 93.0)]
    assert gross(legs) == pytest.approx(210.0)


# --- T-5 retail-fade short side: 3 green 5-minute candles: 2 lots of the +200 call sold, 1 of the +300 bought ----------
def test_retail_fade_short_sells_after_three_green_candles_stops_at_twice_the_premium_or_holds_20_min():
    start = at(9, 15)
    S = 1800 + 1300
    spot = np.r_[np.linspace(24_850, 25_000, 1800), np.full(S - 1800, 25_000.0)]   # green candles to 09:45
    types, strikes = ("CE", "CE"), (25200, 25300)
    paths = [steps(S, 20.0, (1850, 40.0)), np.full(S, 12.0)]
    # the registry's 5-minute candle streak (features_spot candle_streak_5m), by hand: the candles ending 09:20 ..
    # 09:45 are green, each complete from its end: 1 at 09:20 (300) ... 6 at 09:45 (1800); the flat 09:45-09:50
    # candle ends the run at 2100
    streak = np.zeros(S)
    for n in range(1, 7):
        streak[300 * n:300 * n + 300] = n
    legs = legs_of("retail_fade_short", paths, strikes, types, start, spot=spot, spot_feats={"candle_streak_5m": streak})
    # 09:45:00 (second 1800) opens the window with 6 green candles behind: in at 1801, 2 x CE 25,200 at 20,
    # 1 x CE 25,300 at 12.1; the short's ask 40.1 >= 2 x 20 at 1850: bought back alone at 1851's ask 40.1;
    # the wing runs to the 20-minute hold: 1801 + 1200 = 3001
    assert [brief(x, start) for x in legs] == [("CE", 25200, -1, 2, 1801, 20.0, "stop", 1850, 40.1),
                                               ("CE", 25300, 1, 1, 1801, 12.1, "max_hold", 3001, 12.0)]
    # (20-40.1)*2*75 + (12-12.1)*75 = -3015 - 7.5
    assert gross(legs) == pytest.approx(-3022.5)


# --- S-2 retail-gamma bleed: 11:30-13:00, quiet and the 1,000-point call's spread >= 0.25: sold, covered at 2x ----------
def test_retail_gamma_bleed_sells_the_far_call_and_covers_at_twice_its_premium():
    start, S = at(11, 29, 50), 60
    rv = np.full(S, 0.05)
    spread = np.full(S, 0.2)
    spread[10] = 0.3                                   # >= 0.25 at 11:30:00 only
    legs = legs_of("retail_gamma_bleed", [steps(S, 8.0, (40, 16.0))], (26000,), ("CE",), start,
                   spot=np.full(S, 25_000.0), spot_feats={"rv_1m": rv}, feats={"spread": spread})
    # sold at 11's bid 8.0; the ask 16.1 >= 2 x 8 at 40: covered at 41's ask 16.1: (8-16.1)*75 = -607.5
    assert [brief(x, start) for x in legs] == [("CE", 26000, -1, 1, 11, 8.0, "stop", 40, 16.1)]
    assert gross(legs) == pytest.approx(-607.5)


# --- P-12 T-pin Monday open: the ATM straddle sold at 09:15 on a Monday, closed at 09:25 ------------------------------------
def test_tpin_monday_open_sells_the_straddle_at_the_open_and_closes_at_0925():
    start, S = at(9, 15), 610
    paths = [steps(S, 100.0, (300, 95.0)), steps(S, 90.0, (300, 92.0))]
    legs = legs_of("tpin_monday_open", paths, (25000, 25000), ("CE", "PE"), start, date=MON, keep_filters=True)
    # in at 1 (100, 90); out at 09:25:00 = 600, filled 601 at the asks: (100-95.1)*75 + (90-92.1)*75 = 367.5 - 157.5
    assert [brief(x, start) for x in legs] == [("CE", 25000, -1, 1, 1, 100.0, "session_exit", 600, 95.1),
                                               ("PE", 25000, -1, 1, 1, 90.0, "session_exit", 600, 92.1)]
    assert gross(legs) == pytest.approx(210.0)
    assert legs_of("tpin_monday_open", paths, (25000, 25000), ("CE", "PE"), start, date=DAY, keep_filters=True) == []


# --- P-2 post-lunch gamma panic: the index +0.25 % in 5 min after 13:15: the ATM call; stop, trail or the IV's reversion ------
def test_post_lunch_gamma_panic_buys_the_call_and_exits_by_stop_trail_or_iv_reversion():
    start, S = at(13, 10), 400
    spot = steps(S, 25_000.0, (310, 25_070.0), (320, 25_000.0))   # +0.28 % over 300 s at 13:15:10 (310)
    iv = np.full(S, 15.0)

    def one(bids, iv=iv):
        (leg,) = legs_of("post_lunch_gamma_panic", [bids], (25050,), ("CE",), start, spot=spot, feats={"iv": iv})
        return brief(leg, start), leg["gross_pnl"]

    # the ATM call at 25,070 is the 25,050: bought at 311's ask 100.1; the stop 100.1 - 1.5 = 98.6: the bid 98.5 at 330, sold 331 at 98.5: (98.5-100.1)*75
    (b, pnl) = one(steps(S, 100.0, (330, 98.5)))
    assert b == ("CE", 25050, 1, 1, 311, 100.1, "stop", 330, 98.5) and pnl == pytest.approx(-120.0)
    # LTP 102.05 at 330 (+1.95 >= 1.5): the trail 102.05 - 0.8 = 101.25; the bid 101.0 (LTP 101.05) at 340:
    # out, sold at 341's bid 101.0: (101-100.1)*75 = 67.5
    (b, pnl) = one(steps(S, 100.0, (330, 102.0), (340, 101.0)))
    assert b[6:] == ("trailing_stop", 340, 101.0) and pnl == pytest.approx(67.5)
    # the IV drops under its 5-minute mean at 340: the plan's exit, sold at 341's bid 101.0
    (b, pnl) = one(steps(S, 100.0, (320, 101.0)), steps(S, 15.0, (340, 14.0)))
    assert b[6:] == ("signal_exit", 340, 101.0) and pnl == pytest.approx(67.5)


# --- P-3 Friday theta donuts: a bid 0.05 under a <= Rs 5 option's bid, resting 5 s; +0.10 or 30 s -------------------------------
def test_friday_theta_donuts_rests_a_bid_under_the_bid_and_takes_a_dime_or_leaves_after_30_s():
    start, S = at(14, 29, 50), 60
    kw = dict(strikes=(25500,), types=("CE",), start=start, date=FRI, keep_filters=True)

    def one(bids):
        return [brief(x, start) for x in legs_of("friday_theta_donuts", [np.asarray(bids, float)], **kw)]

    # the bid falls to 4.00 (<= 5) at 14:30:00 (second 10): a buy limit at 3.95, at the market from 11; the
    # ask comes down to 3.95 at 13 (bid 3.85): filled at 3.95; the bid 4.05 >= 3.95 + 0.10 at 20: sold at 21's 4.10
    target = steps(S, 6.0, (10, 4.0), (13, 3.85), (20, 4.05), (21, 4.10))
    assert one(target) == [("CE", 25500, 1, 1, 13, 3.95, "target", 20, 4.1)]     # (4.10-3.95)*75 = 11.25
    # never the dime: out 30 s after the fill (13 + 30 = 43), sold at 44's bid 3.85: (3.85-3.95)*75 = -7.5
    assert one(steps(S, 6.0, (10, 4.0), (13, 3.85))) == [("CE", 25500, 1, 1, 13, 3.95, "time_stop", 43, 3.85)]
    # the ask never reaches 3.95 within 5 s: cancelled, no trade
    assert one(steps(S, 6.0, (10, 4.0))) == []


def vs_fire_features(S, C, at_second, col_):
    """The volume-spike ladder's features with the spike on contract `col_` at one second only."""
    vol30 = np.zeros((S, C))
    vol30[at_second, col_] = 30.0                      # >= 3 x (100 / 10)
    return {"vol_30s": vol30, "vol_5m": np.full((S, C), 100.0), "vol_30s_ok": np.ones((S, C)),
            "vol_5m_ok": np.ones((S, C)), "higher_highs": np.full((S, C), 3.0), "spread": np.full((S, C), 0.1)}


# --- S-3 momentum-hedge short leg: the ladder fires on the call: 3 lots of the ATM call long, the ATM put short; the long's exit closes both
def test_momentum_hedge_short_longs_3_lots_shorts_the_other_side_and_closes_both_with_the_long():
    start, S = at(9, 44, 50), 40
    strikes, types = (25000, 25000), ("CE", "PE")

    def run_(ce, pe, fire_col=0):
        t, Q, _ = book([ce, pe], start=start)
        feats = {**vs_fire_features(S, 2, 10, fire_col), "bid_px0": Q[:, :, 0]}
        return legs_of("momentum_hedge_short", [ce, pe], strikes, types, start, feats=feats)

    # 09:45:00 (10): market orders filled at 11: 3 x CE at 100.1, 1 x PE sold at 90. The long's stop 1.00: 99.1;
    # the bid 99.0 at 20: sold at 21's 99.0; the short is closed with it (leg_closed -> close_position), the
    # same second the long's exit is decided, bought back at 21's ask 90.1. (99-100.1)*3*75 + (90-90.1)*75
    legs = run_(steps(S, 100.0, (20, 99.0)), np.full(S, 90.0))
    assert [brief(x, start) for x in legs] == [("CE", 25000, 1, 3, 11, 100.1, "stop", 20, 99.0),
                                               ("PE", 25000, -1, 1, 11, 90.0, "adjustment", 20, 90.1)]
    assert gross(legs) == pytest.approx(-255.0)
    # the trail 1.00 behind the LTP: 102.05 at 20 -> 101.05; the bid 100.9 (LTP 100.95) at 25: (100.9-100.1)*225 = 180
    legs = run_(steps(S, 100.0, (20, 102.0), (25, 100.9)), np.full(S, 90.0))
    assert [brief(x, start)[6:] for x in legs] == [("trailing_stop", 25, 100.9), ("adjustment", 25, 90.1)]
    # the ladder fires on the put: the mirror, 3 x PE long, the CE short
    legs = run_(np.full(S, 100.0), np.full(S, 90.0), fire_col=1)
    assert [(x["opt_type"], x["side"], x["lots"]) for x in legs] == [("PE", 1, 3), ("CE", -1, 1)]


# --- T-3 gamma-clip scalper: the micro-EMA flip's long plus the 25-delta OTM put short; the short stays for theta -------
def test_gamma_clip_scalper_holds_the_short_after_the_long_exits_then_takes_half_or_cuts_on_the_index():
    start, S = at(9, 30), 50
    strikes, types = (25000, 25000, 24900, 24800), ("CE", "PE", "PE", "PE")
    delta = np.tile([0.5, -0.5, -0.35, -0.25], (S, 1))    # the 24,800 put is the 25-delta OTM one

    def run_(ce, pe_short, spot=None, cross_back=None):
        paths = [ce, np.full(S, 90.0), np.full(S, 40.0), pe_short]
        t, Q, _ = book(paths, start=start)
        ema18 = np.full((S, 4), 100.0)
        ema6 = ema18.copy()
        ema6[:5, 0], ema6[5:, 0] = 99.9, 100.2        # the call's EMA6 crosses up at 5
        if cross_back is not None:
            ema6[cross_back:, 0] = 99.8                # and back down
        slope = np.zeros((S, 4))
        slope[5, 0] = 0.05
        feats = {"ema6": ema6, "ema18": ema18, "ema6_slope": slope, "spread": np.full((S, 4), 0.5),
                 "bid_px0": Q[:, :, 0], "ask_px0": Q[:, :, 1], "delta": delta}
        return legs_of("gamma_clip_scalper", paths, strikes, types, start, spot=spot, feats=feats)

    # the spread 0.5 > 0.25: a market buy, the call at 6's ask 100.1, the put sold at 20.0. The EMA crosses back
    # at 15: the long out at 16's bid 100.5 ((100.5-100.1)*75 = 30); the short ignores that and is bought back
    # when its ask 9.9 <= 50 % of 20 at 30, at 31's ask 9.9 ((20-9.9)*75 = 757.5)
    legs = run_(steps(S, 100.0, (10, 100.5)), steps(S, 20.0, (30, 9.8)), cross_back=15)
    assert [brief(x, start) for x in legs] == [("CE", 25000, 1, 1, 6, 100.1, "signal_exit", 15, 100.5),
                                               ("PE", 24800, -1, 1, 6, 20.0, "target", 30, 9.9)]
    assert gross(legs) == pytest.approx(787.5)
    # the long's stop 98.6: the bid 98.5 at 15 (-120); the index -0.32 % at 20: the short bought back at 21's 20.1
    legs = run_(steps(S, 100.0, (15, 98.5)), np.full(S, 20.0), spot=steps(S, 25_000.0, (20, 24_920.0)))
    assert [brief(x, start)[6:] for x in legs] == [("stop", 15, 98.5), ("adjustment", 20, 20.1)]
    assert gross(legs) == pytest.approx(-127.5)
