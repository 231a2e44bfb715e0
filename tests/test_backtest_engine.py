"""The position engine on hand-built one-contract paths: fills after latency, exits at the first
second their rule is met (the single-leg shape the scalps use)."""
import numpy as np
import pytest

from backtest.enums import EventKind, OrderType
from backtest.strategies.base import Exits
from tests.backtest_paths import event_names, path, reason, run


def test_market_entry_fills_at_the_next_seconds_ask_and_target_exit_at_the_following_bid():
    t, Q, B = path([100, 100, 100.5, 101.0, 102.7, 102.4, 102.0])
    (tr,), _ = run(t, Q, B, {1: 1}, Exits(target=2.0, stop=1.5))
    assert (tr["signal_i"], tr["entry_i"], tr["entry_px"]) == (1, 2, 100.6)      # ask of second 2
    # target 102.60 reached by the bid at second 4; the exit order meets the bid of second 5
    assert (reason(tr), tr["exit_signal_i"], tr["exit_i"], tr["exit_px"]) == ("target", 4, 5, 102.4)


def test_stop_wins_when_target_and_stop_share_a_second():
    # long from 100.1; at second 3 the bid (98.5) is at the stop while a trade prints at the target
    t, Q, B = path([100, 100, 100, 98.5, 98.4], ltp=[100.05, 100.05, 100.05, 102.2, 98.45])
    (tr,), ev = run(t, Q, B, {1: 1}, Exits(target=2.0, stop=1.5))
    assert reason(tr) == "stop" and tr["both_hit"] and tr["exit_signal_i"] == 3
    assert "stop_and_target_same_second" in event_names(ev)


def test_a_stale_last_price_neither_hits_the_target_nor_trails_the_stop():
    """The LTP (103) is a trade from before the entry: no volume prints after it until second 5."""
    ltp = [103.0, 103.0, 103.0, 103.0, 103.0, 103.0, 100.2]
    vol = [10, 0, 0, 0, 0, 0, 0]
    t, Q, B = path([100, 100, 100, 100, 100, 100, 100], ltp=ltp, vol=vol)
    (tr,), _ = run(t, Q, B, {1: 1}, Exits(target=2.0, stop=1.5, trail_activate=1.0, trail_offset=0.5, trail_on_ltp=True))
    # no target, no trailed stop: alive at the last second, closed there as end_of_data
    assert reason(tr) == "end_of_data" and tr["exit_signal_i"] == tr["exit_i"] == 6
    vol[4] = 5                                  # a trade at 103 prints at second 4, after the entry
    t, Q, B = path([100, 100, 100, 100, 100, 100, 100], ltp=ltp, vol=vol)
    (tr,), _ = run(t, Q, B, {1: 1}, Exits(target=2.0, stop=1.5))
    assert (reason(tr), tr["exit_signal_i"]) == ("target", 4)


def test_no_fill_on_padded_seconds_the_order_waits_for_a_real_quote():
    t, Q, B = path([100, 100, 100, 100, 100.2], tradable=[1, 1, 0, 0, 1])
    (tr,), ev = run(t, Q, B, {1: 1}, Exits(stop=1.5))
    assert tr["entry_i"] == 4 and tr["entry_px"] == pytest.approx(100.3)


def test_market_order_walks_the_book_beyond_level_zero():
    t, Q, B = path([100, 100, 100], depth=20.0)
    (tr,), _ = run(t, Q, B, {0: 1}, Exits(stop=5.0), qty_lots=2, lot=30)  # 60 units: 20 @100.10, 20 @100.15, 20 @100.20
    assert tr["qty"] == 60 and tr["entry_px"] == pytest.approx(100.15)


def test_beyond_the_book_is_partial_or_rejected_by_the_fill_model():
    t, Q, B = path([100, 100, 100], depth=10.0)
    (tr,), _ = run(t, Q, B, {0: 1}, Exits(stop=5.0), lot=75)               # 50 units on the book
    assert tr["qty"] == 50 and tr["partial"]
    tr, _ = run(t, Q, B, {0: 1}, Exits(stop=5.0), partial_beyond_book=0, lot=75)
    assert len(tr) == 0


def test_limit_buy_fills_only_when_quoted_or_traded_through_and_cancels_after_timeout():
    # limit 100.05 (bid + 0.05): the ask stays 100.10 -> no fill, cancelled after 1 s
    t, Q, B = path([100, 100, 100, 100, 100])
    tr, ev = run(t, Q, B, {0: 1}, Exits(stop=1.5), entry_timeout_s=1, order_type=OrderType.limit, limit=lambda i: 100.05)
    assert len(tr) == 0 and "cancel" in event_names(ev)
    # the ask drops to 100.05 on the second after arrival: the resting order fills at its own price
    t, Q, B = path([100, 100, 99.95, 100], spread=0.10)
    (tr,), _ = run(t, Q, B, {0: 1}, Exits(stop=1.5), entry_timeout_s=2, order_type=OrderType.limit, limit=lambda i: 100.05)
    assert (tr["entry_i"], tr["entry_px"]) == (2, 100.05)
    # a trade prints below the limit: fills at the limit
    t, Q, B = path([100, 100, 100], ltp=[100.05, 100.05, 100.0])
    (tr,), _ = run(t, Q, B, {0: 1}, Exits(stop=1.5), entry_timeout_s=2, order_type=OrderType.limit, limit=lambda i: 100.05)
    assert (tr["entry_i"], tr["entry_px"]) == (2, 100.05)


def test_ioc_takes_what_the_book_has_up_to_the_limit_and_cancels_the_rest():
    t, Q, B = path([100, 100, 100], depth=20.0)
    (tr,), _ = run(t, Q, B, {0: 1}, Exits(stop=1.5), order_type=OrderType.ioc, limit=lambda i: 100.15, lot=75)
    assert tr["qty"] == 40 and tr["entry_px"] == pytest.approx(100.125)   # levels 100.10 and 100.15 only


def test_trailing_stop_only_tightens_and_exits_at_the_first_breach():
    bids = [100, 100, 100.5, 101.5, 102.5, 102.0, 101.8, 101.6, 101.0]
    t, Q, B = path(bids)
    (tr,), ev = run(t, Q, B, {0: 1}, Exits(stop=1.5, trail_activate=1.5, trail_offset=0.8))
    stops = [e["stop"] for e in ev if e["code"] == EventKind.stop_move]
    assert stops == sorted(stops) and stops[-1] == pytest.approx(101.7)   # 102.5 - 0.8, never loosened
    assert reason(tr) == "trailing_stop" and tr["exit_signal_i"] == 7 and tr["exit_px"] == 101.0


def test_stepped_locks_move_the_stop_at_each_level():
    bids = [100, 100, 100.5, 101.2, 102.2, 101.0, 100.55, 100.4]
    t, Q, B = path(bids)
    # entry 100.10 (ask); +1 -> stop entry-0.5 (99.60); +2 -> lock +0.5 (100.60)
    (tr,), _ = run(t, Q, B, {0: 1}, Exits(stop=1.5, locks=[(1.0, -0.5), (2.0, 0.5)]))
    assert tr["exit_signal_i"] == 6 and reason(tr) == "trailing_stop"


def test_time_stop_and_session_exit_fire_on_the_clock():
    t, Q, B = path([100] * 70)
    (tr,), _ = run(t, Q, B, {0: 1}, Exits(stop=5.0, time_stop_s=60))
    assert reason(tr) == "time_stop" and tr["exit_signal_i"] == 61       # entry at 1, 60 s later
    (tr,), _ = run(t, Q, B, {0: 1}, Exits(stop=5.0), session_exit="09:15:30")
    assert reason(tr) == "session_exit" and tr["exit_signal_i"] == 30


def test_signal_exit_closes_on_the_reverse_signal():
    t, Q, B = path([100] * 10)
    (tr,), _ = run(t, Q, B, {0: 1}, Exits(stop=5.0), signal_exits={5: -1})
    assert reason(tr) == "signal_exit" and tr["exit_i"] == 6


def test_logging_events_on_or_off_changes_no_trade():
    rng = np.random.default_rng(3)
    bids = np.round(100 + np.cumsum(rng.normal(0, 0.3, 3000)), 1)
    t, Q, B = path(bids)
    entries = {i: 1 for i in range(0, 3000, 37)}
    on, ev = run(t, Q, B, entries, Exits(stop=1.5, target=2.0, trail_activate=1.0, trail_offset=0.5), log=True)
    off, none = run(t, Q, B, entries, Exits(stop=1.5, target=2.0, trail_activate=1.0, trail_offset=0.5), log=False)
    assert len(on) > 20 and len(ev) > 0 and len(none) == 0
    np.testing.assert_array_equal(on, off)


def test_daily_loss_limit_in_r_and_cooldown_after_losers_block_entries():
    bids = []
    for _ in range(6):
        bids += [100, 100, 98.0, 98.0]      # each trade: in at 100.10, stopped at 98.0 = -1.4 R
    t, Q, B = path(bids)
    entries = {i: 1 for i in range(0, len(bids), 4)}
    tr, _ = run(t, Q, B, entries, Exits(stop=1.5), daily_loss_r=2.5)
    assert len(tr) == 2                          # -2.8 R after two losers: no third entry
    tr, _ = run(t, Q, B, entries, Exits(stop=1.5), cooldown_losers=2, cooldown_s=8)
    # the second loser's exit fills at second 7: no entries until second 15, so 8 and 12 are skipped
    assert [int(x) for x in tr["signal_i"]] == [0, 4, 16, 20]


def test_a_touch_only_book_asks_for_the_5_levels_exactly_when_an_order_walks_past_the_touch():
    from backtest.kernels.fills import DepthNeeded

    t, Q, B = path([100, 100, 100], depth=20.0)
    touch = B[:, :, [0, 5, 10, 15]]                      # bid_px0, bid_qty0, ask_px0, ask_qty0
    full, _ = run(t, Q, B, {0: 1}, Exits(stop=5.0), lot=20)
    (tr,), _ = run(t, Q, touch, {0: 1}, Exits(stop=5.0), lot=20)   # 20 units: the touch has them
    assert (tr["qty"], tr["entry_px"]) == (20, 100.10) and full.tobytes() == tr.tobytes()
    with pytest.raises(DepthNeeded):                     # 21 units: the 21st is on level 1
        run(t, Q, touch, {0: 1}, Exits(stop=5.0), lot=21)
    with pytest.raises(DepthNeeded):                     # an IOC at the touch price still needs level 1's price
        run(t, Q, touch, {0: 1}, Exits(stop=5.0), order_type=OrderType.ioc, limit=lambda i: 100.10, lot=21)
    tr, _ = run(t, Q, touch, {0: 1}, Exits(stop=5.0), order_type=OrderType.ioc, limit=lambda i: 100.05, lot=21)
    assert len(tr) == 0                                  # the touch is already past the limit: no level 1 needed


def test_daily_loss_limit_in_rupees_counts_the_days_closed_legs_gross():
    bids = []
    for _ in range(6):
        bids += [100, 100, 98.0, 98.0]      # each trade: 30 units in at 100.10, out at 98.0 = -63 rupees
    t, Q, B = path(bids)
    entries = {i: 1 for i in range(0, len(bids), 4)}
    assert len(run(t, Q, B, entries, Exits(stop=1.5), daily_loss_rupees=100)[0]) == 2     # -126 after two
    assert len(run(t, Q, B, entries, Exits(stop=1.5), daily_loss_rupees=130)[0]) == 3     # -189 after three
    assert len(run(t, Q, B, entries, Exits(stop=1.5))[0]) == 6


def test_slippage_never_takes_a_sale_below_the_minimum_price():
    """Rs 0.30 of slippage (the OTM default) on a Rs 0.10 / 0.15 option: a market sale fills at
    0.10 - 0.30 = -0.20 before the floor, which no exchange pays: it fills at the tick, 0.05. A
    purchase pays the full slippage (0.15 + 0.30 = 0.45). Long: bought at 0.45 (second 1), sold at
    the bid 0.05 at second 6 -> max(0.05 - 0.30, 0.05) = 0.05. Short: sold at second 1 for 0.05
    (floored), bought back at the ask 0.10 + 0.30 = 0.40 at second 6. A sale above the floor keeps its whole slippage
    (bid 1.00 -> 0.70)."""
    t, Q, B = path([0.10] * 5 + [0.05] * 5, spread=0.05)
    Q[:, 0, 7] = 0.30                                        # Quote.slip
    (long,), _ = run(t, Q, B, {0: 1}, Exits(stop=5.0), signal_exits={5: -1})
    assert (float(long["entry_px"]), float(long["exit_px"])) == (0.45, 0.05)
    (short,), _ = run(t, Q, B, {0: -1}, Exits(stop=5.0), signal_exits={5: 1})
    assert (float(short["entry_px"]), round(float(short["exit_px"]), 10)) == (0.05, 0.4)
    t, Q, B = path([1.00] * 10, spread=0.05)
    Q[:, 0, 7] = 0.30
    (long,), _ = run(t, Q, B, {0: 1}, Exits(stop=5.0), signal_exits={5: -1})
    assert (round(float(long["entry_px"]), 10), round(float(long["exit_px"]), 10)) == (1.35, 0.7)
