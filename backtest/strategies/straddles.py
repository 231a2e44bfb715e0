"""The theta sellers: the guarded short straddle, its variants 2A-2D and the dynamic-theta straddle
(STRATEGIES.md sections 5 and 6; conversation L5895-5960, L5983-6045).

Every one is legs (CE and PE sold at a strike the selectors pick every second), position rules
(the kill-switch: combined P&L <= -1.0, |dCE - dPE| >= 1.5, |1-minute index ROC| >= 0.25 %; out at
15:05 or 70 % of the credit; a leg's own hard stop +4) and an entry signal: realised 1-minute
sigma < 0.10 % and ATM IV >= 12 inside 10:30-13:00, up to 4 entries a day (L5955: 2-4 a day).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from backtest.selectors import leg_contracts
from backtest.strategies.base import (Adjustment, Check, Cond, Kill, Leg, Plan, PositionRules, Risk, Roll,
                                      StrategyConfig, Strike)

SPOT_FEATURES = ("rv_1m", "atm_iv", "roc_60s")
FEATURES = ("theta_score",)


def _sold(name: str, instrument: str, strike: Strike) -> Leg:
    return Leg(name, instrument=instrument, strike=strike, side=-1)


def _guarded(name: str, legs: list[Leg], combined_stop: float = 1.00, **position) -> StrategyConfig:
    return StrategyConfig(
        name, legs=legs,
        position=PositionRules(session_exit="15:05:00", combined_stop=combined_stop, leg_diff_exit=1.50,
                               kills=[Kill(Cond("roc_60s", ">=", 0.25, abs=True), "spot_move")],
                               credit_capture_pct=70.0, leg_stop=4.00, **position),
        risk=Risk(entry_windows=[("10:30:00", "13:00:00")], max_entries=4),
        params={"max_rv_1m": 0.10, "min_atm_iv": 12.0})


def _atm_straddle() -> list[Leg]:
    return [_sold("ce", "CE", Strike("atm")), _sold("pe", "PE", Strike("atm"))]


def guarded_straddle() -> StrategyConfig:
    """Sell 1x ATM weekly CE + PE (L5903-5909)."""
    return _guarded("guarded_straddle", _atm_straddle())


def guarded_strangle_2a() -> StrategyConfig:
    """2A: the strangle at ATM +- 300 points (the listed strikes nearest spot +- 300), kill -0.7 (L5922)."""
    return _guarded("guarded_strangle_2a", [_sold("ce", "CE", Strike("points", points=300.0)),
                                            _sold("pe", "PE", Strike("points", points=-300.0))], combined_stop=0.70)


def guarded_hedged_2b() -> StrategyConfig:
    """2B: the straddle plus 1 lot of an OTM call bought for about Rs 5 (the call nearest that
    premium; L5923 says +800 points for Rs 5), kill -1.3; the credit is net of the hedge."""
    legs = _atm_straddle() + [Leg("hedge", instrument="CE", strike=Strike("premium", value=5.0, otm_only=True),
                                  side=1)]
    return _guarded("guarded_hedged_2b", legs, combined_stop=1.30)


def guarded_delta_flat_2c() -> StrategyConfig:
    """2C: the straddle; once the index moves 0.2 % from the entry, 1 lot of the index future
    bought (index up) or sold (down) to flatten the delta until an exit (L5924)."""
    legs = _atm_straddle() + [Leg("fut", instrument="FUT", expiry="monthly", strike=Strike("future"), side=1,
                                  added=True, side_from_trigger=True)]
    return _guarded("guarded_delta_flat_2c", legs, adjustments=[
        Adjustment("spot_move", "open_leg", target="fut", threshold=0.2, sign=0)])


def guarded_ladder_2d() -> StrategyConfig:
    """2D: the session in 30-minute buckets; at a bucket end the straddle closes if its P&L is
    >= +0.6, else rolls to the new ATM (when ATM moved) (L5925)."""
    return _guarded("guarded_ladder_2d", _atm_straddle(), check=Check(every_s=1800.0, close_at_pnl=0.6))


def dynamic_theta_straddle() -> StrategyConfig:
    """Sell CE + PE of the strike (ATM +- 5) with the highest theta_score (features: |theta| per
    rupee of a short-option margin proxy, not SPAN); enter when that score is > 1.3x its 10-minute
    median and the credit is >= Rs 20 (L5989-5990); roll after 15 min to a strike scoring 1.2x when
    the P&L is >= 0, Rs 0.15 per leg charged on the roll (L5994, L6044)."""
    ce = _sold("ce", "CE", Strike("feature", feature="theta_score", straddle=True, within=5))
    pe = _sold("pe", "PE", Strike("same_as", leg="ce"))
    cfg = _guarded("dynamic_theta_straddle", [ce, pe],
                   roll=Roll(after_s=900.0, score_mult=1.2, min_pnl=0.0, penalty=0.15, score="theta_score"))
    cfg.risk.min_credit = 20.0
    cfg.params.update(theta_mult=1.3, theta_window_s=600)
    return cfg


def entry_condition(spot: dict, cfg: StrategyConfig) -> np.ndarray:
    p = cfg.params
    with np.errstate(invalid="ignore"):
        return (spot["rv_1m"] < p["max_rv_1m"]) & (spot["atm_iv"] >= p["min_atm_iv"])


def guarded_plan(day, spot: dict, cfg: StrategyConfig) -> Plan:
    """An entry candidate every second the tape is quiet; the legs' selectors pick the strikes."""
    return Plan.every_second(entry_condition(spot, cfg))


def theta_plan(day, spot: dict, cfg: StrategyConfig) -> Plan:
    """As the guarded straddle, and the chosen strike's CE + PE theta_score above `theta_mult` x
    its median over the last `theta_window_s` seconds."""
    ok = entry_condition(spot, cfg)
    p = cfg.params
    picks = leg_contracts(cfg, day)
    if p.get("theta_mult") is not None:
        score = np.nan_to_num(day.F["theta_score"])
        rows = np.arange(len(day.t_s))
        have = (picks[0] >= 0) & (picks[1] >= 0)
        pair = np.where(have, score[rows, np.maximum(picks[0], 0)] + score[rows, np.maximum(picks[1], 0)], np.nan)
        w = int(p["theta_window_s"])
        median = pd.Series(pair).rolling(w, min_periods=w).median().to_numpy()
        with np.errstate(invalid="ignore"):
            ok = ok & (pair > p["theta_mult"] * median)
    return Plan.every_second(ok, leg_contract=picks)
