"""Scenario tests of the catalogue's single-leg scalps (issue #17; the "+Rs 2 / -Rs 1.5" scalps #1-#20
and the specs C-1..C-18 not covered by tests/test_catalogue_scenarios.py), each on hand-made
seconds with its default config and the one position engine, so its entry and each exit land at a
known second, price and P&L. Conventions: a decision at i reaches the market at i + 1 (1-s latency);
a market buy fills at the ask, a sell at the bid; a limit/IOC fills at its price when the market
reaches it on arrival, else it is cancelled; a target or stop seen at k is sold at k + 1's bid
(a short bought at its ask). The book is 0.10 wide, the LTP its mid; lot 75, so 1 rupee = 75.
Every expected value is worked out from the card's rules in the comments.
"""
import dataclasses
import datetime as dt

import numpy as np

from backtest.enums import Quote
from backtest.simulate import simulate_day
from backtest.strategies import get
from tests.backtest_paths import DAY, book, day_of, pre_18_costs
from tests.test_catalogue_scenarios_theta import at, brief, steps

LOT = 75


def one(name, bids, start, strikes=(25000,), types=("CE",), spot=None, spot_feats=None, feats=None, ltp=None, vol=None,
        date=DAY, expiries=None, keep_filters=False):
    """(brief, gross P&L) of each leg `name` trades on the hand-made contracts."""
    paths = [np.asarray(b, float) for b in (bids if np.ndim(bids) == 2 or isinstance(bids, list) else [bids])]
    t, Q, B = book(paths, start=start)
    S, C = len(t), len(paths)
    if ltp is not None:
        Q[:, :, Quote.ltp] = np.asarray(ltp, float).reshape(S, C)
    if vol is not None:
        Q[:, :, Quote.vol] = np.asarray(vol, float).reshape(S, C)
    day = day_of(Q, B, t, strikes=strikes, opt_types=types, spot=spot, date=date, expiries=expiries,
                 features={k: np.asarray(v, float).reshape(S, C) for k, v in (feats or {}).items()})
    s = get(name)
    cfg = s.default()
    if not keep_filters:
        cfg.filters = dataclasses.replace(cfg.filters, blackouts=())
    legs = simulate_day(s, pre_18_costs(cfg), day, "t", True, spot_feats or {}).legs.to_pylist()
    return [(brief(x, start), round(x["gross_pnl"], 2)) for x in legs]


def col(S, first, *changes):
    return steps(S, first, *changes)


T9 = at(9, 30)           # a plain mid-morning start for the rules without a window


# --- C-2 VWAP bounce: the LTP crosses its VWAP up with the bid quantity growing; bid + 0.05; TP +2 / SL -1.5 ---------
def test_vwap_bounce():
    S = 20
    vwap = col(S, 100.2, (5, 100.0))               # LTP 100.05: under 100.2 at 4, over 100.0 at 5
    feats = {"vwap": vwap, "bid_qty0": col(S, 100.0, (5, 150.0))}
    # limit 100.05 at 5; the bid dips to 99.95 at 6: the ask 100.05 takes it. TP 102.05 seen by the bid 102.1
    # at 9: sold at 10's 102.2: (102.2-100.05)*75 = 161.25; the stop 98.55: the bid 98.5 at 9: (98.5-100.05)*75
    up = col(S, 100.0, (6, 99.95), (7, 100.0), (9, 102.1), (10, 102.2))
    assert one("vwap_bounce", up, T9, feats=feats) == [(("CE", 25000, 1, 1, 6, 100.05, "target", 9, 102.2), 161.25)]
    down = col(S, 100.0, (6, 99.95), (7, 100.0), (9, 98.5))
    assert one("vwap_bounce", down, T9, feats=feats) == [(("CE", 25000, 1, 1, 6, 100.05, "stop", 9, 98.5), -116.25)]
    # the bid quantity did not grow: nothing
    assert one("vwap_bounce", up, T9, feats={**feats, "bid_qty0": np.full(S, 100.0)}) == []


# --- C-8 order-book pressure / C-6 level-2 domination: the 5-level depth ratio's first second >= 2.5 / 3.0 ----------------
def test_ob_pressure_and_l2_domination():
    S = 20
    ratio = col(S, 1.0, (5, 3.0))
    up = col(S, 100.0, (6, 99.95), (7, 100.0), (9, 102.1), (10, 102.2))
    assert one("ob_pressure", up, T9, feats={"depth_ratio5": ratio}) == \
        [(("CE", 25000, 1, 1, 6, 100.05, "target", 9, 102.2), 161.25)]
    # 2.6 is pressure (>= 2.5) but not domination (< 3.0)
    assert one("l2_domination", up, T9, feats={"depth_ratio5": col(S, 1.0, (5, 2.6))}) == []
    # domination has no target: the trail. LTP 101.85 at 9 (+1.8 >= 1.5 over 100.05): the stop to 101.85 - 0.8 =
    # 101.05; the bid 100.9 (LTP 100.95) at 12: out, sold at 13's 100.9: (100.9-100.05)*75 = 63.75
    trail = col(S, 100.0, (6, 99.95), (7, 100.0), (9, 101.8), (12, 100.9))
    assert one("l2_domination", trail, T9, feats={"depth_ratio5": ratio}) == \
        [(("CE", 25000, 1, 1, 6, 100.05, "trailing_stop", 12, 100.9), 63.75)]
    down = col(S, 100.0, (6, 99.95), (7, 100.0), (9, 98.5))
    assert one("l2_domination", down, T9, feats={"depth_ratio5": ratio}) == \
        [(("CE", 25000, 1, 1, 6, 100.05, "stop", 9, 98.5), -116.25)]


# --- C-7 large-lot follow: a second trading >= 100 lots at the ask (bid): an IOC on the same side ------------------------
def test_large_lot_follow_buys_after_the_offer_is_hit_and_sells_after_the_bid_is_hit():
    S = 20
    vol = col(S, 10.0, (5, 8000.0), (6, 10.0))       # 8,000 units >= 100 lots of 75 at 5
    bids = col(S, 100.0, (9, 102.1), (10, 102.2))
    ltp = bids + 0.05
    ltp[5] = 100.10                                  # the print at the ask: IOC buy at 100.10, filled at 6's ask
    # TP 102.10 seen at 9: sold at 10's 102.2: (102.2-100.1)*75 = 157.5
    assert one("large_lot_follow", bids, T9, ltp=ltp, vol=vol) == \
        [(("CE", 25000, 1, 1, 6, 100.1, "target", 9, 102.2), 157.5)]
    bids = col(S, 100.0, (9, 97.9), (10, 97.8))
    ltp = bids + 0.05
    ltp[5] = 100.0                                   # at the bid: IOC sell at 100.0, filled at 6's bid
    # short TP: the ask 98.0 <= 100 - 2 at 9: bought at 10's ask 97.9: (100-97.9)*75 = 157.5
    assert one("large_lot_follow", bids, T9, ltp=ltp, vol=vol) == \
        [(("CE", 25000, -1, 1, 6, 100.0, "target", 9, 97.9), 157.5)]


# --- C-5 spread compression: the spread from > 0.70 to <= 0.30; join the heavier side; out when it widens past 0.50 --------
def test_spread_compression_joins_the_heavier_side_and_leaves_when_the_spread_widens():
    S = 20
    spread = col(S, 0.8, (5, 0.2), (12, 0.6))
    # bid heavier: a buy limit at 100.05; the ask 100.05 at 6 takes it; the spread 0.6 > 0.5 at 12: sold at 13's 100.0
    feats = {"spread": spread, "bid_qty0": np.full(S, 300.0), "ask_qty0": np.full(S, 100.0)}
    bids = col(S, 100.0, (6, 99.95), (7, 100.0))
    assert one("spread_compression", bids, T9, feats=feats) == \
        [(("CE", 25000, 1, 1, 6, 100.05, "signal_exit", 12, 100.0), -3.75)]
    # ask heavier: a sell limit at ask - 0.05 = 100.05; the bid 100.05 at 6 takes it; TP: the ask 98.0 at 9
    # (bid 97.9) <= 98.05: bought at 10's ask 97.9: (100.05-97.9)*75 = 161.25
    feats = {"spread": col(S, 0.8, (5, 0.2)), "bid_qty0": np.full(S, 100.0), "ask_qty0": np.full(S, 300.0)}
    bids = col(S, 100.0, (6, 100.05), (7, 100.0), (9, 97.9), (10, 97.8))
    assert one("spread_compression", bids, T9, feats=feats) == \
        [(("CE", 25000, -1, 1, 6, 100.05, "target", 9, 97.9), 161.25)]


# --- C-3 10-second ROC burst: ROC >= 0.15 % with 3x volume: a market buy; SL -1.5, trail from +1.5 at LTP - 0.8 -----------
def test_roc10_burst():
    S = 20
    feats = {"roc_10s": col(S, 0.0, (5, 0.2)), "vol_10s": np.full(S, 300.0), "vol_60s": np.full(S, 600.0)}
    # 300 >= 3 x 600 / 6 = 300; bought at 6's ask 100.1. LTP 101.85 at 9 (+1.75): the trail 101.05; bid 100.9 at 12
    # (LTP 100.95): sold at 13's 100.9: (100.9-100.1)*75 = 60
    trail = col(S, 100.0, (9, 101.8), (12, 100.9))
    assert one("roc10_burst", trail, T9, feats=feats) == [(("CE", 25000, 1, 1, 6, 100.1, "trailing_stop", 12, 100.9), 60.0)]
    # the stop 98.6: the bid 98.5 at 9: (98.5-100.1)*75 = -120
    assert one("roc10_burst", col(S, 100.0, (9, 98.5)), T9, feats=feats) == \
        [(("CE", 25000, 1, 1, 6, 100.1, "stop", 9, 98.5), -120.0)]
    # 299 in 10 s is under 3x: nothing
    assert one("roc10_burst", trail, T9, feats={**feats, "vol_10s": np.full(S, 299.0)}) == []


# --- C-15 cross-strike momentum: the highest 1-minute ROC of ATM +- 2 when > 0.1 %: an IOC at its LTP ---------------------
def test_cross_strike_momentum_buys_the_fastest_contract():
    S = 20
    roc = np.zeros((S, 2))
    roc[5:] = [0.12, 0.20]                          # the put is faster
    ce = np.full(S, 80.0)
    pe = col(S, 100.0, (6, 99.95), (7, 100.0), (9, 102.1), (10, 102.2))
    # IOC at the put's LTP 100.05; its ask 100.05 at 6; TP at 9, sold at 10's 102.2: (102.2-100.05)*75 = 161.25
    assert one("cross_strike_momentum", [ce, pe], T9, strikes=(25000, 25000), types=("CE", "PE"),
               feats={"roc_60s": roc}) == [(("PE", 25000, 1, 1, 6, 100.05, "target", 9, 102.2), 161.25)]


# --- #20 IV pump-and-run: IV[t-2] - IV[t-4] >= 4 and rising 2 more seconds: buy at the mid; out on 3 flat seconds -------------
def test_iv_pump_and_run():
    S = 20
    iv = np.r_[[10.0] * 5, [14.5, 15.0, 15.5], [15.5] * (S - 8)]
    # at 7: IV[5] - IV[3] = 4.5 >= 4, up 0.5 at 6 and at 7: a limit at the mid 100.05; the ask 100.05 at 8 fills it;
    # IV flat at 8, 9, 10: three seconds without a rise at 10: sold at 11's bid 100.5: (100.5-100.05)*75 = 33.75
    bids = col(S, 100.0, (8, 99.95), (9, 100.5))
    assert one("iv_pump_and_run", bids, T9, feats={"iv": iv}) == \
        [(("CE", 25000, 1, 1, 8, 100.05, "signal_exit", 10, 100.5), 33.75)]
    # the IV keeps rising; the stop 98.55: the bid 98.5 at 10: (98.5-100.05)*75 = -116.25
    rising = np.r_[[10.0] * 5, 14.5 + 0.5 * np.arange(S - 5)]
    assert one("iv_pump_and_run", col(S, 100.0, (8, 99.95), (9, 100.0), (10, 98.5)), T9, feats={"iv": rising}) == \
        [(("CE", 25000, 1, 1, 8, 100.05, "stop", 10, 98.5), -116.25)]


# --- C-16 term-structure scalp: weekly IV over the monthly's by >= 2 with the index's 60-s trend: an IOC at the LTP --------------
def test_term_structure_scalp_buys_the_weekly_call_when_its_iv_is_2_over_the_monthly_in_an_up_trend():
    S = 80
    weekly, monthly = dt.date(2025, 11, 11), dt.date(2025, 11, 25)
    iv = np.tile([14.0, 12.5], (S, 1))
    iv[60:, 0] = 14.6                               # 2.1 over the monthly from 60
    spot = col(S, 25_000.0, (50, 25_010.0))        # up over 60 s from 60 on (the lag is NaN before)
    wk = col(S, 100.0, (61, 99.95), (62, 100.0), (65, 102.1), (66, 102.2))
    # IOC at the LTP 100.05 at 60; the weekly's ask 100.05 at 61; TP at 65, sold at 66's 102.2: 161.25
    assert one("term_structure_scalp", [wk, np.full(S, 150.0)], T9, strikes=(25000, 25000), types=("CE", "CE"),
               spot=spot, feats={"iv": iv}, expiries=[weekly, monthly]) == \
        [(("CE", 25000, 1, 1, 61, 100.05, "target", 65, 102.2), 161.25)]
    # the index falling: a call is not with the trend, nothing
    assert one("term_structure_scalp", [wk, np.full(S, 150.0)], T9, strikes=(25000, 25000), types=("CE", "CE"),
               spot=col(S, 25_000.0, (50, 24_990.0)), feats={"iv": iv}, expiries=[weekly, monthly]) == []


# --- #8 micro basis arb: the future's basis closes > 70 % in 2 s by the future rising, the option still: buy the call --------
def test_micro_basis_arb_buys_the_call_when_the_future_closes_the_gap_and_leaves_when_it_reopens():
    S = 30
    basis = col(S, -10.0, (10, -2.0))              # -0.04 % -> -0.008 % (<= 30 % of it) at 10, the future up 8
    fut = 25_000.0 + basis
    spot_feats = {"fut_basis": basis, "fut_price": fut}
    # bought at 11's ask 100.1; TP 102.1: the bid 102.1 at 15, sold at 16's 102.2: (102.2-100.1)*75 = 157.5
    assert one("micro_basis_arb", col(S, 100.0, (15, 102.1), (16, 102.2)), T9, spot=np.full(S, 25_000.0),
               spot_feats=spot_feats) == [(("CE", 25000, 1, 1, 11, 100.1, "target", 15, 102.2), 157.5)]
    # the basis re-widens to -0.028 % at 20: out, sold at 21's bid 100.5: (100.5-100.1)*75 = 30
    basis = col(S, -10.0, (10, -2.0), (20, -7.0))
    assert one("micro_basis_arb", col(S, 100.0, (15, 100.5)), T9, spot=np.full(S, 25_000.0),
               spot_feats={"fut_basis": basis, "fut_price": 25_000.0 + basis}) == \
        [(("CE", 25000, 1, 1, 11, 100.1, "signal_exit", 20, 100.5), 30.0)]


# --- #7 gamma-pin wick: expiry day 12:00-13:45, the index on the strike with >= 3 M lots of OI, +3 then a tick down: sell ------
def test_gamma_pin_wick_fades_the_wick_to_target_or_time_stop():
    start, S = at(11, 59, 50), 70
    oi = np.full(S, 3_000_000.0 * 75)
    # LTP 103.55 at 15 is 3.5 over its 10-s low 100.05; 103.25 at 16 ticks down: sold at 17's bid 103.2
    # target: the ask 101.1 <= 103.2 - 2 at 20: bought back at 21's ask 101.1: (103.2-101.1)*75 = 157.5
    wick = col(S, 100.0, (15, 103.5), (16, 103.2), (20, 101.0))
    kw = dict(feats={"oi": oi}, spot=np.full(S, 25_000.0), expiries=[DAY], keep_filters=True)
    assert one("gamma_pin_wick", wick, start, **kw) == [(("CE", 25000, -1, 1, 17, 103.2, "target", 20, 101.1), 157.5)]
    # no follow-through: 45 s after the fill (17 + 45 = 62), bought back at 63's ask 103.3: -7.5
    flat = col(S, 100.0, (15, 103.5), (16, 103.2))
    assert one("gamma_pin_wick", flat, start, **kw) == [(("CE", 25000, -1, 1, 17, 103.2, "time_stop", 62, 103.3), -7.5)]
    # the OI one lot short of 3 M lots: nothing; not an expiry day: nothing
    assert one("gamma_pin_wick", wick, start, **{**kw, "feats": {"oi": oi - 75}}) == []
    assert one("gamma_pin_wick", wick, start, **{**kw, "expiries": [dt.date(2025, 11, 11)]}) == []


# --- #15 clock-timer liquidity drop: from 14:59:30 the depth 25 % under its 5-s mean; the next tick's direction: IOC ----------
def test_clock_liquidity_drop_follows_the_first_tick_after_the_depth_drop():
    start, S = at(14, 59, 20), 40
    depth = col(S, 1000.0, (15, 500.0), (16, 1000.0))   # bid + ask depth 2,000 -> 1,000 <= 0.75 x 2,000 at 15
    feats = {"depth_bid5": depth, "depth_ask5": depth}
    # 16 (14:59:36): the LTP up 0.5: IOC buy at 100.55; the ask 100.55 at 17 fills it. TP 102.55: the bid 102.6 at 20,
    # sold at 21's 102.6: (102.6-100.55)*75 = 153.75
    up = col(S, 100.0, (16, 100.5), (17, 100.45), (20, 102.6))
    assert one("clock_liquidity_drop", up, start, feats=feats) == \
        [(("CE", 25000, 1, 1, 17, 100.55, "target", 20, 102.6), 153.75)]
    # no move after the fill: 10 s later (27), sold at 28's bid 100.45: (100.45-100.55)*75 = -7.5
    assert one("clock_liquidity_drop", col(S, 100.0, (16, 100.5), (17, 100.45)), start, feats=feats) == \
        [(("CE", 25000, 1, 1, 17, 100.55, "time_stop", 27, 100.45), -7.5)]


# --- #3 VWAP tag-and-go: 10:30-13:00, the LTP comes down to VWAP + 0.50 with the index calm: a limit at that LTP ----------------
def test_vwap_tag_and_go_buys_the_tag_and_leaves_on_the_index_or_the_stop():
    start, S = at(10, 29, 50), 40
    vwap = np.full(S, 100.0)
    # LTP 100.65 (0.65 over) to 14, 100.35 at 15: a limit at 100.35; the ask 100.35 at 16 fills it
    tag = col(S, 100.6, (15, 100.3), (16, 100.25))
    # the index leaves +-0.2 % of its open at 25 (+0.24 %): sold at 26's bid 100.25: (100.25-100.35)*75 = -7.5
    assert one("vwap_tag_and_go", tag, start, spot=col(S, 25_000.0, (25, 25_060.0)), feats={"vwap": vwap}) == \
        [(("CE", 25000, 1, 1, 16, 100.35, "signal_exit", 25, 100.25), -7.5)]
    # the stop 98.85: the bid 98.8 at 25: (98.8-100.35)*75 = -116.25
    assert one("vwap_tag_and_go", col(S, 100.6, (15, 100.3), (16, 100.25), (25, 98.8)), start,
               spot=np.full(S, 25_000.0), feats={"vwap": vwap}) == \
        [(("CE", 25000, 1, 1, 16, 100.35, "stop", 25, 98.8), -116.25)]
    # the index already 0.24 % off its open: not calm, nothing
    assert one("vwap_tag_and_go", tag, start, spot=col(S, 25_000.0, (5, 25_060.0)), feats={"vwap": vwap}) == []


# --- #17 tape-speed burst: quote changes >= their 5-minute mean + 2 sigma with the LTP up: market buy --------------------------
def test_tape_speed_burst_buys_the_burst_and_leaves_on_the_trail_or_when_the_tape_slows():
    S = 340
    qc = np.r_[np.tile([4.0, 6.0], 155), [20.0], np.full(S - 311, 6.0)]   # mean 5, sigma 1.0: 20 >= 7 at 310
    # the LTP up at 310 (100.05 -> 100.55): bought at 311's ask 100.6; the trail 1.00 behind the LTP from the fill
    qc_slow = qc.copy()
    qc_slow[320:] = 3.0                                # under the mean at 320: out, sold at 321's bid 100.5
    assert one("tape_speed_burst", col(S, 100.0, (310, 100.5)), T9, feats={"quote_changes": qc_slow}) == \
        [(("CE", 25000, 1, 1, 311, 100.6, "signal_exit", 320, 100.5), -7.5)]
    # LTP 102.05 at 315: the trail 101.05; the bid 100.9 (LTP 100.95) at 318: sold at 319's 100.9: (100.9-100.6)*75
    assert one("tape_speed_burst", col(S, 100.0, (310, 100.5), (315, 102.0), (318, 100.9)), T9,
               feats={"quote_changes": qc}) == [(("CE", 25000, 1, 1, 311, 100.6, "trailing_stop", 318, 100.9), 22.5)]


# --- #18 gamma-momentum push: the index +0.25 % and the ATM call +2 over 90 s; a limit 0.50 under the spike high -----------------
def test_gamma_momentum_push_buys_the_pullback_and_exits_by_stop_or_trail():
    S = 140
    spot = col(S, 24_990.0, (100, 25_060.0))        # +0.28 % over its 90-s low at 100; ATM 25,050
    # LTP 100.05 -> 102.65 at 100 (2.6 over the 90-s low), 102.15 at 102 (0.50 under the high): a limit at 102.15;
    # the ask 102.15 at 103 fills it
    base = [(100, 102.6), (102, 102.1), (103, 102.05)]
    # the stop 100.65: the bid 100.6 at 110: (100.6-102.15)*75 = -116.25
    assert one("gamma_momentum_push", col(S, 100.0, *base, (110, 100.6)), T9, strikes=(25050,), spot=spot) == \
        [(("CE", 25050, 1, 1, 103, 102.15, "stop", 110, 100.6), -116.25)]
    # LTP 103.75 at 110 (+1.6): the stop to 102.15 - 0.50 and the trail to 103.75 - 0.8 = 102.95; the bid 102.8
    # (LTP 102.85) at 115: sold at 116's 102.8: (102.8-102.15)*75 = 48.75
    assert one("gamma_momentum_push", col(S, 100.0, *base, (110, 103.7), (115, 102.8)), T9, strikes=(25050,),
               spot=spot) == [(("CE", 25050, 1, 1, 103, 102.15, "trailing_stop", 115, 102.8), 48.75)]


# --- #19 VWAP trend ride: 120 s over VWAP + 2 with the VWAP rising; a limit on a <= 0.50 pullback; SL -1.5, no target ---------
def test_vwap_trend_ride_buys_the_pullback_has_no_target_and_stops_at_minus_1_5():
    S = 200
    vwap = 95.0 + 0.01 * np.arange(S)                # rising 0.6 a minute; the LTP >= 3.4 over it to 200
    # the LTP 100.05 from 0; 99.75 at 130 (0.30 under its 120-s high): a limit at 99.75; the ask 99.75 at 131 fills it
    base = [(130, 99.7), (131, 99.65)]
    assert one("vwap_trend_ride", col(S, 100.0, *base, (140, 98.2)), T9, feats={"vwap": vwap}) == \
        [(("CE", 25000, 1, 1, 131, 99.75, "stop", 140, 98.2), -116.25)]         # the stop 98.25
    # +5.25 and no target: held to the day's last second (199), closed there at the bid 105: (105-99.75)*75
    assert one("vwap_trend_ride", col(S, 100.0, *base, (140, 105.0)), T9, feats={"vwap": vwap}) == \
        [(("CE", 25000, 1, 1, 131, 99.75, "end_of_data", 199, 105.0), 393.75)]


# --- #13 iceberg reveal (proxy): 5 seconds of >= 100 lots at the offer at one LTP, the offer showing < 50 lots: IOC buy --------
def test_iceberg_reveal_follows_the_hidden_buyer_to_the_4_rupee_cap_or_the_trail():
    S = 30
    ltp = np.full(S, 100.05)
    ltp[3:8] = 100.10                                # at the ask, unchanged, 3..7
    vol = np.full(S, 10.0)
    vol[3:8] = 8000.0                                # >= 7,500 (100 lots)
    feats = {"ask_qty0": np.full(S, 1000.0), "bid_qty0": np.full(S, 1000.0)}   # < 50 lots shown
    # IOC at 100.10 at 7, the ask 100.10 at 8; the cap +4: the bid 104.2 at 12: sold at 13's 104.3: (104.3-100.1)*75
    assert one("iceberg_reveal", col(S, 100.0, (12, 104.2), (13, 104.3)), T9, ltp=ltp, vol=vol, feats=feats) == \
        [(("CE", 25000, 1, 1, 8, 100.1, "target", 12, 104.3), 315.0)]
    # the trail 1.00 behind the LTP: LTP 101.55 at 12 -> stop 100.55; the bid 100.4 (LTP 100.45) at 14: sold at 15's 100.4
    ltp2 = ltp.copy()
    ltp2[12:14], ltp2[14:] = 101.55, 100.45
    assert one("iceberg_reveal", col(S, 100.0, (12, 101.5), (14, 100.4)), T9, ltp=ltp2, vol=vol, feats=feats) == \
        [(("CE", 25000, 1, 1, 8, 100.1, "trailing_stop", 14, 100.4), 22.5)]
    # the offer showing 50 lots: no iceberg
    assert one("iceberg_reveal", col(S, 100.0, (12, 104.2)), T9, ltp=ltp, vol=vol,
               feats={**feats, "ask_qty0": np.full(S, 3750.0)}) == []


# --- #14 cross-gamma flip: |delta| crosses 0.25 with OI +50 k lots: a resting bid at the bid for 120 s ---------------------------
def test_cross_gamma_flip_rests_a_bid_then_stops_or_locks():
    S = 40
    feats = {"delta": col(S, 0.2, (5, 0.3)), "oi": col(S, 1e7, (5, 1e7 + 50_000 * 75))}
    # a limit at the bid 100.00 at 5; the ask comes down to 100.00 at 10 (bid 99.9): filled at 100.00
    base = [(10, 99.9), (11, 100.0)]
    # the stop 98.5: the bid 98.4 at 20: (98.4-100)*75 = -120
    assert one("cross_gamma_flip", col(S, 100.0, *base, (20, 98.4)), T9, feats=feats) == \
        [(("CE", 25000, 1, 1, 10, 100.0, "stop", 20, 98.4), -120.0)]
    # +1.6 at 20: the stop to 100 - 0.30 = 99.7; the bid 99.6 at 25: sold at 26's 99.6: (99.6-100)*75 = -30
    assert one("cross_gamma_flip", col(S, 100.0, *base, (20, 101.6), (25, 99.6)), T9, feats=feats) == \
        [(("CE", 25000, 1, 1, 10, 100.0, "trailing_stop", 25, 99.6), -30.0)]
    # OI up one lot short of 50 k: nothing
    assert one("cross_gamma_flip", col(S, 100.0, *base), T9,
               feats={**feats, "oi": col(S, 1e7, (5, 1e7 + 50_000 * 75 - 75))}) == []


# --- #12 skew-rebal kick: the index +0.40 % over its 150-s low and the call skew +2 in 3 s: the 25-delta call -------------------
def test_skew_rebal_kick_buys_the_25_delta_call_and_exits_by_stop_or_after_90_s():
    S = 300
    spot = col(S, 25_000.0, (160, 25_110.0))        # +0.44 % at 160; ATM 25,100
    spot_feats = {"iv_25d_call": col(S, 15.0, (160, 17.5)), "iv_25d_put": np.full(S, 15.0), "atm_iv": np.full(S, 14.0)}
    delta = np.tile([0.5, 0.26, 0.2], (S, 1))       # 25,300 is the nearest 0.25
    kw = dict(strikes=(25100, 25300, 25400), types=("CE", "CE", "CE"), spot=spot, spot_feats=spot_feats,
              feats={"delta": delta})
    # the skew 1 -> 3.5 at 160: the 25,300 call bought at 161's ask 20.1; the stop 18.6: the bid 18.5 at 170
    assert one("skew_rebal_kick", [np.full(S, 60.0), col(S, 20.0, (170, 18.5)), np.full(S, 15.0)], T9, **kw) == \
        [(("CE", 25300, 1, 1, 161, 20.1, "stop", 170, 18.5), -120.0)]
    # nothing happens: out 90 s after the fill (251), sold at 252's bid 20: (20-20.1)*75 = -7.5
    assert one("skew_rebal_kick", [np.full(S, 60.0), np.full(S, 20.0), np.full(S, 15.0)], T9, **kw) == \
        [(("CE", 25300, 1, 1, 161, 20.1, "time_stop", 251, 20.0), -7.5)]


# --- C-1 opening range 5 min: 09:20-09:30, the price 3 over the 09:15-09:20 high with 2x volume: IOC; TP +2 / 60 s ---------------
def test_orb_5min_breaks_out_of_the_5_minute_range():
    start, S = at(9, 19, 50), 90
    feats = {"or5_high": np.full(S, 100.0), "or5_low": np.full(S, 95.0), "vol_10s": np.full(S, 20.0),
             "vol_avg_2m": np.full(S, 1.0), "vol_10s_ok": np.ones(S)}
    # the price 103.05 >= 100 + 3 at 15 (09:20:05): IOC at 103.05; the ask 103.05 at 16 fills it
    up = col(S, 100.0, (15, 103.0), (16, 102.95), (20, 105.1), (21, 105.2))
    assert one("orb_5min", up, start, feats={**feats, "price": up + 0.05}) == \
        [(("CE", 25000, 1, 1, 16, 103.05, "target", 20, 105.2), 161.25)]           # (105.2-103.05)*75
    flat = col(S, 100.0, (15, 103.0), (16, 102.95))
    # 60 s after the fill (76): sold at 77's bid 102.95: (102.95-103.05)*75 = -7.5
    assert one("orb_5min", flat, start, feats={**feats, "price": flat + 0.05}) == \
        [(("CE", 25000, 1, 1, 16, 103.05, "time_stop", 76, 102.95), -7.5)]
    # the 10-s volume under 2x: nothing
    assert one("orb_5min", up, start, feats={**feats, "price": up + 0.05, "vol_10s": np.full(S, 19.0)}) == []


# --- #11 VWAP -0.5 sigma band tap: mid-day calm, the LTP touched VWAP - 0.5 sigma(15 min) 5 s ago, no lower since: limit at the LTP
def test_vwap_sigma_tap_buys_the_stalled_touch_with_a_stop_and_no_target():
    start, S = at(10, 15), 960                      # 10:30:00 (the window) is second 900
    early = np.tile([100.0, 101.0], 450)            # LTP 100.05 / 101.05: sigma(900 s) = 0.5 (sample: 0.50028)
    vwap = np.full(S, 100.55)                       # the band: 100.55 - 0.5 x ~0.50 = ~100.30
    qc = col(S, 5.0, (910, 1.0))                    # the quote rate under its session mean from 910: calm
    # 900-909 LTP 100.55 (over the band); 910 LTP 100.05 (the touch); 911-915 LTP 100.25 (none lower): at 915 a
    # limit at 100.25; the ask 100.25 at 916 (bid 100.15) fills it
    def bids(*after):
        return np.r_[early, col(S - 900, 100.5, (10, 100.0), (11, 100.2), (16, 100.15), (17, 100.2), *after)]
    # the stop 98.75: the bid 98.7 at 930: (98.7-100.25)*75 = -116.25
    assert one("vwap_sigma_tap", bids((30, 98.7)), start, feats={"vwap": vwap, "quote_changes": qc}) == \
        [(("CE", 25000, 1, 1, 916, 100.25, "stop", 930, 98.7), -116.25)]
    # no target: +4.75 held to the last second (959), closed at the bid 105: (105-100.25)*75 = 356.25
    assert one("vwap_sigma_tap", bids((30, 105.0)), start, feats={"vwap": vwap, "quote_changes": qc}) == \
        [(("CE", 25000, 1, 1, 916, 100.25, "end_of_data", 959, 105.0), 356.25)]
    # the quote rate never under its mean (not calm): nothing
    assert one("vwap_sigma_tap", bids((30, 105.0)), start, feats={"vwap": vwap, "quote_changes": np.full(S, 5.0)}) == []
