"""Strategy configs from files: a TOML or JSON file overrides the strategy's defaults, section by
section (legs, exits, position, risk, filters, selection, params, execution.{latency,fill,slippage,
fees}, each execution slot optionally naming its `model`). Nested sections merge field by field;
`legs` takes a list (the legs replaced) or a table keyed by leg name (those legs' fields merged),
so a sweep can say `legs.ce.strike.points=300,400`. Unknown keys fail loudly, naming the path.

Files written before issue #16 keep loading: `risk.entry_window` (one window), `risk.entry_timeout_s`
(every leg's order timeout) and `exits.session_exit` (now `position.session_exit`) are translated.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

from backtest.fields import merge_dataclass
from backtest.strategies import get
from backtest.strategies.base import StrategyConfig

SECTIONS = ("legs", "exits", "position", "risk", "filters", "selection", "params", "execution")


def _translate_old_keys(cfg: StrategyConfig, data: dict) -> dict:
    """Keys of configs written before issue #16, in today's places."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    risk, exits = data.get("risk"), data.get("exits")
    if isinstance(risk, dict) and "entry_window" in risk:
        risk["entry_windows"] = [risk.pop("entry_window")]
    if isinstance(risk, dict) and "entry_timeout_s" in risk:
        timeout = risk.pop("entry_timeout_s")
        legs = data.setdefault("legs", {})
        if isinstance(legs, dict):
            for leg in cfg.legs:
                legs.setdefault(leg.name, {}).setdefault("order", {})["timeout_s"] = timeout
    if isinstance(exits, dict) and "session_exit" in exits:
        data.setdefault("position", {})["session_exit"] = exits.pop("session_exit")
    return data


def apply_overrides(cfg: StrategyConfig, data: dict) -> StrategyConfig:
    """`cfg` with the sections of `data` merged in (the execution models not named keep theirs)."""
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise KeyError(f"config: unknown sections {', '.join(unknown)}")
    data = _translate_old_keys(cfg, data)
    for section in ("legs", "exits", "position", "risk", "filters", "selection"):
        if section in data:
            merged = merge_dataclass(cfg, {section: data[section]}, "config")
            setattr(cfg, section, getattr(merged, section))
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
    """The exact config a run used, rebuilt from its stored `to_dict()` form (backtest_runs.config);
    a run stored before issue #18 (no queue model) filled resting limits in full."""
    data = {k: stored[k] for k in SECTIONS if k in stored}
    if "execution" in data and "queue" not in data["execution"]:
        data["execution"] = {**data["execution"], "queue": {"model": "full_fill"}}
    return apply_overrides(get(strategy).default(), data)
