"""The theta sellers' default configs on hand-made NIFTY seconds (lots of 75): the guarded straddle's
re-entries, the variants 2A-2D and the dynamic-theta straddle's entry rule, each with the exact
fills and gross P&L its rules give (STRATEGIES.md sections 5 and 6).

Paths: per contract a bid path, the ask 0.10 above it; a sell fills at the bid and a buy at the ask
one second after the decision; the entry signal (realised sigma, ATM IV) holds every second."""
import numpy as np
import pytest

from backtest.simulate import simulate_day
from backtest.strategies import get
from tests.backtest_paths import T0, book, day_of, pre_18_costs

AT_1030 = T0 + 75 * 60


def run(strategy, paths, strikes, types, spot, start=AT_1030, cfg=None, features=None, tradable_until=None):
    t, Q, B = book(paths, start=start)
    if tradable_until is not None:
        Q[tradable_until + 1:, :, 4] = 0
    n = len(t)
    day = day_of(Q, B, t, strikes=strikes, opt_types=types, features=features,
                 spot=np.full(n, spot) if np.isscalar(spot) else np.asarray(spot, float))
    quiet = {"rv_1m": np.full(n, 0.05), "atm_iv": np.full(n, 15.0), "roc_60s": np.zeros(n)}
    s = get(strategy)
    return simulate_day(s, pre_18_costs(cfg or s.default()), day, "test", True, quiet).legs.to_pylist()


def first_trade(legs):
    """The legs of the day's first trade (the defaults re-enter after an exit)."""
    return [x for x in legs if x["trade_id"] == legs[0]["trade_id"]]


def rows(legs):
    """(leg name, strike, side, entry second, entry price, exit decision second, exit price, reason, gross)."""
    def sec(ts):
        return int(ts.timestamp()) + 19800 - AT_1030
    return [(x["leg_name"], x["strike"], x["side"], sec(x["entry_ts"]), round(x["entry_px"], 2),
             sec(x["exit_signal_ts"]), round(x["exit_px"], 2), x["exit_reason"], round(x["gross_pnl"], 2)) for x in legs]


def test_the_guarded_straddle_re_enters_after_an_exit_up_to_four_times_a_day():
    """The CE's bid jumps 1.5 every 4th second: each straddle (sold at 100 + 100 one second after its
    decision) is killed by the combined stop (-1.0) at the jump, bought back a second later; the
    next is sold in the second the last buy-back filled. The fifth entry is refused."""
    n = 40
    ce = np.array([100.0 + 1.5 * (k // 4) for k in range(n)])
    legs = run("guarded_straddle", [ce, [100.0] * n], (25000, 25000), ("CE", "PE"), 25000.0)
    assert len({x["trade_id"] for x in legs}) == 4
    first = rows(legs)[:2]
    # sold at 1 (CE 100, PE 100); at 4 the CE's ask is 101.6: -1.6 - 0.1 <= -1.0; bought back at 5
    assert first == [("ce", 25000, -1, 1, 100.0, 4, 101.6, "combined_stop", -120.0),
                     ("pe", 25000, -1, 1, 100.0, 4, 100.1, "combined_stop", -7.5)]
    # position k is decided in the second position k-1's buy-back fills (5, 9, 13) and sold a second later
    assert [r[3] for r in rows(legs)[::2]] == [1, 6, 10, 14]


def test_2a_sells_the_strangle_300_points_out_and_kills_at_minus_0_70():
    """Spot 25010: the CE nearest 25310 is 25300, the PE nearest 24710 is 24700 (25250 / 24750 are
    listed too). At 3 the CE's ask is 20.6 (+0.6) and the PE's 18.1 (+0.1): -0.70, the kill."""
    ce = [20.0, 20.0, 20.2, 20.5, 20.5, 20.5]
    legs = run("guarded_strangle_2a", [ce, [25.0] * 6, [18.0] * 6, [22.0] * 6], (25300, 25250, 24700, 24750),
               ("CE", "CE", "PE", "PE"), 25010.0)
    assert rows(first_trade(legs)) == [("ce", 25300, -1, 1, 20.0, 3, 20.6, "combined_stop", -45.0),
                                       ("pe", 24700, -1, 1, 18.0, 3, 18.1, "combined_stop", -7.5)]
    plain = get("guarded_straddle").default()          # the same legs with the plain straddle's -1.0: no kill
    plain.legs = get("guarded_strangle_2a").default().legs
    legs = run("guarded_strangle_2a", [ce, [25.0] * 6, [18.0] * 6, [22.0] * 6], (25300, 25250, 24700, 24750),
               ("CE", "CE", "PE", "PE"), 25010.0, cfg=plain)
    assert [x["exit_reason"] for x in legs] == ["end_of_data"] * 2


def test_2b_buys_the_otm_call_nearest_rs_5_and_kills_at_minus_1_30_of_the_net_position():
    """ATM straddle at 100 + 100, the hedge the OTM call nearest Rs 5 (25300: mid 4.95, not 25250:
    7.95), bought at its ask 5.0. P&L per unit: at 2 -1.0 - 0.1 - 0.1 = -1.2 (the plain straddle's
    stop would fire here), at 3 -1.2 - 0.1 - 0.1 = -1.4 <= -1.3. Out at 4."""
    ce = [100.0, 100.0, 100.9, 101.1, 101.1, 101.1]
    legs = run("guarded_hedged_2b", [ce, [100.0] * 6, [4.9] * 6, [7.9] * 6], (25000, 25000, 25300, 25250),
               ("CE", "PE", "CE", "CE"), 25000.0)
    assert rows(first_trade(legs)) == [("ce", 25000, -1, 1, 100.0, 3, 101.2, "combined_stop", -90.0),
                                       ("pe", 25000, -1, 1, 100.0, 3, 100.1, "combined_stop", -7.5),
                                       ("hedge", 25300, 1, 1, 5.0, 3, 4.9, "combined_stop", -7.5)]


def test_2c_buys_the_future_when_the_index_rises_0_2_percent_and_holds_it_to_the_exit():
    """The index rises 0.2 % at second 5 (25000 -> 25050): 1 lot of the future is bought at 6 at its
    ask (25000.10); the data ends at 10: every leg is closed there at its last quote."""
    spot = np.full(12, 25000.0)
    spot[5:] = 25050.0
    legs = run("guarded_delta_flat_2c", [[100.0] * 12, [100.0] * 12, [25000.0] * 12], (25000, 25000, 0),
               ("CE", "PE", "FUT"), spot, tradable_until=10)
    assert rows(legs) == [("ce", 25000, -1, 1, 100.0, 10, 100.1, "end_of_data", -7.5),
                          ("pe", 25000, -1, 1, 100.0, 10, 100.1, "end_of_data", -7.5),
                          ("fut", 0, 1, 6, 25000.1, 10, 25000.0, "end_of_data", -7.5)]
    assert legs[2]["signal_ts"].timestamp() + 19800 - AT_1030 == 5 and legs[2]["opt_type"] == "FUT"
    spot[5:] = 24950.0                                              # down 0.2 %: the future is sold
    legs = run("guarded_delta_flat_2c", [[100.0] * 12, [100.0] * 12, [25000.0] * 12], (25000, 25000, 0),
               ("CE", "PE", "FUT"), spot, tradable_until=10)
    assert rows(legs)[2][:5] == ("fut", 0, -1, 6, 25000.0)


def test_2d_closes_at_a_bucket_end_when_0_6_up_else_rolls_to_the_new_atm():
    """Buckets of 30 minutes from 09:15: the path starts at 10:44:50, the bucket ends at 10:45:00
    (second 10). Up 0.7 a unit there: closed (scheduled_close). Otherwise, spot having moved to
    25050: rolled to the 25050 straddle in that second."""
    start = AT_1030 + 14 * 60 + 50
    n = 16
    up = [[100.0, 100.0] + [99.2] * (n - 2), [100.0] * n, [100.0] * n, [100.0] * n]
    strikes, types = (25000, 25000, 25050, 25050), ("CE", "PE", "CE", "PE")
    legs = run("guarded_ladder_2d", up, strikes, types, 25000.0, start=start)
    offset = start - AT_1030
    assert [(r[0], r[5] - offset, r[7]) for r in rows(first_trade(legs))] == [("ce", 10, "scheduled_close"),
                                                                               ("pe", 10, "scheduled_close")]
    spot = np.full(n, 25000.0)
    spot[6:] = 25050.0
    legs = run("guarded_ladder_2d", [[100.0] * n] * 4, strikes, types, spot, start=start)
    got = [(r[0], r[1], r[3] - offset, r[7]) for r in rows(legs)]
    assert got[:2] == [("ce", 25000, 1, "roll"), ("pe", 25000, 1, "roll")]
    assert got[2:] == [("ce", 25050, 11, "end_of_data"), ("pe", 25050, 11, "end_of_data")]


def _theta_day(jump_at, ce_bid, pe_bid, n=700):
    theta = np.ones((n, 2))
    theta[jump_at:] = 3.0                              # the pair's score triples at `jump_at`
    return dict(paths=[[ce_bid] * n, [pe_bid] * n], strikes=(25000, 25000), types=("CE", "PE"), spot=25000.0,
                features={"theta_score": theta})


def test_the_dynamic_theta_straddle_enters_when_theta_beats_1_3x_its_10_minute_median_with_rs_20_of_credit():
    legs = run("dynamic_theta_straddle", **_theta_day(650, 10.0, 10.0))
    assert [r[3] for r in rows(legs)] == [651, 651]                # decided at 650, sold at 651
    assert legs[0]["entry_px"] + legs[1]["entry_px"] == pytest.approx(20.0)
    assert run("dynamic_theta_straddle", **_theta_day(650, 10.0, 9.95)) == []    # credit 19.95
    assert run("dynamic_theta_straddle", **_theta_day(n := 700, 10.0, 10.0, n)) == []  # theta never jumps
