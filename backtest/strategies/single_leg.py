"""The single-contract scalps: order-book swipe, volume-spike ladder, micro-EMA flip, 2-minute ORB.

Each is `default()` (the trader's rules, STRATEGIES.md section 1), *_FEATURES (what its signal
reads) and a per-contract rule `*_signals(F, ok, cfg) -> OrderBook`: F maps feature names to
[second, contract] matrices, `ok` marks the tradable, selected contracts (base.on_selected_contracts
makes it the catalogue's `signals(day, spot, cfg)`). The one leg's contract is the signal's pick
(`strike.by = "signal"`); its order is the signal's (a limit at bid + 0.05, an IOC at the LTP).
"""
from __future__ import annotations

import numpy as np

from backtest.enums import OrderType
from backtest.strategies.base import (Cond, Exits, Leg, Order, OrderBook, Risk, Selection, StrategyConfig, Strike,
                                      crossed_above, rising)

EPS = 1e-9


def scalp_leg(order: Order | None = None) -> list[Leg]:
    """The one leg of a scalp: the contract and side the signal picks, its order the signal's."""
    return [Leg("scalp", instrument="option", strike=Strike(by="signal"), side=1,
                order=order or Order("limit", "signal"))]


def _limit(o: OrderBook, mask: np.ndarray, side: int, px: np.ndarray) -> None:
    """Limit orders at `px`, kept exactly on the paise grid (bid + 0.05 must not be 50.050000000000004)."""
    o.side[mask], o.type[mask], o.price[mask] = side, OrderType.limit, np.round(px[mask], 2)


# 1. order-book imbalance swipe (#2) ---------------------------------------------------------------
OB_FEATURES = ["depth_ratio5", "depth_bid5", "depth_ask5", "spread", "bid_px0", "ask_px0"]


def ob_imbalance() -> StrategyConfig:
    """Join the dominant side when the 5-level depth ratio is >= 2.5 and rising 3 snapshots, the
    spread <= 0.40 and the depth > 1,000 lots each side (L577, L884-893); TP +2 / SL -1.5, unfilled
    limits cancelled on arrival; out when the imbalance ratio falls below 1 (L580)."""
    return StrategyConfig("ob_imbalance", legs=scalp_leg(Order("limit", "signal", timeout_s=0)),
                          exits=Exits(target=2.0, stop=1.5, close_long_when=Cond("depth_ratio5", "<", 1.0),
                                      close_short_when=Cond("depth_ratio5", ">", 1.0)),
                          params={"ratio_min": 2.5, "rising_s": 3, "max_spread": 0.40, "offset": 0.05,
                                  "sell_ask_heavy": False, "min_depth_lots": 1000})


def ob_signals(F: dict, ok: np.ndarray, cfg: StrategyConfig) -> OrderBook:
    p, r = cfg.params, F["depth_ratio5"]
    o = OrderBook(ok.shape)
    tight = F["spread"] <= p["max_spread"] + EPS
    if p["min_depth_lots"] is not None:
        with np.errstate(invalid="ignore"):
            floor = p["min_depth_lots"] * F["lot"]
            tight = tight & (F["depth_bid5"] > floor) & (F["depth_ask5"] > floor)
    buy = ok & tight & (r >= p["ratio_min"] - EPS) & rising(r, p["rising_s"])
    _limit(o, buy, 1, F["bid_px0"] + p["offset"])
    if p["sell_ask_heavy"]:
        sell = ok & tight & (r <= 1.0 / p["ratio_min"] + EPS) & rising(-r, p["rising_s"]) & ~buy
        _limit(o, sell, -1, F["ask_px0"] - p["offset"])
    return o


# 2. volume-spike ladder (#16) ----------------------------------------------------------------------
VS_FEATURES = ["vol_30s", "vol_5m", "vol_30s_ok", "vol_5m_ok", "higher_highs", "spread", "bid_px0"]


def volume_spike_ladder() -> StrategyConfig:
    """09:45-11:00; 30-s volume >= 3x the 5-minute average, 3 higher highs, spread <= 0.40; limit
    at bid + 0.05 (L723, L936-944). The spec pack's exit (L945-951): hard SL -1.5, trail once
    +1.5 at LTP - 0.80 (the trail follows trades, as specified)."""
    return StrategyConfig("volume_spike_ladder", legs=scalp_leg(Order("limit", "signal", timeout_s=0)),
                          exits=Exits(stop=1.5, trail_activate=1.5, trail_offset=0.8, trail_on_ltp=True),
                          risk=Risk(entry_windows=[("09:45:00", "11:00:00")]),
                          params={"spike_mult": 3.0, "higher_highs": 3, "max_spread": 0.40, "offset": 0.05})


def volume_spike_ladder_stepped() -> StrategyConfig:
    """The table's stepped exit (L723): +1 -> stop at -0.5, +2 -> lock +0.5, +3 -> trail 0.5
    behind the LTP; the hard stop -1.5 until the first step."""
    cfg = volume_spike_ladder()
    cfg.name = "volume_spike_ladder_stepped"
    cfg.exits = Exits(stop=1.5, locks=[(1.0, -0.5), (2.0, 0.5)], trail_activate=3.0, trail_offset=0.5,
                      trail_on_ltp=True)
    return cfg


def vs_signals(F: dict, ok: np.ndarray, cfg: StrategyConfig) -> OrderBook:
    p = cfg.params
    o = OrderBook(ok.shape)
    per_30s_avg = F["vol_5m"] / 10.0          # the 5-minute volume per 30 s
    valid = (F["vol_30s_ok"] > 0) & (F["vol_5m_ok"] > 0)
    buy = (ok & valid & (F["vol_30s"] >= p["spike_mult"] * per_30s_avg - EPS) & (per_30s_avg > 0)
           & (F["higher_highs"] >= p["higher_highs"]) & (F["spread"] <= p["max_spread"] + EPS))
    _limit(o, buy, 1, F["bid_px0"] + p["offset"])
    return o


# 3. micro-EMA flip (#4) ----------------------------------------------------------------------------
EMA_FEATURES = ["ema6", "ema18", "ema6_slope", "spread", "bid_px0", "ask_px0"]


def micro_ema_flip() -> StrategyConfig:
    """EMA6 crosses EMA18 with |slope| > 0.02 /s: long on the up-cross, short on the down-cross
    (L597-601, L962-964); market, or a limit a tick inside the touch when the spread <= 0.25;
    SL -1.5, at +1.5 the stop to entry -0.30, then 1.00 behind the last-trade high; out when the
    cross reverses (L605, L970-976)."""
    return StrategyConfig("micro_ema_flip", legs=scalp_leg(Order("market", "signal", timeout_s=0)),
                          exits=Exits(stop=1.5, locks=[(1.5, -0.30)], trail_activate=1.5, trail_offset=1.0,
                                      trail_on_ltp=True, close_long_when=Cond("ema6", "cross_below", "ema18"),
                                      close_short_when=Cond("ema6", "cross_above", "ema18")),
                          params={"min_slope": 0.02, "limit_if_spread_le": 0.25, "offset": 0.05, "short": True})


def ema_signals(F: dict, ok: np.ndarray, cfg: StrategyConfig) -> OrderBook:
    p = cfg.params
    o = OrderBook(ok.shape)
    e6, e18 = F["ema6"], F["ema18"]
    tight = F["spread"] <= p["limit_if_spread_le"] + EPS
    buy = ok & crossed_above(e6, e18) & (F["ema6_slope"] > p["min_slope"])
    o.side[buy] = 1
    o.type[buy & ~tight] = OrderType.market
    _limit(o, buy & tight, 1, F["bid_px0"] + p["offset"])
    if p["short"]:
        sell = ok & crossed_above(e18, e6) & (F["ema6_slope"] < -p["min_slope"])
        o.side[sell] = -1
        o.type[sell & ~tight] = OrderType.market
        _limit(o, sell & tight, -1, F["ask_px0"] - p["offset"])
    return o


# 4. two-minute opening-range breakout (#1) ---------------------------------------------------------
ORB_FEATURES = ["or2_high", "or2_low", "vol_10s", "vol_avg_2m", "vol_10s_ok", "price"]


def orb_2min() -> StrategyConfig:
    """09:15-09:25 only (L561), the range of 09:15:00-09:17:00 (L990) known from 09:17; ATM +- 1
    weekly CE and PE, the leg that breaks first (one entry a day); LTP >= range high + 3 with the
    10-s volume >= 2x the 2-minute average (L994), the break down symmetric (short); IOC at the
    breakout LTP (L997); TP +2, SL -1.5, 60 s time stop (L1000-1003)."""
    return StrategyConfig("orb_2min", legs=scalp_leg(Order("ioc", "signal")),
                          exits=Exits(target=2.0, stop=1.5, time_stop_s=60), selection=Selection(strikes=1),
                          risk=Risk(entry_windows=[("09:17:00", "09:25:00")], max_entries=1),
                          params={"break_above": 3.0, "volume_mult": 2.0, "break_down": True})


def orb_signals(F: dict, ok: np.ndarray, cfg: StrategyConfig) -> OrderBook:
    p = cfg.params
    o = OrderBook(ok.shape)
    volume = (F["vol_10s_ok"] > 0) & (F["vol_10s"] >= p["volume_mult"] * F["vol_avg_2m"] * 10.0 - EPS)
    directions = [(1, F["price"] >= F["or2_high"] + p["break_above"] - EPS)]
    if p["break_down"]:
        directions.append((-1, F["price"] <= F["or2_low"] - p["break_above"] + EPS))
    for side, beyond in directions:
        fresh = beyond & ~np.roll(beyond, 1, axis=0)   # the second the break happens, not every second after
        fresh[0] = False
        hit = ok & fresh & volume & (o.side == 0)
        o.side[hit], o.type[hit], o.price[hit] = side, OrderType.ioc, F["price"][hit]
    return o

