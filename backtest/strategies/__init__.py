"""The strategy catalogue: name -> (default config factory, features read, signal function)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from backtest.strategies import single_leg as S
from backtest.strategies import straddles as M


@dataclass(frozen=True)
class Strategy:
    name: str
    default: Callable
    features: tuple[str, ...]
    signals: Callable
    legs: int = 1


CATALOGUE: dict[str, Strategy] = {s.name: s for s in (
    Strategy("ob_imbalance", S.ob_imbalance, tuple(S.OB_FEATURES), S.ob_signals),
    Strategy("volume_spike_ladder", S.volume_spike_ladder, tuple(S.VS_FEATURES), S.vs_signals),
    Strategy("micro_ema_flip", S.micro_ema_flip, tuple(S.EMA_FEATURES), S.ema_signals),
    Strategy("orb_2min", S.orb_2min, tuple(S.ORB_FEATURES), S.orb_signals),
    Strategy("guarded_straddle", M.guarded_straddle, (), M.guarded_plan, legs=2),
    Strategy("dynamic_theta_straddle", M.dynamic_theta_straddle, M.FEATURES, M.theta_plan, legs=2),
)}


def get(name: str) -> Strategy:
    if name not in CATALOGUE:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(sorted(CATALOGUE))}")
    return CATALOGUE[name]
