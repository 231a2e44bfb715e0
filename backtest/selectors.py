"""Leg selectors: the contract each leg spec trades if a position opened at second i (numpy).

`leg_contracts(cfg, day)` returns [legs, S] contract indices (-1: none that second). Each leg's
candidates are the loaded contracts of its instrument and expiry (backtest.data.DayData.expiry_of);
strikes are picked per second from spot and the day's features (backtest.strategies.base.Strike):

  atm       ATM + steps strikes (ATM from spot: transforms.expiry.atm_strike)
  points    the listed strike nearest spot + points (a tie goes up)
  delta     |delta| nearest `value`            premium   the mid nearest `value`
  feature   the highest `feature` (of the strike's CE + PE when `straddle`; the lowest strike on a tie)
  max_oi    the most open interest             same_as   leg `leg`'s strike, this leg's type and expiry
  future    the index future                   signal    none: the plan picks leg 0's contract
`within` keeps delta / premium / feature / max_oi to ATM +- within strikes, `otm_only` to
out-of-the-money strikes (a call above spot, a put below).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from backtest.enums import Quote
from transforms.expiry import strike_step

if TYPE_CHECKING:           # the config types only annotate: the strategies import this module
    from backtest.strategies.base import Leg, StrategyConfig

SELECTORS = ("atm", "points", "delta", "premium", "feature", "max_oi", "same_as", "future", "signal")


def features_of(leg: Leg) -> set[str]:
    """The features_options columns a leg's selector reads."""
    s = leg.strike
    return {"delta": {"delta"}, "feature": {s.feature}, "max_oi": {"oi"}}.get(s.by, set())


def _at_strike(day, mask: np.ndarray, strike_per_s: np.ndarray) -> np.ndarray:
    """[S] the contract among `mask` listed at each second's strike (-1 when none or not listed)."""
    cs = np.flatnonzero(mask)
    out = np.full(len(strike_per_s), -1, np.int64)
    if not len(cs):
        return out
    strikes = day.contracts.strike[cs]
    order = np.argsort(strikes, kind="stable")
    listed, index = strikes[order], cs[order]
    want = ~np.isnan(strike_per_s)
    k = strike_per_s[want].astype(np.int64)
    pos = np.minimum(np.searchsorted(listed, k), len(listed) - 1)
    out[want] = np.where(listed[pos] == k, index[pos], -1)
    return out


def _nearest_strike(day, mask: np.ndarray, target: np.ndarray) -> np.ndarray:
    """[S] the contract among `mask` whose strike is nearest `target` (a tie goes to the higher strike)."""
    cs = np.flatnonzero(mask)
    out = np.full(len(target), -1, np.int64)
    if not len(cs):
        return out
    strikes = day.contracts.strike[cs].astype(float)
    order = np.argsort(strikes, kind="stable")
    listed, index = strikes[order], cs[order]
    ok = ~np.isnan(target)
    hi = np.clip(np.searchsorted(listed, target[ok]), 0, len(listed) - 1)
    lo = np.maximum(hi - 1, 0)
    take_hi = np.abs(listed[hi] - target[ok]) <= np.abs(listed[lo] - target[ok])
    out[ok] = np.where(take_hi, index[hi], index[lo])
    return out


def _argbest(score: np.ndarray, allowed: np.ndarray, cs: np.ndarray) -> np.ndarray:
    """[S] cs[argmax of score over the allowed columns] (-1 when none is allowed and finite)."""
    s = np.where(allowed, score, -np.inf)
    best = np.argmax(s, axis=1)
    ok = np.isfinite(s[np.arange(len(s)), best])
    return np.where(ok, cs[best], -1)


def _band(day, leg: Leg, cs: np.ndarray) -> np.ndarray:
    """[S, len(cs)] the strikes a search may take: within ATM +- `within`, out of the money."""
    s = leg.strike
    strikes = day.contracts.strike[cs].astype(float)
    ok = np.ones((len(day.t_s), len(cs)), bool)
    if s.within is not None:
        ok &= np.abs(strikes[None, :] - day.atm[:, None]) <= s.within * strike_step(day.underlying) + 1e-9
    if s.otm_only:
        calls = day.contracts.opt_type[cs] == "CE"
        ok &= np.where(calls[None, :], strikes[None, :] > day.spot[:, None], strikes[None, :] < day.spot[:, None])
    return ok


def leg_contract(cfg: StrategyConfig, day, n: int, picked: dict[str, np.ndarray]) -> np.ndarray:
    """[S] the contract leg n picks each second (`picked`: the legs picked so far, for same_as)."""
    leg = cfg.legs[n]
    s = leg.strike
    S = len(day.t_s)
    if s.by not in SELECTORS:
        raise ValueError(f"{cfg.name}: legs.{leg.name}.strike.by {s.by!r} is not one of {', '.join(SELECTORS)}")
    if s.by == "signal":
        return np.full(S, -1, np.int64)
    if leg.instrument == "FUT" or s.by == "future":
        c = day.future_index(leg.on_expiry_day)
        return np.full(S, c, np.int64)
    mask = day.contract_mask(leg.instrument, leg.expiry, leg.on_expiry_day)
    step = strike_step(day.underlying)
    if s.by == "atm":
        return _at_strike(day, mask, day.atm + s.steps * step)
    if s.by == "points":
        return _nearest_strike(day, mask, day.spot + s.points)
    if s.by == "same_as":
        other = picked[s.leg]
        strike = np.where(other >= 0, day.contracts.strike[np.maximum(other, 0)].astype(float), np.nan)
        return _at_strike(day, mask, strike)
    cs = np.flatnonzero(mask)
    if not len(cs):
        return np.full(S, -1, np.int64)
    allowed = _band(day, leg, cs)
    if s.by == "delta":
        return _argbest(-np.abs(np.abs(day.F["delta"][:, cs]) - s.value), allowed, cs)
    if s.by == "premium":
        mid = 0.5 * (day.Q[:, cs, Quote.bid] + day.Q[:, cs, Quote.ask])
        return _argbest(-np.abs(mid - s.value), allowed, cs)
    if s.by == "max_oi":
        return _argbest(day.F["oi"][:, cs], allowed, cs)
    if not s.straddle:                      # feature
        return _argbest(day.F[s.feature][:, cs], allowed, cs)
    return _best_straddle_strike(day, leg, mask)


def _best_straddle_strike(day, leg: Leg, mask: np.ndarray) -> np.ndarray:
    """The leg's type at the strike whose CE + PE `feature` is highest within ATM +- `within`."""
    s = leg.strike
    other = day.contract_mask("PE" if leg.instrument == "CE" else "CE", leg.expiry, leg.on_expiry_day)
    mine = {int(day.contracts.strike[c]): c for c in np.flatnonzero(mask)}
    theirs = {int(day.contracts.strike[c]): c for c in np.flatnonzero(other)}
    strikes = np.array(sorted(set(mine) & set(theirs)), dtype=np.int64)
    S = len(day.t_s)
    if not len(strikes):
        return np.full(S, -1, np.int64)
    score = np.nan_to_num(day.F[s.feature])
    pair = score[:, [mine[k] for k in strikes]] + score[:, [theirs[k] for k in strikes]]
    if s.within is not None:
        near = np.abs(strikes[None, :] - day.atm[:, None]) <= s.within * strike_step(day.underlying)
        pair = np.where(near, pair, -np.inf)
    best = strikes[np.argmax(pair, axis=1)].astype(float)
    best[~np.isfinite(pair.max(axis=1)) | np.isnan(day.atm)] = np.nan
    return _at_strike(day, mask, best)


def leg_contracts(cfg: StrategyConfig, day) -> np.ndarray:
    """[legs, S] every leg's pick per second."""
    picked: dict[str, np.ndarray] = {}
    out = np.full((len(cfg.legs), len(day.t_s)), -1, np.int64)
    for n, leg in enumerate(cfg.legs):
        if leg.strike.by == "same_as" and leg.strike.leg not in picked:
            raise ValueError(f"{cfg.name}: legs.{leg.name}.strike.leg {leg.strike.leg!r} is not an earlier leg")
        out[n] = picked[leg.name] = leg_contract(cfg, day, n, picked)
    return out
