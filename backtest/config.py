"""Strategy configs from files: a TOML or JSON file overrides the strategy's defaults, section by
section (exits, risk, selection, params, execution.{latency,fill,slippage,fees}, each execution
slot optionally naming its `model`). Unknown keys fail loudly."""
from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path

from backtest.strategies import get
from backtest.strategies.base import StrategyConfig


def _merge(obj, overrides: dict, where: str):
    names = {f.name for f in dataclasses.fields(obj)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise KeyError(f"{where}: unknown keys {', '.join(unknown)}")
    return dataclasses.replace(obj, **{k: (tuple(v) if isinstance(getattr(obj, k), tuple) else v)
                                       for k, v in overrides.items()})


SECTIONS = ("exits", "risk", "selection", "params", "execution")


def apply_overrides(cfg: StrategyConfig, data: dict) -> StrategyConfig:
    """`cfg` with the sections of `data` merged in (the execution models not named keep theirs)."""
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise KeyError(f"config: unknown sections {', '.join(unknown)}")
    if "exits" in data:
        ex = dict(data["exits"])
        if "locks" in ex:
            ex["locks"] = [tuple(x) for x in ex["locks"]]
        cfg.exits = _merge(cfg.exits, ex, "exits")
    for section in ("risk", "selection"):
        if section in data:
            setattr(cfg, section, _merge(getattr(cfg, section), data[section], section))
    if "params" in data:
        unknown = sorted(set(data["params"]) - set(cfg.params))
        if unknown:
            raise KeyError(f"params: unknown keys {', '.join(unknown)}")
        cfg.params = {**cfg.params, **data["params"]}
    if "execution" in data:
        cfg.execution = cfg.execution.with_overrides(data["execution"])
    return cfg


def load_config(strategy: str, path: str | Path | None = None) -> StrategyConfig:
    cfg = get(strategy).default()
    if path is None:
        return cfg
    p = Path(path)
    data = tomllib.loads(p.read_text()) if p.suffix == ".toml" else json.loads(p.read_text())
    return apply_overrides(cfg, data)


def config_of_run(strategy: str, stored: dict) -> StrategyConfig:
    """The exact config a run used, rebuilt from its stored `to_dict()` form (backtest_runs.config)."""
    return apply_overrides(get(strategy).default(), {k: stored[k] for k in SECTIONS if k in stored})
