"""The single-leg scalps: order-book swipe, volume-spike ladder, micro-EMA flip, 2-minute ORB.

Each is `default()` (the specified defaults), *_FEATURES (what it reads) and a per-contract rule
`*_signals(F, ok, cfg) -> EntryOrders`: F maps feature names to [second, contract] matrices, `ok`
marks the tradable, selected contracts (base.on_selected_contracts makes it the catalogue's
`signals(day, spot, cfg)`).
"""
from __future__ import annotations

import numpy as np

from backtest.enums import OrderType
from backtest.strategies.base import EntryOrders, Exits, Risk, Selection, StrategyConfig, crossed_above, rising

EPS = 1e-9


def _limit(o: EntryOrders, mask: np.ndarray, side: int, px: np.ndarray) -> None:
    """Limit orders at `px`, kept exactly on the paise grid (bid + 0.05 must not be 50.050000000000004)."""
    o.side[mask], o.type[mask], o.price[mask] = side, OrderType.limit, np.round(px[mask], 2)


# 1. order-book imbalance swipe ----------------------------------------------------------------
OB_FEATURES = ["depth_ratio5", "spread", "bid_px0", "ask_px0"]


def ob_imbalance() -> StrategyConfig:
    return StrategyConfig("ob_imbalance", exits=Exits(target=2.0, stop=1.5), risk=Risk(entry_timeout_s=0),
                          params={"ratio_min": 2.5, "rising_s": 3, "max_spread": 0.40, "offset": 0.05,
                                  "sell_ask_heavy": False})


def ob_signals(F: dict, ok: np.ndarray, cfg: StrategyConfig) -> EntryOrders:
    p, r = cfg.params, F["depth_ratio5"]
    o = EntryOrders.empty(ok.shape)
    tight = F["spread"] <= p["max_spread"] + EPS
    buy = ok & tight & (r >= p["ratio_min"] - EPS) & rising(r, p["rising_s"])
    _limit(o, buy, 1, F["bid_px0"] + p["offset"])
    if p["sell_ask_heavy"]:
        sell = ok & tight & (r <= 1.0 / p["ratio_min"] + EPS) & rising(-r, p["rising_s"]) & ~buy
        _limit(o, sell, -1, F["ask_px0"] - p["offset"])
    return o


# 2. volume-spike ladder ------------------------------------------------------------------------
VS_FEATURES = ["vol_30s", "vol_5m", "vol_30s_ok", "vol_5m_ok", "higher_highs", "spread", "bid_px0"]


def volume_spike_ladder() -> StrategyConfig:
    return StrategyConfig("volume_spike_ladder", exits=Exits(stop=1.5, trail_activate=1.5, trail_offset=0.8),
                          risk=Risk(entry_window=("09:45:00", "11:00:00"), entry_timeout_s=0),
                          params={"spike_mult": 3.0, "higher_highs": 3, "max_spread": 0.40, "offset": 0.05})


def vs_signals(F: dict, ok: np.ndarray, cfg: StrategyConfig) -> EntryOrders:
    p = cfg.params
    o = EntryOrders.empty(ok.shape)
    per_30s_avg = F["vol_5m"] / 10.0          # the 5-minute volume per 30 s
    valid = (F["vol_30s_ok"] > 0) & (F["vol_5m_ok"] > 0)
    buy = (ok & valid & (F["vol_30s"] >= p["spike_mult"] * per_30s_avg - EPS) & (per_30s_avg > 0)
           & (F["higher_highs"] >= p["higher_highs"]) & (F["spread"] <= p["max_spread"] + EPS))
    _limit(o, buy, 1, F["bid_px0"] + p["offset"])
    return o


# 3. micro-EMA flip -----------------------------------------------------------------------------
EMA_FEATURES = ["ema6", "ema18", "ema6_slope", "spread", "bid_px0"]


def micro_ema_flip() -> StrategyConfig:
    return StrategyConfig("micro_ema_flip",
                          exits=Exits(stop=1.5, locks=[(1.5, -0.30)], trail_activate=1.5, trail_offset=1.0,
                                      trail_on_ltp=True),
                          risk=Risk(entry_timeout_s=0),
                          params={"min_slope": 0.02, "limit_if_spread_le": 0.25, "offset": 0.05})


def ema_signals(F: dict, ok: np.ndarray, cfg: StrategyConfig) -> EntryOrders:
    p = cfg.params
    o = EntryOrders.empty(ok.shape)
    e6, e18 = F["ema6"], F["ema18"]
    buy = ok & crossed_above(e6, e18) & (F["ema6_slope"] > p["min_slope"])
    tight = F["spread"] <= p["limit_if_spread_le"] + EPS
    o.side[buy] = 1
    o.type[buy & ~tight] = OrderType.market
    _limit(o, buy & tight, 1, F["bid_px0"] + p["offset"])
    o.exit_side[crossed_above(e18, e6)] = -1    # the reverse cross closes longs
    return o


# 4. two-minute opening-range breakout ---------------------------------------------------------
ORB_FEATURES = ["or2_high", "vol_10s", "vol_avg_2m", "vol_10s_ok", "price"]


def orb_2min() -> StrategyConfig:
    return StrategyConfig("orb_2min", exits=Exits(target=2.0, stop=1.5, time_stop_s=60),
                          selection=Selection(strikes=1), risk=Risk(entry_window=("09:17:00", "15:20:00")),
                          params={"break_above": 3.0, "volume_mult": 2.0})


def orb_signals(F: dict, ok: np.ndarray, cfg: StrategyConfig) -> EntryOrders:
    p = cfg.params
    o = EntryOrders.empty(ok.shape)
    level = F["or2_high"] + p["break_above"]
    above = F["price"] >= level - EPS
    fresh = above & ~np.roll(above, 1, axis=0)   # the second the break happens, not every second after
    fresh[0] = False
    buy = ok & fresh & (F["vol_10s_ok"] > 0) & (F["vol_10s"] >= p["volume_mult"] * F["vol_avg_2m"] * 10.0 - EPS)
    o.side[buy], o.type[buy], o.price[buy] = 1, OrderType.ioc, F["price"][buy]
    return o
