"""Parameter sweeps: every combination of some config values, run over the same days in one pass.

`grid("exits.target=1.5,2,2.5", "exits.stop=1,1.5")` gives the override dicts; `sweep()` builds a
config per combination (backtest.config.apply_overrides: unknown keys fail loudly) and runs them all
with `backtest.parallel.run_parallel`: chunks of configs on worker processes (or a caller's
executor), each reading a day once, checkpointed per (config, day) so a killed sweep resumes; the
results are those of `run_many` in one process, byte for byte.
"""
from __future__ import annotations

import copy
import datetime as dt
import itertools

from backtest.config import apply_overrides
from backtest.reports.tables import metrics_table
from backtest.parallel import run_parallel
from backtest.run import RunResult
from backtest.strategies import Strategy
from backtest.strategies.base import StrategyConfig
from backtest.sweep_dirs import sweeps_in_use
from backtest.walkforward import WalkForward, capital_rerun, sized_by_capital, walk_forward


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
          days: list[dt.date], write: bool = False, workers: int | None = None, executor=None,
          progress=None) -> list[tuple[str, RunResult]]:
    """(combination label, run) per combination of the specs; `write` stores every run. `workers`
    processes (default: the cores) or the caller's `executor` run them (backtest.parallel). Trade
    events are logged only when the runs are stored: nothing else reads a sweep's events, and they
    are most of its checkpoints' bytes (the trades are the same either way)."""
    combos = grid(*specs)
    jobs = [(strategy, apply_overrides(copy.deepcopy(base), over)) for over in combos]
    with sweeps_in_use(root):           # `ticklake gc` leaves the checkpoints alone meanwhile
        runs = run_parallel(root, jobs, underlying, days, executor=executor, workers=workers, write=write,
                            progress=progress, log_events=write)
    return list(zip((label(o) for o in combos), runs))


def walk_forward_sweep(root, strategy: Strategy, base: StrategyConfig, specs: list[str], underlying: str,
                       days: list[dt.date], train: int, test: int, anchored: bool = False, metric: str = "net_pnl",
                       workers: int | None = None, executor=None, progress=None) -> WalkForward:
    """The sweep over every day, then the walk-forward over its runs (backtest.walkforward); configs
    sized by tracked capital (Kelly) are run again, on the same workers, where a window needs them
    from another starting capital (their in-sample days from the configured capital, their
    out-of-sample days from the stitched out-of-sample account starting at `base.risk.capital`)."""
    runs = sweep(root, strategy, base, specs, underlying, days, workers=workers, executor=executor, progress=progress)
    jobs = [(strategy, apply_overrides(copy.deepcopy(base), over)) for over in grid(*specs)]

    def run(picked: list, on_days: list[dt.date]) -> list:
        with sweeps_in_use(root):
            return [r.legs for r in run_parallel(root, picked, underlying, on_days, executor=executor,
                                                 workers=workers, log_events=False)]

    return walk_forward([name for name, _ in runs], [r.legs for _, r in runs], days, train, test, anchored, metric,
                        sized=[sized_by_capital(cfg) for _, cfg in jobs], rerun=capital_rerun(jobs, run),
                        capital=base.risk.capital)


def sweep_table(results: list[tuple[str, RunResult]]) -> str:
    """The combinations, best net P&L first, as text: their metrics and, when stored, run ids."""
    ranked = sorted(results, key=lambda x: -x[1].metrics["net_pnl"])
    stored = all(r.stored for _, r in ranked)
    table = metrics_table([(name, r.metrics) for name, r in ranked],
                          ("trades", "win_rate", "net_pnl", "profit_factor", "max_drawdown"), first="combination",
                          extra={"run": [r.run_id for _, r in ranked]} if stored else None)
    hint = ("runs stored: `ticklake report RUN_ID [RUN_ID ...]` compares them" if stored else
            "runs not stored: add --write to store every combination's run (then `ticklake report RUN_ID`)")
    return f"{table.text()}\n{hint}"
