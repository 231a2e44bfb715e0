"""The theta sellers: guarded short straddle and dynamic-theta straddle (multi-leg).

`signals(day, spot, cfg)` returns a StraddlePlan: per second whether to enter, which CE and PE
contracts to sell, the score used for rolls, and the 1-minute index ROC the spot-move rule watches.
"""
from __future__ import annotations

import numpy as np

from backtest.strategies.base import Exits, Risk, Selection, StraddlePlan, StrategyConfig
from transforms.expiry import strike_step

SPOT_FEATURES = ("rv_1m", "atm_iv", "roc_60s")
FEATURES = ("theta_score",)


def _straddle_defaults(name: str, **params) -> StrategyConfig:
    multi = {"combined_stop": 1.00, "leg_diff_exit": 1.50, "spot_roc_exit": 0.25, "credit_capture": 0.70,
             "leg_stop": 4.00, "max_rv_1m": 0.10, "min_atm_iv": 12.0, **params}
    return StrategyConfig(name, exits=Exits(session_exit="15:05:00"),
                          risk=Risk(entry_window=("10:30:00", "13:00:00")), selection=Selection(strikes=0),
                          params=multi)


def guarded_straddle() -> StrategyConfig:
    return _straddle_defaults("guarded_straddle")


def dynamic_theta_straddle() -> StrategyConfig:
    return _straddle_defaults("dynamic_theta_straddle", roll_after_s=900.0, roll_score_mult=1.2, strikes=5)


def _by_strike(strikes: np.ndarray, types: np.ndarray, want: str) -> dict[int, int]:
    return {int(k): c for c, (k, t) in enumerate(zip(strikes, types)) if t == want}


def _contract_at(strike_per_s: np.ndarray, by_strike: dict[int, int]) -> np.ndarray:
    """[S] contract index of the strike wanted each second (-1 when none or not listed)."""
    out = np.full(strike_per_s.shape[0], -1, np.int64)
    if not by_strike:
        return out
    listed = np.array(sorted(by_strike), np.int64)
    index = np.array([by_strike[k] for k in listed], np.int64)
    want = ~np.isnan(strike_per_s)
    k = strike_per_s[want].astype(np.int64)
    pos = np.minimum(np.searchsorted(listed, k), len(listed) - 1)
    out[want] = np.where(listed[pos] == k, index[pos], -1)
    return out


def _legs_at(strike_per_s: np.ndarray, ce: dict, pe: dict) -> tuple[np.ndarray, np.ndarray]:
    return _contract_at(strike_per_s, ce), _contract_at(strike_per_s, pe)


def entry_condition(spot: dict, cfg: StrategyConfig) -> np.ndarray:
    p = cfg.params
    return (spot["rv_1m"] < p["max_rv_1m"]) & (spot["atm_iv"] >= p["min_atm_iv"])


def guarded_plan(day, spot: dict, cfg: StrategyConfig) -> StraddlePlan:
    """Sell the ATM strike (from spot each second)."""
    ce = _by_strike(day.contracts.strike, day.contracts.opt_type, "CE")
    pe = _by_strike(day.contracts.strike, day.contracts.opt_type, "PE")
    leg_ce, leg_pe = _legs_at(day.atm, ce, pe)
    return StraddlePlan(entry_condition(spot, cfg), leg_ce, leg_pe, np.zeros(day.Q.shape[:2]), spot["roc_60s"])


def theta_plan(day, spot: dict, cfg: StrategyConfig) -> StraddlePlan:
    """Sell the strike (within ATM +- strikes) with the highest combined CE+PE theta score."""
    score = np.nan_to_num(day.F["theta_score"])
    ce = _by_strike(day.contracts.strike, day.contracts.opt_type, "CE")
    pe = _by_strike(day.contracts.strike, day.contracts.opt_type, "PE")
    strikes = np.array(sorted(set(ce) & set(pe)), dtype=np.int64)
    if not len(strikes):
        empty = np.full(len(day.t_s), -1, np.int64)
        return StraddlePlan(np.zeros(len(day.t_s), bool), empty, empty, score, spot["roc_60s"])
    pair = score[:, [ce[k] for k in strikes]] + score[:, [pe[k] for k in strikes]]
    near = np.abs(strikes[None, :] - day.atm[:, None]) <= cfg.params["strikes"] * strike_step(day.underlying)
    pair = np.where(near, pair, -np.inf)
    best = strikes[np.argmax(pair, axis=1)].astype(float)
    best[~np.isfinite(pair.max(axis=1)) | np.isnan(day.atm)] = np.nan
    leg_ce, leg_pe = _legs_at(best, ce, pe)
    return StraddlePlan(entry_condition(spot, cfg), leg_ce, leg_pe, score, spot["roc_60s"])
