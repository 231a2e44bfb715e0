"""Parameter sweeps: every combination of some config values, run over the same days in one pass.

`grid("exits.target=1.5,2,2.5", "exits.stop=1,1.5")` gives the override dicts; `sweep()` builds a
config per combination (backtest.config.apply_overrides: unknown keys fail loudly) and runs them all
with `run_many`, which reads each day once.
"""
from __future__ import annotations

import copy
import datetime as dt
import itertools

from backtest.config import apply_overrides
from backtest.run import RunResult, run_many
from backtest.strategies import Strategy
from backtest.strategies.base import StrategyConfig


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def grid(*specs: str) -> list[dict]:
    """'section.key=v1,v2,...' specs -> one nested override dict per combination (in spec order)."""
    axes = []
    for spec in specs:
        path, _, values = spec.partition("=")
        if not values or "." not in path:
            raise ValueError(f"sweep {spec!r}: expected section.key=v1,v2,... (e.g. exits.target=1.5,2)")
        axes.append([(path.split("."), _value(v.strip())) for v in values.split(",")])
    combos = []
    for choice in itertools.product(*axes):
        over: dict = {}
        for keys, v in choice:
            node = over
            for k in keys[:-1]:
                node = node.setdefault(k, {})
            node[keys[-1]] = v
        combos.append(over)
    return combos


def label(over: dict, prefix: str = "") -> str:
    return " ".join(f"{prefix}{k}={v}" if not isinstance(v, dict) else label(v, f"{prefix}{k}.")
                    for k, v in over.items())


def sweep(root, strategy: Strategy, base: StrategyConfig, specs: list[str], underlying: str,
          days: list[dt.date], write: bool = False) -> list[tuple[str, RunResult]]:
    """(combination label, run) per combination of the specs."""
    combos = grid(*specs)
    jobs = [(strategy, apply_overrides(copy.deepcopy(base), _with_execution_defaults(over, base))) for over in combos]
    return list(zip((label(o) for o in combos), run_many(root, jobs, underlying, days, write=write)))


def _with_execution_defaults(over: dict, base: StrategyConfig) -> dict:
    """apply_overrides rebuilds `execution` from its parts: keep the base's parts not swept."""
    if "execution" not in over:
        return over
    current = base.to_dict()["execution"]
    return {**over, "execution": {part: {**current[part], **over["execution"].get(part, {})} for part in current}}
