"""The option book of the generator: liquidity, spreads, depth and trading by moneyness, expiry and
time of day, from the `book` section of `generator/data/market_fit.json`.

Liquidity is the bhavcopy's traded volume relative to the nearest expiry's ATM option (1.0): it decays
per strike step out of the money, faster in the money, round strikes trade more, the second expiry
far less. Spreads, touch sizes and trade rates follow liquidity with the judgement exponents of the
fit file (there is no real quote data: each such parameter says so where it is defined).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from generator.index_model import market_fit

TICK = 5                     # paise


@dataclass(frozen=True)
class BookFit:
    otm_decay: float
    itm_decay: float
    round_strike: float
    round_every: dict[str, int]
    second_expiry: dict[str, float]
    spread_atm: float
    spread_liquidity_power: float
    spread_premium: float
    spread_jitter: float
    spread_open: tuple
    spread_close: tuple
    touch_lots_atm: float
    depth_level_growth: float
    depth_liquidity_power: float
    trade_prob_atm: float
    trade_liquidity_power: float
    trade_lots: float
    trade_sign_persistence: float
    update_prob_floor: float
    futures_spread: dict[str, float]
    futures_touch_lots: float


@functools.lru_cache(maxsize=1)
def load_book() -> BookFit:
    b = market_fit()["book"]
    return BookFit(**{k: (tuple(map(tuple, v["value"])) if k in ("spread_open", "spread_close") else v["value"])
                      for k, v in b.items()})


def liquidity(fit: BookFit, underlying: str, strike: int, opt_type: str, spot: np.ndarray, step: int,
              second_expiry: bool) -> np.ndarray:
    """Per second: traded volume relative to the nearest expiry's ATM option."""
    d = (strike - spot) / step * (1.0 if opt_type == "CE" else -1.0)   # > 0 out of the money
    out = np.exp(-fit.otm_decay * np.abs(d) - fit.itm_decay * np.maximum(-d, 0.0))
    if strike % fit.round_every[underlying] == 0:
        out *= fit.round_strike
    if second_expiry:
        out *= fit.second_expiry[underlying]
    return out


def time_of_day(fit: BookFit, n: int) -> np.ndarray:
    """Spread multiplier per session second: wide at the open, again toward the close."""
    pts = list(fit.spread_open) + list(fit.spread_close)
    return np.interp(np.arange(n), [p[0] for p in pts], [p[1] for p in pts])


def _jitter(rng: np.random.Generator, n: int, sd: float, tau: float = 10.0) -> np.ndarray:
    """A persistent (AR(1), ~10 s) log-normal factor of mean 1: spreads do not flicker every second."""
    phi = math.exp(-1.0 / tau)
    x, _ = lfilter([1.0], [1.0, -phi], rng.standard_normal(n) * sd * math.sqrt(1 - phi * phi),
                   zi=[phi * rng.standard_normal() * sd])
    return np.exp(x - 0.5 * sd * sd)


def spread_ticks(fit: BookFit, rng: np.random.Generator, fair: np.ndarray, liq: np.ndarray,
                 tod: np.ndarray) -> np.ndarray:
    """The quoted spread in ticks (>= 1) per second."""
    rupees = (fit.spread_atm * liq ** -fit.spread_liquidity_power + fit.spread_premium * fair) * tod
    rupees *= _jitter(rng, len(fair), fit.spread_jitter)
    return np.maximum(1, np.round(rupees * 100.0 / TICK)).astype(np.int64)


def futures_spread_ticks(fit: BookFit, rng: np.random.Generator, underlying: str, tod: np.ndarray) -> np.ndarray:
    rupees = fit.futures_spread[underlying] * tod * _jitter(rng, len(tod), fit.spread_jitter)
    return np.maximum(1, np.round(rupees * 100.0 / TICK)).astype(np.int64)


def touch_lots(fit: BookFit, liq: np.ndarray) -> np.ndarray:
    return np.maximum(1.0, fit.touch_lots_atm * liq ** fit.depth_liquidity_power)


def trade_size(fit: BookFit, activity: np.ndarray) -> np.ndarray:
    """Mean lots of a trade: larger when the market is busy (volume and volatility move together)."""
    return np.maximum(1.0, fit.trade_lots * activity)


def trade_prob(fit: BookFit, liq: np.ndarray, activity: np.ndarray) -> np.ndarray:
    """Probability of a trade in a second: liquidity, and more when the index is busy (activity: the
    second's index volatility over the day's mean, profile and clustering)."""
    return np.clip(fit.trade_prob_atm * liq ** fit.trade_liquidity_power * activity, 0.0, 0.97)
