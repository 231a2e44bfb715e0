"""The strategy catalogue: name -> default config, the features it reads, its signal function.

Every strategy has the one signature `signals(day, spot, cfg) -> plan`; the plan's type names the
engine (backtest.strategies.base), so the run never asks which kind of strategy it holds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from backtest.strategies import single_leg as S
from backtest.strategies import straddles as M
from backtest.strategies.base import Signals, on_selected_contracts


@dataclass(frozen=True)
class Strategy:
    name: str
    default: Callable
    features: tuple[str, ...]               # features_options columns the signals read
    signals: Signals
    spot_features: tuple[str, ...] = ()     # features_spot columns the signals read


CATALOGUE: dict[str, Strategy] = {s.name: s for s in (
    Strategy("ob_imbalance", S.ob_imbalance, tuple(S.OB_FEATURES), on_selected_contracts(S.ob_signals)),
    Strategy("volume_spike_ladder", S.volume_spike_ladder, tuple(S.VS_FEATURES), on_selected_contracts(S.vs_signals)),
    Strategy("micro_ema_flip", S.micro_ema_flip, tuple(S.EMA_FEATURES), on_selected_contracts(S.ema_signals)),
    Strategy("orb_2min", S.orb_2min, tuple(S.ORB_FEATURES), on_selected_contracts(S.orb_signals)),
    Strategy("guarded_straddle", M.guarded_straddle, (), M.guarded_plan, M.SPOT_FEATURES),
    Strategy("dynamic_theta_straddle", M.dynamic_theta_straddle, M.FEATURES, M.theta_plan, M.SPOT_FEATURES),
)}


def get(name: str) -> Strategy:
    if name not in CATALOGUE:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(sorted(CATALOGUE))}")
    return CATALOGUE[name]
