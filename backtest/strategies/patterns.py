"""The spec pack's technical patterns on an option's own 1-second LTP (STRATEGIES.md section 2,
C-9..C-12, L1667-1674; "short-horizon adaptations"): C-9 micro double bottom, C-10 30-second
flag and C-12 speed-line break. Single-leg scalps like backtest.strategies.scalps (same `per_contract` rules, TP/SL of the
spec pack); their cards (cards/specs.toml) give every reading of the seed's terse rows.
"""
from __future__ import annotations

import numpy as np

from backtest.enums import OrderType
from backtest.kernels.patterns import double_bottom, speed_line_break
from backtest.strategies import derived as D
from backtest.strategies.base import Exits, Order, OrderBook, StrategyConfig
from backtest.strategies.scalps import EPS, FIXED, _ffill, _first, _order, _scalp


# C-9 micro double bottom (L1669) ------------------------------------------------------------------------------------
def micro_double_bottom() -> StrategyConfig:
    return _scalp("micro_double_bottom", Exits(stop=1.5, target=4.0), Order("market", "signal", timeout_s=0),
                  params={"lookback_s": 90, "lows_within": 1.0, "min_height": 2.0, "offset": 0.10, "target_cap": 4.0})


def double_bottom_rule(day, spot, F, ok, cfg) -> OrderBook:
    """Over the last 90 s two lows within Rs 1 with an interim high (the neckline) at least Rs 2
    above them; the LTP reaching neckline + 0.10 is the entry, a market buy (a buy-stop at the
    neckline + 0.10). Out at the pattern's height over that level (at most 4: the engine's target
    caps it), or the SL -1.5."""
    p, o = cfg.params, OrderBook(ok.shape)
    ltp = np.ascontiguousarray(F["ltp"], dtype=np.float64)
    neck, height = double_bottom(ltp, int(p["lookback_s"]), float(p["lows_within"]), float(p["min_height"]),
                                 float(p["offset"]))
    hit = ok & ~np.isnan(neck)
    _order(o, hit, 1, OrderType.market)
    # the pattern's own target: the bid at the trigger level + the height (capped), from each signal on
    goal = np.where(hit, neck + p["offset"] + np.minimum(height, p["target_cap"]), np.nan)
    goal = _ffill(goal)
    with np.errstate(invalid="ignore"):
        o.exit_side[F["bid"] >= goal - EPS] = -1
    return o


# C-10 30-second flag (L1670) ----------------------------------------------------------------------------------------
def flag_30s() -> StrategyConfig:
    return _scalp("flag_30s", Exits(**FIXED), Order("ioc", "signal"),
                  params={"pole": 6.0, "pole_s": 30, "flag_s": 10, "flag_range": 2.0, "offset": 0.10})


def flag_rule(day, spot, F, ok, cfg) -> OrderBook:
    """A pole: the LTP >= 6 over its low of the 30 s before, at the second before the flag; the flag:
    the `flag_s` (10) seconds since, high - low <= 2; the breakout: the LTP over the flag's high:
    an IOC buy at that LTP + 0.10. TP +2 / SL -1.5 (the seed's exit column is empty)."""
    p, o = cfg.params, OrderBook(ok.shape)
    ltp, n = F["ltp"], int(p["flag_s"])
    with np.errstate(invalid="ignore"):
        flag_hi, flag_lo = D.lag(D.rolling_max(ltp, n), 1), D.lag(D.rolling_min(ltp, n), 1)
        pole = D.lag(ltp - D.rolling_min(ltp, int(p["pole_s"]) + 1), n + 1) >= p["pole"] - EPS
        tight = flag_hi - flag_lo <= p["flag_range"] + EPS
        hit = ok & pole & tight & (ltp > flag_hi + EPS)
    _order(o, _first(hit), 1, OrderType.ioc, ltp + p["offset"])
    return o


# C-12 speed-line break (L1672) -------------------------------------------------------------------------------------
def speed_line_break_short() -> StrategyConfig:
    return _scalp("speed_line_break", Exits(**FIXED), Order("market", "signal", timeout_s=0),
                  params={"touch": 0.10, "break_by": 0.10})


def speed_line_rule(day, spot, F, ok, cfg) -> OrderBook:
    """The rising line through the option's last two 1-minute pivot lows: once the LTP has touched
    it (within 0.10), the first LTP 0.10 under it breaks the support: sell the option at market.
    TP +2 / SL -1.5 (the seed gives no exit)."""
    p, o = cfg.params, OrderBook(ok.shape)
    line = speed_line_break(day.t_s, np.ascontiguousarray(F["ltp"], dtype=np.float64), float(p["touch"]),
                            float(p["break_by"]))
    _order(o, ok & ~np.isnan(line), -1, OrderType.market)
    return o


# the catalogue entries: (name, default, rule, features_options read, features_spot read)
ENTRIES = [
    ("micro_double_bottom", micro_double_bottom, double_bottom_rule, (), ()),
    ("flag_30s", flag_30s, flag_rule, (), ()),
    ("speed_line_break", speed_line_break_short, speed_line_rule, (), ()),
]
