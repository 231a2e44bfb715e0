"""Each scalp's trigger on hand-built feature paths (it fires exactly where its rule is first met),
and what each strategy's default config does once it has an entry: the signals and the engine run
together on a hand-built day (backtest.simulate), so a changed default shows as changed fills,
exits and times, not as a changed number in a list."""
import numpy as np
import pytest

from backtest.config import apply_overrides
from backtest.enums import N_QUOTE, OrderType, Quote
from backtest.simulate import simulate_day
from backtest.strategies import get
from backtest.strategies import single_leg as SL
from backtest.strategies.base import OrderBook
from tests.backtest_paths import T0, day_of, path, pre_18_costs

S = 12


def feats(**cols):
    return {k: np.asarray(v, float).reshape(-1, 1) for k, v in cols.items()}


def ok(n=S):
    return np.ones((n, 1), bool)


def legs_of(strategy: str, day, cfg=None) -> list[dict]:
    s = get(strategy)
    res = simulate_day(s, pre_18_costs(cfg or s.default()), day, "test", True)
    return res.legs.to_pylist()


def seconds(leg, key) -> int:
    """A leg's timestamp as seconds after the path's first second."""
    return int(leg[key].timestamp()) - (T0 - 19800)


# --- the triggers -----------------------------------------------------------------------------

DEEP = 100_000.0       # units on 5 levels: over 1,000 lots of 75 each side


def test_ob_imbalance_needs_ratio_rising_three_seconds_a_tight_spread_and_1000_lots_each_side():
    cfg = get("ob_imbalance").default()
    ratio = [1.0, 2.0, 2.2, 2.4, 2.6, 2.7, 2.7, 2.8, 2.9, 3.0, 3.1, 3.2]
    spread = [0.1] * 9 + [0.5, 0.1, 0.1]
    ask_depth = [DEEP] * 11 + [75_000.0]          # second 11: exactly 1,000 lots, not more
    o = SL.ob_signals(feats(depth_ratio5=ratio, spread=spread, bid_px0=[50] * S, ask_px0=[50.1] * S,
                            depth_bid5=[DEEP] * S, depth_ask5=ask_depth, lot=[75] * S), ok(), cfg)
    # 4: 2.6 after rising 2.0->2.2->2.4->2.6; 5: rising; 6: flat (resets); 9: spread too wide; 11: thin
    assert np.flatnonzero(o.side[:, 0]).tolist() == [4, 5, 10]
    assert o.type[4, 0] == OrderType.limit and o.price[4, 0] == 50.05
    cfg.params["min_depth_lots"] = None                                   # the depth filter off
    o = SL.ob_signals(feats(depth_ratio5=ratio, spread=spread, bid_px0=[50] * S, ask_px0=[50.1] * S,
                            depth_bid5=[1.0] * S, depth_ask5=ask_depth, lot=[75] * S), ok(), cfg)
    assert np.flatnonzero(o.side[:, 0]).tolist() == [4, 5, 10, 11]


def test_ob_imbalance_switch_sells_ask_heavy_books():
    cfg = get("ob_imbalance").default()
    cfg.params["sell_ask_heavy"] = True
    ratio = [1.0, 0.9, 0.6, 0.5, 0.39, 0.38] + [0.38] * 6
    o = SL.ob_signals(feats(depth_ratio5=ratio, spread=[0.1] * S, bid_px0=[50] * S, ask_px0=[50.1] * S,
                            depth_bid5=[DEEP] * S, depth_ask5=[DEEP] * S, lot=[75] * S), ok(), cfg)
    assert np.flatnonzero(o.side[:, 0] == -1).tolist() == [4, 5] and o.price[4, 0] == 50.05


def test_volume_spike_ladder_trigger():
    cfg = get("volume_spike_ladder").default()
    vol_30s = [10, 10, 10, 31, 31, 31, 29, 40, 40, 40, 40, 40]
    hh = [0, 1, 2, 2, 3, 3, 3, 3, 4, 5, 0, 6]
    o = SL.vs_signals(feats(vol_30s=vol_30s, vol_5m=[100] * S, vol_30s_ok=[1] * S, vol_5m_ok=[1] * 8 + [0] + [1] * 3,
                            higher_highs=hh, spread=[0.2] * S, bid_px0=[20] * S), ok(), cfg)
    # 30 s volume >= 3 x (100/10) and >= 3 higher highs; second 8's 5-minute window spans a gap
    assert np.flatnonzero(o.side[:, 0]).tolist() == [4, 5, 7, 9, 11]


def test_micro_ema_flip_buys_the_up_cross_and_sells_the_down_cross_with_slope_and_picks_the_order_type():
    cfg = get("micro_ema_flip").default()
    e6 = [10, 10, 10.2, 10.3, 10.2, 9.9, 10.15, 10.3, 10.3, 10.3, 10.0, 10.0]
    e18 = [10.1] * S
    slope = [0, 0, 0.2, 0.1, -0.1, -0.3, 0.2, 0.2, 0, 0, -0.01, 0]
    spread = [0.2] * 6 + [0.4] * 6
    o = SL.ema_signals(feats(ema6=e6, ema18=e18, ema6_slope=slope, spread=spread, bid_px0=[10] * S,
                             ask_px0=[10.2] * S), ok(), cfg)
    # up-crosses at 2 and 6; down-crosses at 5 (slope -0.3) and 10 (slope -0.01: too flat)
    assert np.flatnonzero(o.side[:, 0] == 1).tolist() == [2, 6] and np.flatnonzero(o.side[:, 0] == -1).tolist() == [5]
    assert o.type[2, 0] == OrderType.limit and o.price[2, 0] == 10.05 and o.type[6, 0] == OrderType.market
    assert o.type[5, 0] == OrderType.limit and o.price[5, 0] == 10.15          # a tick under the ask
    cfg.params["short"] = False
    o = SL.ema_signals(feats(ema6=e6, ema18=e18, ema6_slope=slope, spread=spread, bid_px0=[10] * S,
                             ask_px0=[10.2] * S), ok(), cfg)
    assert np.flatnonzero(o.side[:, 0]).tolist() == [2, 6]


def test_orb_breaks_up_and_down_once_with_volume_and_uses_ioc_at_the_ltp():
    cfg = get("orb_2min").default()
    price = [100, 101, 102.9, 103.0, 103.5, 104, 102, 103.2, 103.3, 93.9, 94.0, 93.0]
    vol10 = [0, 0, 0, 50, 50, 50, 50, 10, 50, 50, 50, 50]
    o = SL.orb_signals(feats(price=price, or2_high=[100] * S, or2_low=[97] * S, vol_10s=vol10, vol_avg_2m=[2.0] * S,
                             vol_10s_ok=[1] * S), ok(), cfg)
    # up: LTP >= 103 with 10 s volume >= 2 x (2.0 x 10) at 3 (7 breaks again, volume short);
    # down: LTP <= 94 at 9 (a fresh break; 11 is still below)
    assert np.flatnonzero(o.side[:, 0] == 1).tolist() == [3] and np.flatnonzero(o.side[:, 0] == -1).tolist() == [9]
    assert o.type[3, 0] == OrderType.ioc and o.price[3, 0] == 103.0 and o.price[9, 0] == 93.9


# --- the defaults at work ----------------------------------------------------------------------

def _ob_day(bids, ratio_at: int, ratio_after=2.6):
    """One ATM contract whose depth ratio rises to 2.6 over the three seconds before `ratio_at`
    (the only second ob_imbalance signals; then `ratio_after`); trades print at the ask; deep books."""
    n = len(bids)
    t, Q, B = path(bids, ltp=np.asarray(bids, float) + 0.1)
    ratio = np.ones(n)
    ratio[ratio_at - 2:ratio_at + 1] = [2.0, 2.2, 2.6]
    ratio[ratio_at + 1:] = ratio_after
    bids = np.asarray(bids, float)
    return day_of(Q, B, t, features={"depth_ratio5": ratio, "spread": np.full(n, 0.1), "bid_px0": bids,
                                     "ask_px0": bids + 0.1, "depth_bid5": np.full(n, DEEP),
                                     "depth_ask5": np.full(n, DEEP)})


def test_ob_imbalance_default_joins_a_tick_above_the_bid_and_takes_two_rupees():
    # signal at 5 (bid 100): limit 100.05; at 6 the ask is 100.05, the order fills there on arrival;
    # the target 102.05 is first reached by a trade (102.10) at second 9 (102.00 at 8 is short of
    # it), the exit meets 10's bid
    bids = [100] * 6 + [99.95, 100.5, 101.9, 102.0, 102.05, 102.2, 102.2]
    (leg,) = legs_of("ob_imbalance", _ob_day(bids, 5))
    assert (seconds(leg, "signal_ts"), seconds(leg, "entry_ts"), leg["entry_px"]) == (5, 6, pytest.approx(100.05))
    assert (leg["exit_reason"], seconds(leg, "exit_signal_ts"), leg["exit_px"]) == ("target", 9, pytest.approx(102.05))


def test_ob_imbalance_default_leaves_when_the_imbalance_ratio_falls_below_1():
    # in at 6 (100.05) as above; the ratio is 0.9 from second 8 on: out at 8, filled at 9's bid
    bids = [100] * 6 + [99.95, 100.5, 100.6, 100.7, 100.7]
    day = _ob_day(bids, 5)
    day.F["depth_ratio5"][8:] = 0.9
    (leg,) = legs_of("ob_imbalance", day)
    assert (leg["exit_reason"], seconds(leg, "exit_signal_ts"), leg["exit_px"]) == ("signal_exit", 8, pytest.approx(100.7))
    legacy = apply_overrides(get("ob_imbalance").default(), {"exits": {"close_long_when": None}})
    (leg,) = legs_of("ob_imbalance", _ob_day(bids, 5), legacy)
    assert leg["exit_reason"] == "end_of_data"


def test_ob_imbalance_default_cancels_a_limit_the_market_does_not_take_on_arrival():
    # the ask is 100.10 when the 100.05 limit arrives at 6 and drops to it at 7: too late for the
    # default (the order's timeout is 0 s); a 5-second timeout would have filled at 7
    bids = [100] * 7 + [99.9, 100.0, 100.0, 100.0]
    assert legs_of("ob_imbalance", _ob_day(bids, 5)) == []
    patient = apply_overrides(get("ob_imbalance").default(), {"legs": {"scalp": {"order": {"timeout_s": 5}}}})
    (leg,) = legs_of("ob_imbalance", _ob_day(bids, 5), patient)
    assert (seconds(leg, "entry_ts"), leg["entry_px"]) == (7, pytest.approx(100.05))


def _spike_day(start_s: int, bids, ltp):
    """One ATM contract seen from `start_s` seconds after 09:15, with a volume spike (30 s volume 4x
    the 5-minute average, 3 higher highs) at its second 2 only."""
    n = len(bids)
    t, Q, B = path(bids, ltp=ltp)
    vol_30s = np.full(n, 10.0)
    vol_30s[2] = 40.0
    bids = np.asarray(bids, float)
    return day_of(Q, B, t + start_s, features={
        "vol_30s": vol_30s, "vol_5m": np.full(n, 100.0), "vol_30s_ok": np.ones(n), "vol_5m_ok": np.ones(n),
        "higher_highs": np.full(n, 3.0), "spread": np.full(n, 0.1), "bid_px0": bids})


def test_volume_spike_ladder_default_trades_only_from_0945_to_1100_and_trails_the_ltp_once_up_1_5():
    # limit 100.05 at 2 fills at 3 (the ask is 100.05). Trades: 101.6 at 6 (+1.55) arms the trail
    # 0.8 under the best trade; 102.4 at 7 -> 101.6; the bid 101.25 at 8 is below it: out at 8,
    # filled at 9's bid (101.2). Trailing the bid instead (the old rule) the stop is 101.2 at 7
    # and the bid 101.2 at 9 hits it.
    bids = [100, 100, 100, 99.95, 100.5, 101.0, 101.6, 102.0, 101.25, 101.2, 101.0, 101.0]
    ltp = [100, 100, 100, 99.95, 100.5, 101.0, 101.6, 102.4, 101.25, 101.2, 101.0, 101.0]
    assert legs_of("volume_spike_ladder", _spike_day(20 * 60, bids, ltp)) == []      # 09:35: before the window
    (leg,) = legs_of("volume_spike_ladder", _spike_day(30 * 60, bids, ltp))           # 09:45
    assert (seconds(leg, "entry_ts") - 30 * 60, leg["entry_px"]) == (3, pytest.approx(100.05))
    assert (leg["exit_reason"], seconds(leg, "exit_signal_ts") - 30 * 60, leg["exit_px"]) == \
        ("trailing_stop", 8, pytest.approx(101.2))
    assert leg["initial_stop"] == pytest.approx(98.55)                                 # 1.5 below the entry
    on_bid = apply_overrides(get("volume_spike_ladder").default(), {"exits": {"trail_on_ltp": False}})
    (leg,) = legs_of("volume_spike_ladder", _spike_day(30 * 60, bids, ltp), on_bid)
    assert (seconds(leg, "exit_signal_ts") - 30 * 60, leg["exit_px"]) == (9, pytest.approx(101.0))
    assert legs_of("volume_spike_ladder", _spike_day(105 * 60 + 1, bids, ltp)) == []  # 11:00:03: after it


def test_volume_spike_ladder_stepped_moves_the_stop_at_plus_1_and_2_then_trails_half_a_rupee():
    # in at 100.05 (second 3). LTP +1.15 at 4: stop -> 99.55; +2.15 at 5: stop -> 100.55 (lock
    # +0.5); +3.15 at 6: trail 0.5 under the best trade -> 102.70; the bid 102.6 at 7 hits it
    bids = [100, 100, 100, 99.95, 101.2, 102.2, 103.1, 102.6, 102.5, 102.5]
    (leg,) = legs_of("volume_spike_ladder_stepped", _spike_day(30 * 60, bids, bids))
    assert (leg["exit_reason"], seconds(leg, "exit_signal_ts") - 30 * 60, leg["exit_px"]) == \
        ("trailing_stop", 7, pytest.approx(102.5))
    # a fall after +1 only: the stop at entry - 0.5 (99.55)
    bids = [100, 100, 100, 99.95, 101.2, 100.4, 99.55, 99.5, 99.5]
    (leg,) = legs_of("volume_spike_ladder_stepped", _spike_day(30 * 60, bids, bids))
    assert (leg["exit_reason"], seconds(leg, "exit_signal_ts") - 30 * 60) == ("trailing_stop", 6)


def _ema_day(bids, ltp, spread, cross_back_at=None, down=False):
    """ema6 crosses above ema18 at second 2 (below it with `down`), and back at `cross_back_at`."""
    n = len(bids)
    t, Q, B = path(bids, ltp=ltp, spread=spread)
    e6, e18 = np.full(n, 10.0), np.full(n, 10.1)
    e6[2:] = 10.2
    if cross_back_at is not None:
        e6[cross_back_at:] = 10.0
    slope = np.full(n, 0.1)
    if down:
        e6, e18, slope = 20.2 - e6, np.full(n, 10.1), -slope
    bids = np.asarray(bids, float)
    return day_of(Q, B, t, features={"ema6": e6, "ema18": e18, "ema6_slope": slope,
                                     "spread": np.full(n, spread), "bid_px0": bids, "ask_px0": bids + spread})


def test_micro_ema_flip_default_buys_at_market_when_the_spread_is_wide_and_trails_the_ltp():
    # spread 0.30 > 0.25: a market buy at 3's ask (100.30). The LTP reaches 101.85 at 6 (+1.55):
    # the stop trails 1.0 below the best trade, 102.2 at 7 -> 101.2; the bid 101.25 at 8 stays
    # above it, 101.2 at 9 hits it
    bids = [100, 100, 100, 100, 100.8, 101.4, 101.85, 102.2, 101.25, 101.2, 101.1, 101.1]
    (leg,) = legs_of("micro_ema_flip", _ema_day(bids, bids, 0.30))
    assert (seconds(leg, "entry_ts"), leg["entry_px"]) == (3, pytest.approx(100.3))
    assert (leg["exit_reason"], seconds(leg, "exit_signal_ts"), leg["exit_px"]) == ("trailing_stop", 9, pytest.approx(101.1))


def test_micro_ema_flip_default_closes_on_the_reverse_cross():
    # the LTP never gets 1.5 above the entry; ema6 falls back below ema18 at 6: a signal exit,
    # filled at 7's bid
    bids = [100, 100, 100, 100, 100.5, 100.6, 100.4, 100.3, 100.3, 100.3]
    (leg,) = legs_of("micro_ema_flip", _ema_day(bids, bids, 0.30, cross_back_at=6))
    assert (leg["exit_reason"], seconds(leg, "exit_signal_ts"), leg["exit_px"]) == ("signal_exit", 6, pytest.approx(100.3))


def test_micro_ema_flip_default_sells_the_down_cross_and_buys_back_on_the_reverse_cross():
    # ema6 crosses below ema18 at 2 (slope -0.1): spread 0.30, a market sell at 3's bid (100.0);
    # the stop is 101.5; ema6 crosses back above at 6: bought back at 7's ask (99.6)
    bids = [100, 100, 100, 100, 99.6, 99.5, 99.4, 99.3, 99.3, 99.3]
    (leg,) = legs_of("micro_ema_flip", _ema_day(bids, bids, 0.30, cross_back_at=6, down=True))
    assert (leg["side"], seconds(leg, "entry_ts"), leg["entry_px"], leg["initial_stop"]) == \
        (-1, 3, pytest.approx(100.0), pytest.approx(101.5))
    assert (leg["exit_reason"], seconds(leg, "exit_signal_ts"), leg["exit_px"]) == ("signal_exit", 6, pytest.approx(99.6))
    assert legs_of("micro_ema_flip", _ema_day(bids, bids, 0.30, down=True),
                   apply_overrides(get("micro_ema_flip").default(), {"params": {"short": False}})) == []


def _orb_day(n, start_s, strikes=(25000,), spot=25000.0, down=False):
    """Contracts flat at bid 100 / ask 100.10 / LTP 100.10 from `start_s` after 09:15; the 2-minute
    opening range is 97-103.1, so the LTP breaks its high by 3.1 at the path's second 1 (with
    `down`, the range is 97.1-110 and the LTP breaks its low by 3.0)."""
    C = len(strikes)
    t = np.arange(n, dtype=np.int64) + T0 + start_s
    Q = np.full((n, C, N_QUOTE), np.nan)
    B = np.full((n, C, 20), np.nan)
    Q[:, :, Quote.bid], Q[:, :, Quote.ask], Q[:, :, Quote.ltp] = 100.0, 100.1, 100.1
    Q[:, :, Quote.vol], Q[:, :, Quote.tradable], Q[:, :, Quote.slip] = 10, 1, 0.0
    for k in range(5):
        B[:, :, k], B[:, :, 5 + k], B[:, :, 10 + k], B[:, :, 15 + k] = 100 - 0.05 * k, 1000, 100.1 + 0.05 * k, 1000
    price = np.full((n, C), 100.1)
    price[0] = 104.0 if down else 96.0                   # inside the range: second 1 is the break
    high, low = (110.0, 103.1) if down else (97.0, 90.0)
    return day_of(Q, B, t, strikes=strikes, opt_types=("CE",) * C, spot=np.full(n, spot), features={
        "price": price, "or2_high": np.full((n, C), high), "or2_low": np.full((n, C), low),
        "vol_10s": np.full((n, C), 50.0), "vol_avg_2m": np.full((n, C), 2.0), "vol_10s_ok": np.ones((n, C))})


def test_orb_2min_default_takes_the_break_with_an_ioc_and_leaves_after_a_minute():
    # 09:17:00 on: the break at 1 sends an IOC at the LTP (100.10), filled at 2 by the ask; nothing
    # hits the target (+2) or the stop (-1.5): the time stop fires 60 s after the entry
    (leg,) = legs_of("orb_2min", _orb_day(80, 120))
    assert (seconds(leg, "entry_ts") - 120, leg["entry_px"]) == (2, pytest.approx(100.1))
    assert (leg["exit_reason"], seconds(leg, "exit_signal_ts") - 120) == ("time_stop", 62)


def test_orb_2min_default_enters_only_from_0917_to_0925():
    assert legs_of("orb_2min", _orb_day(80, 60)) == []            # 09:16: before the range is known
    (leg,) = legs_of("orb_2min", _orb_day(80, 9 * 60 + 58))        # the break at 09:24:59
    assert seconds(leg, "signal_ts") == 9 * 60 + 59
    assert legs_of("orb_2min", _orb_day(80, 10 * 60)) == []        # the break at 09:25:01: too late
    legacy = apply_overrides(get("orb_2min").default(), {"risk": {"entry_windows": [["09:17:00", "15:20:00"]]}})
    assert len(legs_of("orb_2min", _orb_day(80, 10 * 60), legacy)) == 1


def test_orb_2min_default_sells_the_break_down():
    # the LTP falls to 100.10, 3.0 under the range low (103.1): an IOC sell at 100.10 meets 2's
    # bid (100.00) -- below the limit, so it does not fill; an IOC at the bid fills
    assert legs_of("orb_2min", _orb_day(80, 120, down=True)) == []
    day = _orb_day(80, 120, down=True)
    day.F["price"][1:] = 100.0                                     # the break prints at the bid
    day.F["or2_low"][:] = 103.0
    (leg,) = legs_of("orb_2min", day)
    assert (leg["side"], seconds(leg, "entry_ts") - 120, leg["entry_px"]) == (-1, 2, pytest.approx(100.0))
    assert (leg["exit_reason"], leg["initial_stop"]) == ("time_stop", pytest.approx(101.5))


def test_orb_2min_default_trades_the_atm_strike_or_its_neighbours_the_first_to_break_once_a_day():
    # spot 25000: strikes 24950 and 25050 are one step away, 25100 two; each breaks at second 1:
    # the first (lowest) strike's break is the day's one entry; with 4 entries and 4 open
    # allowed, the three within ATM +- 1 trade
    (leg,) = legs_of("orb_2min", _orb_day(10, 120, strikes=(24950, 25000, 25050, 25100)))
    assert leg["strike"] == 24950
    cfg = apply_overrides(get("orb_2min").default(), {"risk": {"max_open": 4, "max_entries": 4}})
    legs = legs_of("orb_2min", _orb_day(10, 120, strikes=(24950, 25000, 25050, 25100)), cfg)
    assert sorted(leg["strike"] for leg in legs) == [24950, 25000, 25050]


def test_a_signal_function_must_return_a_plan():
    from backtest.strategies import Strategy

    odd = Strategy("odd", get("orb_2min").default, (), lambda day, spot, cfg: OrderBook((1, 1)).side)
    with pytest.raises(TypeError, match="odd: signals returned a ndarray, not a Plan"):
        simulate_day(odd, odd.default(), _orb_day(5, 120), "t", True)
