"""`ticklake walkforward`: a sweep run once over every day (on every core, checkpointed), then
rolling or anchored in-sample/out-of-sample windows over it (backtest.walkforward)."""
from __future__ import annotations

from pathlib import Path

import click

from orchestration.cluster import CLUSTER, cluster_executor, scheduler_address
from transforms.expiry import UNDERLYINGS


def _days(_ctx, param, value: str) -> int:
    from backtest.walkforward import parse_days

    try:
        return parse_days(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param=param) from None


def register(group: click.Group, command, date_option) -> None:
    """Add `walkforward` to the CLI (`command`: the CLI's subcommand decorator; `date_option`: its
    YYYY-MM-DD callback)."""

    @command(group, "walkforward", help="walk-forward: pick the best parameter set of a sweep in each in-sample "
                                        "window, trade it on the next days; stitched out-of-sample report")
    @click.option("--strategy", required=True)
    @click.option("--sweep", "sweeps", multiple=True, required=True, metavar="SECTION.KEY=V1,V2",
                  help="the parameter sets (repeatable: every combination)")
    @click.option("--train", default="20d", show_default=True, callback=_days, help="in-sample trading days")
    @click.option("--test", default="5d", show_default=True, callback=_days, help="out-of-sample trading days")
    @click.option("--anchored", is_flag=True, help="in sample from the first day (default: rolling)")
    @click.option("--metric", default="net_pnl", show_default=True, help="what in-sample best means (a run metric)")
    @click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
                  help="TOML/JSON overrides of the strategy's defaults")
    @click.option("--underlying", type=click.Choice(UNDERLYINGS))
    @click.option("--start", callback=date_option, metavar="YYYY-MM-DD")
    @click.option("--end", callback=date_option, metavar="YYYY-MM-DD")
    @click.option("--workers", type=click.IntRange(min=1), help="worker processes (default: the cores)")
    @click.option("--out", type=click.Path(dir_okay=False),
                  help="HTML report (default <warehouse>/reports/walkforward_<strategy>_<underlying>.html)")
    @CLUSTER
    def walkforward_cmd(s, strategy, sweeps, train, test, anchored, metric, config_path, underlying, start, end,
                        workers, out, cluster) -> None:
        from backtest.config import load_config
        from backtest.reports import walkforward as report
        from backtest.run import available_days
        from backtest.strategies import get
        from backtest.sweep import walk_forward_sweep
        from orchestration.progress import Progress
        from warehouse.files import atomic_write

        from backtest.reports.tables import METRICS

        if metric not in METRICS:
            raise click.UsageError(f"--metric {metric!r}: one of {', '.join(METRICS)}")
        cfg = load_config(strategy, config_path)
        todo = {u: available_days(s.root, u, start, end) for u in ([underlying] if underlying else UNDERLYINGS)}
        if not any(todo.values()):
            raise RuntimeError(f"no feature partitions for {underlying or ' or '.join(UNDERLYINGS)} in the range; "
                               f"run `ticklake materialize` first")
        if out and sum(1 for d in todo.values() if d) > 1:
            raise click.UsageError("--out names one file: give --underlying too")
        for u, days in todo.items():
            if not days:
                continue
            if len(days) < train + test:
                raise click.UsageError(f"{u}: {len(days)} trading days with features; --train {train}d --test {test}d needs "
                                       f"at least {train + test}")
            progress = Progress(f"walkforward sweep {strategy} {u}", quiet=s.quiet, unit="config-days", row_unit=None)
            # the sweep and the Kelly re-runs as (config chunk x days) tasks on the cluster's workers
            with cluster_executor(scheduler_address(cluster), s.root) as (executor, threads):
                wf = walk_forward_sweep(s.root, get(strategy), cfg, list(sweeps), u, days, train, test, anchored,
                                        metric, workers=threads or workers, executor=executor, progress=progress)
            progress.done()
            click.echo(f"{strategy} {u} {days[0]}..{days[-1]} ({len(days)} days)")
            click.echo(report.text(wf))
            path = Path(out) if out else s.root / "reports" / f"walkforward_{strategy}_{u}.html"
            atomic_write(path, report.html(wf, f"Walk-forward {strategy} {u}"))
            click.echo(f"report: {path}")
