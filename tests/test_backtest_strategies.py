"""Each scalp's trigger on hand-built feature paths: it fires exactly where its rule is first met."""
import numpy as np

from backtest.kernels.engine import ORDER_IOC, ORDER_LIMIT, ORDER_MARKET
from backtest.strategies import get

S = 12


def feats(**cols):
    return {k: np.asarray(v, float).reshape(-1, 1) for k, v in cols.items()}


def ok(n=S):
    return np.ones((n, 1), bool)


def test_ob_imbalance_needs_ratio_rising_three_seconds_and_a_tight_spread():
    s = get("ob_imbalance")
    cfg = s.default()
    ratio = [1.0, 2.0, 2.2, 2.4, 2.6, 2.7, 2.7, 2.8, 2.9, 3.0, 3.1, 3.2]
    spread = [0.1] * 9 + [0.5, 0.1, 0.1]
    o = s.signals(feats(depth_ratio5=ratio, spread=spread, bid_px0=[50] * S, ask_px0=[50.1] * S), ok(), cfg)
    # 4: 2.6 after rising 2.0->2.2->2.4->2.6; 5: rising; 6: flat (resets); 9: spread too wide
    assert np.flatnonzero(o.side[:, 0]).tolist() == [4, 5, 10, 11]
    assert o.type[4, 0] == ORDER_LIMIT and o.price[4, 0] == 50.05
    assert (cfg.exits.target, cfg.exits.stop, cfg.risk.entry_timeout_s) == (2.0, 1.5, 0)


def test_ob_imbalance_switch_sells_ask_heavy_books():
    s = get("ob_imbalance")
    cfg = s.default()
    cfg.params["sell_ask_heavy"] = True
    ratio = [1.0, 0.9, 0.6, 0.5, 0.39, 0.38] + [0.38] * 6
    o = s.signals(feats(depth_ratio5=ratio, spread=[0.1] * S, bid_px0=[50] * S, ask_px0=[50.1] * S), ok(), cfg)
    assert np.flatnonzero(o.side[:, 0] == -1).tolist() == [4, 5] and o.price[4, 0] == 50.05


def test_volume_spike_ladder_trigger_and_defaults():
    s = get("volume_spike_ladder")
    cfg = s.default()
    vol_30s = [10, 10, 10, 31, 31, 31, 29, 40, 40, 40, 40, 40]
    hh = [0, 1, 2, 2, 3, 3, 3, 3, 4, 5, 0, 6]
    o = s.signals(feats(vol_30s=vol_30s, vol_5m=[100] * S, vol_30s_ok=[1] * S, vol_5m_ok=[1] * 8 + [0] + [1] * 3,
                        higher_highs=hh, spread=[0.2] * S, bid_px0=[20] * S), ok(), cfg)
    # 30 s volume >= 3 x (100/10) and >= 3 higher highs; second 8's 5-minute window spans a gap
    assert np.flatnonzero(o.side[:, 0]).tolist() == [4, 5, 7, 9, 11]
    e = cfg.exits
    assert (e.stop, e.trail_activate, e.trail_offset, cfg.risk.entry_window) == (1.5, 1.5, 0.8, ("09:45:00", "11:00:00"))


def test_micro_ema_flip_crosses_with_slope_and_picks_the_order_type():
    s = get("micro_ema_flip")
    cfg = s.default()
    e6 = [10, 10, 10.2, 10.3, 10.2, 9.9, 10.15, 10.3, 10.3, 10.3, 10.3, 10.3]
    e18 = [10.1] * S
    slope = [0, 0, 0.2, 0.1, -0.1, -0.3, 0.2, 0.2, 0, 0, 0, 0]
    spread = [0.2] * 6 + [0.4] * 6
    o = s.signals(feats(ema6=e6, ema18=e18, ema6_slope=slope, spread=spread, bid_px0=[10] * S), ok(), cfg)
    assert np.flatnonzero(o.side[:, 0]).tolist() == [2, 6]
    assert o.type[2, 0] == ORDER_LIMIT and o.price[2, 0] == 10.05 and o.type[6, 0] == ORDER_MARKET
    assert np.flatnonzero(o.exit_side[:, 0] == -1).tolist() == [5]       # reverse cross closes longs
    assert cfg.exits.locks == [(1.5, -0.30)] and cfg.exits.trail_offset == 1.0 and cfg.exits.trail_on_ltp


def test_orb_breaks_once_with_volume_and_uses_ioc_at_the_ltp():
    s = get("orb_2min")
    cfg = s.default()
    price = [100, 101, 102.9, 103.0, 103.5, 104, 102, 103.2, 103.3, 103.4, 103.5, 103.6]
    vol10 = [0, 0, 0, 50, 50, 50, 50, 10, 50, 50, 50, 50]
    o = s.signals(feats(price=price, or2_high=[100] * S, vol_10s=vol10, vol_avg_2m=[2.0] * S,
                        vol_10s_ok=[1] * S), ok(), cfg)
    # needs LTP >= 103 and 10 s volume >= 2 x (2.0 x 10): second 3 breaks; 7 breaks again but volume is short
    assert np.flatnonzero(o.side[:, 0]).tolist() == [3]
    assert o.type[3, 0] == ORDER_IOC and o.price[3, 0] == 103.0
    assert (cfg.exits.target, cfg.exits.stop, cfg.exits.time_stop_s, cfg.selection.strikes) == (2.0, 1.5, 60, 1)
