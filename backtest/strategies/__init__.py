"""The strategy catalogue: name -> default config, the features its signal reads, its signal function.

Every strategy has the one signature `signals(day, spot, cfg) -> Plan` and runs on the one position
engine; the features its config's rules and selectors read are added by backtest.compile.
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
    Strategy("volume_spike_ladder_stepped", S.volume_spike_ladder_stepped, tuple(S.VS_FEATURES),
             on_selected_contracts(S.vs_signals)),
    Strategy("micro_ema_flip", S.micro_ema_flip, tuple(S.EMA_FEATURES), on_selected_contracts(S.ema_signals)),
    Strategy("orb_2min", S.orb_2min, tuple(S.ORB_FEATURES), on_selected_contracts(S.orb_signals)),
    Strategy("guarded_straddle", M.guarded_straddle, (), M.guarded_plan, M.SPOT_FEATURES),
    Strategy("guarded_strangle_2a", M.guarded_strangle_2a, (), M.guarded_plan, M.SPOT_FEATURES),
    Strategy("guarded_hedged_2b", M.guarded_hedged_2b, (), M.guarded_plan, M.SPOT_FEATURES),
    Strategy("guarded_delta_flat_2c", M.guarded_delta_flat_2c, (), M.guarded_plan, M.SPOT_FEATURES),
    Strategy("guarded_ladder_2d", M.guarded_ladder_2d, (), M.guarded_plan, M.SPOT_FEATURES),
    Strategy("dynamic_theta_straddle", M.dynamic_theta_straddle, M.FEATURES, M.theta_plan, M.SPOT_FEATURES),
)}
# the rest of the trader's catalogue (issue #17): cards in backtest/strategies/cards/*.toml
from backtest.strategies import scalps as _SC  # noqa: E402
from backtest.strategies import theta_flow as _TF  # noqa: E402
from backtest.strategies import history_plays as _HP  # noqa: E402
from backtest.strategies import patterns as _PT  # noqa: E402
from backtest.strategies import divergence as _DV  # noqa: E402

CATALOGUE.update({name: Strategy(name, default, tuple(opts), _SC.per_contract(rule), tuple(spot))
                  for name, default, rule, opts, spot in _SC.ENTRIES + _PT.ENTRIES})
CATALOGUE.update({name: Strategy(name, default, tuple(opts), plan, tuple(spot))
                  for name, default, plan, opts, spot in _TF.ENTRIES + _HP.ENTRIES + _DV.ENTRIES})
# the six strategies the engine replaced two kernels for (issue #16 proves them against the old trades)
ORIGINAL_SIX = ("ob_imbalance", "volume_spike_ladder", "micro_ema_flip", "orb_2min", "guarded_straddle",
                "dynamic_theta_straddle")
# what Dagster backtests per partition (and so the demo): the six with the stepped ladder and the
# guarded variants. Asset per strategy x partition is what makes a run cost minutes, so the rest of
# the catalogue runs through `ticklake backtest --all` / `--family`, which reads each day once.
DAILY = ORIGINAL_SIX + ("volume_spike_ladder_stepped", "guarded_strangle_2a", "guarded_hedged_2b",
                        "guarded_delta_flat_2c", "guarded_ladder_2d")


def get(name: str) -> Strategy:
    if name not in CATALOGUE:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(sorted(CATALOGUE))}")
    return CATALOGUE[name]
