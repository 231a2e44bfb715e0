"""The execution options of `ticklake backtest` (--broker, --queue, --stress-jumps/--stress-seed and
a --config file's `execution` section): the one place that turns them into a run's execution config
and prints what the run executed with. A single strategy's run, its sweeps and the catalogue
(--all / --family) all go through it, so an option means the same for every strategy of a run."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:       # the CLI imports this at start; the backtest layer loads when a command runs
    from backtest.strategies.base import StrategyConfig


@dataclass(frozen=True)
class ExecutionOptions:
    """What the command line says about execution; unset options leave the config's own models."""

    broker: str | None = None
    queue_model: str | None = None
    stress_jumps: int | None = None
    stress_seed: int = 0
    file_execution: dict = field(default_factory=dict)    # a --config file's `execution` section

    def overrides(self) -> dict:
        """The execution overrides (backtest.models.Execution.with_overrides): the file's first, the
        flags over them."""
        out = dict(self.file_execution)
        if self.broker:
            out["broker"] = self.broker
        if self.queue_model:
            out["queue"] = {**out.get("queue", {}), "model": self.queue_model}
        return out

    def apply(self, cfg: StrategyConfig) -> StrategyConfig:
        """`cfg` with the options' execution models (in place; returned for chaining)."""
        over = self.overrides()
        if over:
            cfg.execution = cfg.execution.with_overrides(over)
        return cfg

    def execution_line(self, cfg: StrategyConfig) -> str:
        from backtest.models import describe_execution

        return f"execution: {describe_execution(cfg.execution.to_dict())}"

    def stress_line(self, root: Path, strategy, cfg: StrategyConfig, underlying: str, days: list[dt.date],
                    plain: dict) -> str | None:
        """With --stress-jumps: the run replayed with the seeded jumps, its P&L beside the plain
        run's (`plain`: the run's metrics); None without."""
        if not self.stress_jumps:
            return None
        from backtest.stress import JUMP_PCT, stress_run

        st = stress_run(root, strategy, cfg, underlying, days, self.stress_jumps, self.stress_seed)
        return (f"stress ({self.stress_jumps} jumps of {JUMP_PCT} % a day, seed {self.stress_seed}): "
                f"{st['trades']} trade legs, net {st['net_pnl']:,.2f} (plain {plain['net_pnl']:,.2f}), "
                f"max DD {st['max_drawdown']:,.2f}")


def catalogue_config_file(path: str | None) -> dict:
    """The `execution` section of a --config file given with --all / --family (the only section
    that means the same for every strategy); any other section is a usage error."""
    if path is None:
        return {}
    import json
    import tomllib

    import click

    p = Path(path)
    data = tomllib.loads(p.read_text()) if p.suffix == ".toml" else json.loads(p.read_text())
    other = sorted(set(data) - {"execution"})
    if other:
        raise click.UsageError(f"--config {p.name} with --all/--family: only an [execution] section applies to every "
                               f"strategy; it also has {', '.join(other)} (give --strategy for those)")
    return dict(data.get("execution", {}))
