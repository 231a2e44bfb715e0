"""The position engine's shapes on hand-made seconds: every leg selector, order, position rule,
adjustment and strategy rule, with the exact fills and P&L each should give.

Conventions of the paths (tests.backtest_paths.book): per contract a bid path, the ask 0.10 above
it, the LTP at the mid, 10 traded a second, 5 levels of 1,000 units 0.05 apart; a sell fills at the
bid, a buy at the ask, one second after the decision (latency 1 s); NIFTY lots of 75.
"""
import dataclasses
import datetime as dt

import numpy as np
import pytest

from backtest.data import resolve_expiry
from backtest.enums import Quote
from backtest.models import ConstantLatency, Execution
from backtest.selectors import leg_contracts
from backtest.strategies.base import (Adjustment, Check, Cond, Exits, Filters, Kill, Leg, Order, Plan,
                                      PositionRules, Risk, Roll, StrategyConfig, Strike)
from tests.backtest_paths import NO_FILTERS, T0, book, day_of, engine, reasons

ANY_TIME = [("00:00:00", "23:59:59")]


def cfg_of(legs, position=None, exits=None, filters=NO_FILTERS, latency=1, **risk) -> StrategyConfig:
    return StrategyConfig("t", legs=legs, exits=exits or Exits(), position=position or PositionRules(),
                          risk=Risk(**{"entry_windows": ANY_TIME, "max_entries": 1, **risk}), filters=filters,
                          execution=Execution(latency=ConstantLatency(latency)))


def sold(name, instrument="CE", **strike):
    return Leg(name, instrument, strike=Strike(**(strike or {"by": "atm"})), side=-1)


def chain(paths, strikes, types, spot, features=None, start=T0, **kw):
    t, Q, B = book(paths, start=start)
    return day_of(Q, B, t, strikes=strikes, opt_types=types, features=features, spot=np.asarray(spot, float), **kw)


def straddle_day(ce, pe, spot=25000.0, **kw):
    n = len(ce)
    return chain([ce, pe], (25000, 25000), ("CE", "PE"), np.full(n, spot) if np.isscalar(spot) else spot, **kw)


def straddle(**position) -> StrategyConfig:
    return cfg_of([sold("ce", "CE"), sold("pe", "PE")], PositionRules(**position))


def at(*seconds, n=None) -> Plan:
    ok = np.zeros(n or (max(seconds) + 1), bool)
    ok[list(seconds)] = True
    return Plan.every_second(ok)


def table(legs):
    """(contract, side, entry second, entry price, exit decision second, exit second, exit price, reason)."""
    return [(int(x["contract"]), int(x["side"]), int(x["entry_i"]), round(float(x["entry_px"]), 2),
             int(x["exit_signal_i"]), int(x["exit_i"]), round(float(x["exit_px"]), 2), r)
            for x, r in zip(legs, reasons(legs))]


def gross(legs):
    return np.round(legs["side"] * (legs["exit_px"] - legs["entry_px"]) * legs["qty"], 2).tolist()


# --- leg selectors ---------------------------------------------------------------------------------

STRIKES = (24950, 25000, 25050, 25100)


def _selector_day(spot, features=None):
    n = len(spot)
    return chain([[100.0] * n] * 4, STRIKES, ("CE",) * 4, spot, features)


def _pick(day, **strike):
    cfg = cfg_of([Leg("x", "CE", strike=Strike(**strike))])
    return leg_contracts(cfg, day)[0].tolist()


def test_atm_plus_minus_k_strikes_follows_spot_and_finds_no_contract_off_the_listed_chain():
    day = _selector_day([24990, 25049, 25050, 25160])      # ATM 25000, 25050, 25050, 25150 (not listed)
    assert _pick(day, by="atm") == [1, 2, 2, -1]
    assert _pick(day, by="atm", steps=1) == [2, 3, 3, -1]
    assert _pick(day, by="atm", steps=-1) == [0, 1, 1, 3]


def test_atm_plus_minus_points_takes_the_listed_strike_nearest_spot_plus_points_a_tie_going_up():
    day = _selector_day([24990, 25049, 25025, 25160])
    assert _pick(day, by="points", points=100) == [3, 3, 3, 3]            # 25090, 25149, 25125, 25260
    assert _pick(day, by="points", points=-60) == [0, 1, 0, 3]            # 24930, 24989, 24965, 25100
    assert _pick(day, by="points", points=0) == [1, 2, 2, 3]              # 25025: the tie goes up


def test_nearest_delta_premium_best_feature_and_most_open_interest():
    n = 2
    delta = np.array([[0.62, 0.51, 0.30, 0.22]] * n)
    theta = np.array([[1.0, 3.0, 2.0, 2.5], [1.0, 1.0, 2.0, 2.5]])
    oi = np.array([[5e5, 9e5, 7e5, 1e5], [5e5, 6e5, 7e5, 1e5]])
    day = _selector_day([25000, 25000], {"delta": delta, "theta_score": theta, "oi": oi})
    assert _pick(day, by="delta", value=0.25) == [3, 3]                    # |0.22 - 0.25| < |0.30 - 0.25|
    assert _pick(day, by="delta", value=0.25, within=1) == [2, 2]          # 25100 is 2 strikes from ATM
    assert _pick(day, by="feature", feature="theta_score") == [1, 3]
    assert _pick(day, by="max_oi") == [1, 2]
    # mids 100.05 everywhere but 25100 (5.05) and 24950 (4.05): the OTM call nearest Rs 5
    day.Q[:, 3, Quote.bid], day.Q[:, 3, Quote.ask] = 5.0, 5.1
    day.Q[:, 0, Quote.bid], day.Q[:, 0, Quote.ask] = 4.0, 4.1
    assert _pick(day, by="premium", value=5.0) == [3, 3]
    assert _pick(day, by="premium", value=4.0) == [0, 0]
    assert _pick(day, by="premium", value=4.0, otm_only=True) == [3, 3]    # 24950 is in the money


def test_best_straddle_strike_and_the_same_strike_of_another_leg():
    theta = np.array([[1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 1.0, 1.0]])         # (25000 CE, PE), (25050 CE, PE)
    day = chain([[100.0] * 2] * 4, (25000, 25000, 25050, 25050), ("CE", "PE", "CE", "PE"), [25000, 25000],
                {"theta_score": theta})
    cfg = cfg_of([Leg("ce", "CE", strike=Strike("feature", feature="theta_score", straddle=True, within=1)),
                  Leg("pe", "PE", strike=Strike("same_as", leg="ce"))])
    assert leg_contracts(cfg, day).tolist() == [[2, 0], [3, 1]]


def test_expiry_slots_resolve_per_day_and_an_expiry_day_may_roll():
    listed = [dt.date(2025, 11, 4), dt.date(2025, 11, 11), dt.date(2025, 11, 18), dt.date(2025, 11, 25),
              dt.date(2025, 12, 30)]
    day = dt.date(2025, 11, 4)                                            # a Tuesday: NIFTY's weekly expiry
    got = {(slot, roll): resolve_expiry("NIFTY", day, listed, slot, roll)
           for slot in ("weekly", "next_weekly", "monthly", "next_monthly") for roll in ("trade", "roll")}
    assert got == {("weekly", "trade"): listed[0], ("weekly", "roll"): listed[1],
                   ("next_weekly", "trade"): listed[1], ("next_weekly", "roll"): listed[2],
                   ("monthly", "trade"): listed[3], ("monthly", "roll"): listed[3],
                   ("next_monthly", "trade"): listed[4], ("next_monthly", "roll"): listed[4]}


def test_a_calendar_sells_the_weekly_and_buys_the_monthly_at_the_same_strike():
    """Weekly CE 25000 (contract 0), monthly CE 25000 (1), weekly CE 25050 (2): the weekly leg sells
    ATM, the monthly leg buys the weekly leg's strike; both fill at second 1."""
    weekly, monthly = dt.date(2025, 11, 11), dt.date(2025, 11, 25)
    day = chain([[50.0] * 6, [120.0] * 6, [30.0] * 6], (25000, 25000, 25050), ("CE", "CE", "CE"), [25010] * 6,
                expiries=[weekly, monthly, weekly])
    legs_ = [Leg("near", "CE", strike=Strike("atm"), side=-1),
             Leg("far", "CE", expiry="monthly", strike=Strike("same_as", leg="near"), side=1)]
    legs, _, _ = engine(day, cfg_of(legs_), at(0))
    assert [t[:4] for t in table(legs)] == [(0, -1, 1, 50.0), (1, 1, 1, 120.1)]
    # closed at the data's last second (5): the weekly bought back at its ask, the monthly sold at its bid
    assert gross(legs) == [-7.5, -7.5]


def test_a_future_leg_trades_the_future_contract():
    day = chain([[100.0] * 4, [25000.0] * 4], (25000, 0), ("CE", "FUT"), [25000] * 4)
    legs, _, _ = engine(day, cfg_of([Leg("fut", "FUT", strike=Strike("future"), side=1)]), at(0))
    assert table(legs)[0][:4] == (1, 1, 1, 25000.1)


# --- orders ------------------------------------------------------------------------------------------

def test_limit_orders_priced_from_the_book_with_an_offset_and_a_timeout():
    """A buy limit at bid + 0.05 (the touch) rests: the ask comes down to it at 3 and it fills at its
    own price; with a 1-second timeout it is cancelled at 2 first. A sell at mid - 0.05 (100.10)
    is marketable on arrival: it takes the bid, 100.10."""
    day = chain([[100.0, 100.0, 100.0, 99.95, 99.95, 99.95]], (25000,), ("CE",), [25000] * 6)
    buy = Leg("x", "CE", strike=Strike("atm"), side=1, order=Order("limit", "touch", 0.05))
    legs, _, _ = engine(day, cfg_of([buy]), at(0))
    assert table(legs)[0][2:4] == (3, 100.05)
    buy.order.timeout_s = 1
    legs, _, ev = engine(day, cfg_of([buy]), at(0))
    assert len(legs) == 0
    sell = Leg("x", "CE", strike=Strike("atm"), side=-1, order=Order("limit", "mid", 0.05))
    day = chain([[100.1] * 4], (25000,), ("CE",), [25000] * 4)
    legs, _, _ = engine(day, cfg_of([sell]), at(0))
    assert table(legs)[0][2:4] == (1, 100.1)


def test_an_ioc_fills_what_the_book_has_up_to_its_limit_and_cancels_the_rest():
    t, Q, B = book([[100.0] * 4], depth=30.0)
    day = day_of(Q, B, t)
    ioc = Leg("x", "CE", strike=Strike("atm"), side=1, order=Order("ioc", "ask", 0.05))   # limit 100.15
    (leg,), _, _ = engine(day, cfg_of([ioc]), at(0))
    assert (leg["qty"], round(leg["entry_px"], 4), bool(leg["partial"])) == (60, 100.125, True)


# --- a leg's own exits -------------------------------------------------------------------------------

def test_stop_and_target_in_percent_of_the_premium():
    day = chain([[100, 100, 103, 104, 104, 104]], (25000,), ("CE",), [25000] * 6)
    leg = Leg("x", "CE", strike=Strike("atm"), side=1)
    legs, _, _ = engine(day, cfg_of([leg], exits=Exits(target_pct=3.0, stop_pct=5.0)), at(0))
    # in at 100.10: target 103.103 (reached by the bid 104 at 3; 103 at 2 is short), stop 95.095
    assert table(legs)[0][2:] == (1, 100.1, 3, 4, 104.0, "target")
    assert legs["initial_stop"][0] == pytest.approx(95.095)


def test_an_atr_trail_follows_the_best_price_by_a_multiple_of_the_one_minute_atr():
    day = chain([[100, 100, 102, 104, 103.1, 102.9, 102.9]], (25000,), ("CE",), [25000] * 7)
    day.Q[:, 0, Quote.atr] = 0.5
    leg = Leg("x", "CE", strike=Strike("atm"), side=1)
    legs, _, _ = engine(day, cfg_of([leg], exits=Exits(stop=3.0, atr_mult=2.0)), at(0))
    # best bid 104 at 3 -> stop 103.0; the bid 102.9 at 5 is under it (103.1 at 4 is not)
    assert table(legs)[0][4:] == (5, 6, 102.9, "trailing_stop")


# --- position rules ------------------------------------------------------------------------------

def test_combined_stop_in_percent_of_the_credit():
    # credit 200 (both sold at 100); a 50 % stop is a loss of 100 per unit: at 3 the CE's ask is
    # 199.9 -> -(99.9 + 0.1) = -100.0
    day = straddle_day([100, 100, 150, 199.8, 200, 200], [100] * 6)
    legs, _, _ = engine(day, straddle(stop_pct_of_credit=50.0), at(0))
    assert table(legs) == [(0, -1, 1, 100.0, 3, 4, 200.1, "combined_stop"), (1, -1, 1, 100.0, 3, 4, 100.1, "combined_stop")]
    assert gross(legs) == [-7507.5, -7.5]


def test_combined_target_in_rupees():
    # P&L per unit: at 2 -((99.6 - 100) + 0.1) = 0.3, at 3 -((98.9 - 100) + 0.1) = 1.0
    day = straddle_day([100, 100, 99.5, 98.8, 98.8, 98.8], [100] * 6)
    legs, _, _ = engine(day, straddle(combined_target=1.0), at(0))
    assert reasons(legs) == ["combined_target"] * 2 and legs["exit_signal_i"].tolist() == [3, 3]


def test_a_kill_switch_on_an_iv_jump_named_by_its_reason():
    iv = np.array([15, 15, 15, 15, 16, 17.5, 18, 18], float)      # up 2.5 points over 3 s at second 5
    day = straddle_day([100] * 8, [100] * 8)
    cfg = straddle(kills=[Kill(Cond("atm_iv", ">=", 2.0, change_s=3), "iv_jump")])
    legs, _, _ = engine(day, cfg, at(0), {"atm_iv": iv})
    assert reasons(legs) == ["iv_jump"] * 2 and legs["exit_signal_i"].tolist() == [5, 5]


def test_maximum_hold_counts_from_the_first_fill():
    legs, _, _ = engine(straddle_day([100] * 9, [100] * 9), straddle(max_hold_s=4), at(0))
    assert reasons(legs) == ["max_hold"] * 2 and legs["exit_signal_i"].tolist() == [5, 5]


def _roll_day(a_ce):
    """Strikes A (contracts 0, 1) and B (2, 3): B's theta_score is 1.5x A's from second 3 on."""
    n = len(a_ce)
    theta = np.ones((n, 4))
    theta[:3, 2:] = 0.5
    theta[3:, 2:] = 1.5
    return chain([a_ce, [100] * n, [100] * n, [100] * n], (25000, 25000, 25050, 25050), ("CE", "PE", "CE", "PE"),
                 [25000] * n, {"theta_score": theta})


def _rolling(**roll):
    ce = Leg("ce", "CE", strike=Strike("feature", feature="theta_score", straddle=True), side=-1)
    pe = Leg("pe", "PE", strike=Strike("same_as", leg="ce"), side=-1)
    return cfg_of([ce, pe], PositionRules(roll=Roll(**{"after_s": 3, "score_mult": 1.2, **roll})))


def test_a_roll_waits_until_the_position_is_not_losing():
    # A's CE bid rises to 100.3 (the position loses 0.5 a unit) and falls to 99.7 at 7 (P&L +0.1)
    legs, _, _ = engine(_roll_day([100, 100, 100.3, 100.3, 100.3, 100.3, 100.3, 99.7, 99.7, 99.7]), _rolling(), at(0))
    assert reasons(legs)[:2] == ["roll", "roll"] and legs["exit_signal_i"][:2].tolist() == [7, 7]
    assert legs["contract"][2:].tolist() == [2, 3] and legs["signal_i"][2:].tolist() == [7, 7]
    legs, _, _ = engine(_roll_day([100, 100, 100.3, 100.3, 100.3, 100.3, 100.3, 99.7, 99.7, 99.7]),
                        _rolling(min_pnl=0.5), at(0))
    assert "roll" not in reasons(legs)


def test_a_scheduled_check_closes_a_good_position_and_rolls_a_poor_one_to_the_new_atm():
    """Buckets end every 10 s from 09:15:00 (seconds 10 and 20). A position 0.6 up at 10 closes
    there; one that is not rolls to the new ATM (spot moved to 25050) at 10."""
    n = 24
    spot = np.full(n, 25000.0)
    spot[8:] = 25050.0
    paths_up = [[100, 100] + [99.1] * (n - 2), [100] * n, [100] * n, [100] * n]   # +0.7 from second 2
    day = chain(paths_up, (25000, 25000, 25050, 25050), ("CE", "PE", "CE", "PE"), spot)
    cfg = straddle(check=Check(every_s=10, close_at_pnl=0.6))
    legs, _, _ = engine(day, cfg, at(0))
    assert table(legs)[0][4:] == (10, 11, 99.2, "scheduled_close")
    flat = [[100] * n] * 4
    legs, _, _ = engine(chain(flat, (25000, 25000, 25050, 25050), ("CE", "PE", "CE", "PE"), spot), cfg, at(0))
    assert reasons(legs)[:2] == ["roll", "roll"] and legs["exit_signal_i"][:2].tolist() == [10, 10]
    assert legs["contract"][2:].tolist() == [2, 3]
    spot[:] = 25000.0                                     # ATM never moves: nothing to roll to
    legs, _, _ = engine(chain(flat, (25000, 25000, 25050, 25050), ("CE", "PE", "CE", "PE"), spot), cfg, at(0))
    assert len(legs) == 2 and reasons(legs) == ["end_of_data"] * 2


# --- adjustments --------------------------------------------------------------------------------

def _with_future(ce, pe, fut, spot):
    return chain([ce, pe, fut], (25000, 25000, 0), ("CE", "PE", "FUT"), spot)


def _hedged(**adj):
    fut = Leg("fut", "FUT", strike=Strike("future"), side=1, added=True, side_from_trigger=True)
    return cfg_of([sold("ce", "CE"), sold("pe", "PE"), fut], PositionRules(adjustments=[Adjustment(**adj)]))


def test_a_spot_move_buys_the_future_on_the_way_up_and_sells_it_on_the_way_down():
    n = 8
    up = np.full(n, 25000.0)
    up[4:] = 25050.0                                       # +0.2 % at second 4
    cfg = _hedged(trigger="spot_move", action="open_leg", target="fut", threshold=0.2)
    legs, _, _ = engine(_with_future([100] * n, [100] * n, [25000.0] * n, up), cfg, at(0))
    assert table(legs)[2][:4] == (2, 1, 5, 25000.1) and legs["signal_i"][2] == 4 and legs["leg"][2] == 2
    down = np.full(n, 25000.0)
    down[6:] = 24940.0                                     # -0.24 %
    legs, _, _ = engine(_with_future([100] * n, [100] * n, [25000.0] * n, down), cfg, at(0))
    assert table(legs)[2][:4] == (2, -1, 7, 25000.0)
    once = np.full(n, 25000.0)
    once[2:] = 24940.0
    legs, _, _ = engine(_with_future([100] * n, [100] * n, [25000.0] * n, once), cfg, at(0))
    assert len(legs) == 3                                  # once per position


def test_net_delta_beyond_a_threshold_hedges_the_side_that_flattens_it():
    n = 6
    day = _with_future([100] * n, [100] * n, [25000.0] * n, [25000] * n)
    delta = np.zeros((n, 3))
    delta[:, 0], delta[:, 1] = 0.5, -0.5
    delta[3:, 0], delta[3:, 1] = 0.8, -0.3                 # net of the short straddle: -0.8 + 0.3 = -0.5
    day.F["delta"] = delta
    legs, _, _ = engine(day, _hedged(trigger="net_delta", action="open_leg", target="fut", threshold=0.3), at(0))
    assert table(legs)[2][:3] == (2, 1, 4) and legs["signal_i"][2] == 3


def test_a_condition_or_a_leg_change_buys_back_one_leg_and_a_closed_leg_can_close_the_position():
    n = 8
    flag = np.zeros(n)
    flag[3] = 1
    cfg = straddle()
    cfg.position.adjustments = [Adjustment("cond", "close_leg", target="ce", cond=Cond("flag", ">=", 1))]
    legs, _, _ = engine(straddle_day([100] * n, [100] * n), cfg,
                        Plan.every_second(np.eye(1, n, 0, bool)[0], cond={"flag": flag}))
    assert reasons(legs) == ["adjustment", "end_of_data"] and legs["exit_signal_i"].tolist() == [3, 7]
    cfg.position.adjustments = [Adjustment("leg_change", "close_leg", target="ce", leg="ce", threshold=2.0, sign=1)]
    legs, _, _ = engine(straddle_day([100, 100, 101, 101.9, 102, 102, 102, 102], [100] * n), cfg, at(0))
    assert reasons(legs)[0] == "adjustment" and legs["exit_signal_i"][0] == 3     # ask 102.0 = entry + 2
    cfg.position.leg_stop = 2.0
    cfg.position.adjustments = [Adjustment("leg_closed", "close_position", leg="ce")]
    legs, _, _ = engine(straddle_day([100, 100, 101, 101.9, 102, 102, 102, 102], [100] * n), cfg, at(0))
    assert reasons(legs) == ["leg_stop", "adjustment"] and legs["exit_signal_i"].tolist() == [3, 3]


def test_a_new_position_on_a_full_stack_closes_the_oldest():
    n = 14
    cfg = straddle()
    cfg.risk = dataclasses.replace(cfg.risk, max_open=2, max_entries=None, one_per_contract=False)
    cfg.position.adjustments = [Adjustment("new_position", "close_oldest")]
    legs, _, _ = engine(straddle_day([100] * n, [100] * n), cfg, at(0, 4, 8, n=n))
    by_position = {int(p): r for p, r in zip(legs["position"], reasons(legs))}
    assert by_position == {0: "stack_reduced", 1: "end_of_data", 2: "end_of_data"}
    assert legs["exit_signal_i"][legs["position"] == 0].tolist() == [8, 8]


# --- strategy rules ----------------------------------------------------------------------------------

def _scalp_day(n, start=T0, **kw):
    return chain([[100.0] * n], (25000,), ("CE",), [25000.0] * n, start=start, **kw)


def _quick(**risk):
    """Buy the ATM CE; out 2 s after the fill (filled a second later)."""
    return cfg_of([Leg("x", "CE", strike=Strike("atm"), side=1)], exits=Exits(time_stop_s=2), **risk)


def _every(n):
    return Plan.every_second(np.ones(n, bool))


def test_several_entry_windows_a_day():
    cfg = _quick(entry_windows=[("09:15:05", "09:15:06"), ("09:15:20", "09:15:21")], max_entries=None)
    legs, _, _ = engine(_scalp_day(30), cfg, _every(30))
    assert legs["signal_i"].tolist() == [5, 20]


def test_maximum_entries_a_day_and_the_cooldown_after_an_exit():
    legs, _, _ = engine(_scalp_day(30), _quick(max_entries=2), _every(30))
    assert legs["signal_i"].tolist() == [0, 4]            # in at 1, out decided at 3, filled at 4
    legs, _, _ = engine(_scalp_day(30), _quick(max_entries=None), _every(30))
    assert legs["signal_i"].tolist()[:3] == [0, 4, 8]     # a new entry in the second the last exit filled
    legs, _, _ = engine(_scalp_day(30), _quick(max_entries=None, cooldown_after_exit_s=5), _every(30))
    assert legs["signal_i"].tolist()[:3] == [0, 9, 18]


def test_stacking_up_to_the_maximum_of_open_positions():
    legs, _, _ = engine(_scalp_day(6), cfg_of([Leg("x", "CE", strike=Strike("atm"), side=1)], max_open=3,
                                              max_entries=None, one_per_contract=False), _every(6))
    assert legs["signal_i"].tolist() == [0, 1, 2]


def test_weekday_expiry_day_and_event_blackout_filters():
    tuesday = dt.date(2025, 11, 4)
    legs, _, _ = engine(_scalp_day(3, date=tuesday), _quick(filters=Filters(weekdays=("MON",), blackouts=())), _every(3))
    assert len(legs) == 0
    legs, _, _ = engine(_scalp_day(3, date=tuesday), _quick(filters=Filters(weekdays=("TUE",), blackouts=())), _every(3))
    assert len(legs) == 1
    expiry_day = dict(date=tuesday, listed=[tuesday, dt.date(2025, 11, 11)], expiries=[tuesday])
    for rule, on_expiry, other in (("skip", 0, 1), ("only", 1, 0), ("any", 1, 1)):
        f = Filters(expiry_day=rule, blackouts=())
        assert len(engine(_scalp_day(3, **expiry_day), _quick(filters=f), _every(3))[0]) == on_expiry, rule
        assert len(engine(_scalp_day(3, date=tuesday), _quick(filters=f), _every(3))[0]) == other, rule
    # RBI policy day 2025-10-01: no entry in the first five minutes (09:15:00-09:19:59)
    legs, _, _ = engine(_scalp_day(400, date=dt.date(2025, 10, 1)), _quick(filters=Filters()), _every(400))
    assert legs["signal_i"].tolist() == [300]
    # an expiry day: none from 14:30:00 (the path starts at 14:29:58)
    start = T0 + (14 * 3600 + 29 * 60 + 58) - (9 * 3600 + 15 * 60)
    cfg = _quick(filters=Filters(), max_entries=None, max_open=3, one_per_contract=False)
    legs, _, _ = engine(_scalp_day(5, start=start, **expiry_day), cfg, _every(5))
    assert legs["signal_i"].tolist() == [0, 1]


def test_sizing_by_fixed_lots_by_rupee_risk_and_by_a_kelly_fraction_of_tracked_capital():
    def qty(**risk):
        cfg = cfg_of([Leg("x", "CE", strike=Strike("atm"), side=1)], exits=Exits(stop=1.5, time_stop_s=2),
                     max_entries=None, **risk)
        legs, _, _ = engine(_scalp_day(9), cfg, at(0, 4, n=9))
        return legs["qty"].tolist()

    assert qty(qty_lots=3) == [225, 225]
    assert qty(sizing="risk", risk_rupees=1000.0) == [600, 600]                 # floor(1000 / (1.5 x 75)) = 8 lots
    # 1 % of 500,000 = 5,000 -> 44 lots; the first trade loses 0.1 x 3,300 = 330: 499,670 -> 44 lots
    assert qty(sizing="kelly", kelly_fraction=0.01, capital=500_000.0) == [3300, 3300]
    assert qty(sizing="kelly", kelly_fraction=0.01, capital=450_000.0) == [3000, 2925]   # 40 lots, then 39
    with pytest.raises(ValueError, match="risk.sizing 'risk' needs a stop"):
        cfg_of([Leg("x", "CE", strike=Strike("atm"))], sizing="risk", risk_rupees=1.0) and \
            engine(_scalp_day(2), cfg_of([Leg("x", "CE", strike=Strike("atm"))], sizing="risk", risk_rupees=1.0), at(0))


def test_a_minimum_credit_at_the_decisions_touch():
    cfg = straddle()
    cfg.risk.min_credit = 20.0
    assert len(engine(straddle_day([10] * 4, [9.95] * 4), cfg, at(0))[0]) == 0      # 19.95
    assert len(engine(straddle_day([10] * 4, [10] * 4), cfg, at(0))[0]) == 2


# --- execution fixes ----------------------------------------------------------------------------------

def test_zero_latency_fills_at_the_decisions_own_quote():
    day = chain([[100, 100.5, 101, 102.2, 102.4]], (25000,), ("CE",), [25000] * 5)
    leg = Leg("x", "CE", strike=Strike("atm"), side=1)
    legs, _, _ = engine(day, cfg_of([leg], exits=Exits(target=2.0), latency=0), at(0))
    # bought at second 0's ask (100.10); the bid 102.2 at 3 reaches 102.10: sold at 3's bid
    assert table(legs)[0][2:] == (0, 100.1, 3, 3, 102.2, "target")
    legs, _, _ = engine(day, cfg_of([leg], exits=Exits(target=2.0), latency=1), at(0))
    assert table(legs)[0][2:] == (1, 100.6, 4, 4, 102.4, "end_of_data")      # target 102.6 never reached


def test_a_position_alive_when_the_data_ends_early_closes_at_the_last_real_second():
    """The day's data ends at second 5 (e.g. BANKNIFTY 2025-11-06 at 13:35:05) and the session exit
    is 10 s later. The position closes at second 5, decided and filled there (`end_of_data`); the
    old engines decided a session exit at 10 and filled it at 5's quote, before the decision."""
    start = T0 + (13 * 3600 + 35 * 60) - (9 * 3600 + 15 * 60)
    day = straddle_day([100] * 12, [100] * 12, start=start)
    day.Q[6:, :, Quote.tradable] = 0
    cfg = straddle(session_exit="13:35:10")
    legs, _, _ = engine(day, cfg, at(0))
    assert table(legs) == [(0, -1, 1, 100.0, 5, 5, 100.1, "end_of_data"), (1, -1, 1, 100.0, 5, 5, 100.1, "end_of_data")]
    cfg.position.close_at_end_of_data = False
    legs, _, _ = engine(day, cfg, at(0))
    assert [(r, int(x["exit_signal_i"]), int(x["exit_i"])) for x, r in zip(legs, reasons(legs))] == \
        [("session_exit", 10, 5)] * 2
