"""`ticklake` command line (click): thin wiring over the layers; every failure is one line on stderr.

Exit codes: 0 success, 1 error, 2 a usage error (click's). `TICKLAKE_DEBUG=1` shows tracebacks.
`--warehouse` and `--quiet` are accepted before or after the command name.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from pathlib import Path

import click

from orchestration import strategies_cli
from transforms.expiry import UNDERLYINGS
from warehouse.layout import warehouse_root


class Settings:
    """What the global options say (the warehouse root, quiet), shared by every command."""

    def __init__(self) -> None:
        self.warehouse: str | None = None
        self.quiet = False

    @property
    def root(self) -> Path:
        return warehouse_root(self.warehouse)


def _set_warehouse(ctx: click.Context, _param, value):
    if value is not None:
        ctx.ensure_object(Settings).warehouse = value
    return value


def _set_quiet(ctx: click.Context, _param, value):
    if value:
        ctx.ensure_object(Settings).quiet = True
    return value


WAREHOUSE = click.option("--warehouse", metavar="DIR", expose_value=False, callback=_set_warehouse,
                         help="warehouse root (default $TICKLAKE_WAREHOUSE or ./warehouse)")
QUIET = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet,
                     help="no progress output")


def command(group: click.Group, name: str, **kw):
    """A subcommand that also takes the global options and receives the Settings first."""
    def wrap(f):
        @group.command(name, **kw)
        @WAREHOUSE
        @QUIET
        @click.pass_context
        @functools.wraps(f)
        def run(ctx: click.Context, *args, **kwargs):
            return f(ctx.ensure_object(Settings), *args, **kwargs)
        return run
    return wrap


def _csv_list(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _date(_ctx, param, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param=param) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@WAREHOUSE
@QUIET
@click.pass_context
def cli(ctx: click.Context) -> None:
    """NSE option tick warehouse, features and backtests."""
    ctx.ensure_object(Settings)


@command(cli, "generate", help="realistic source archive in the recorder's real formats")
@click.option("--out", required=True, metavar="DIR")
@click.option("--start", default="2025-11-03", callback=_date, show_default=True)
@click.option("--days", type=int, default=3, show_default=True)
@click.option("--underlyings", default="BANKNIFTY,NIFTY", show_default=True)
@click.option("--strikes", type=int, default=5, show_default=True, help="ATM +- K strikes")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--formats", default="sqldump", show_default=True, help="sqldump,mariadb,kite,flattrade,binance")
@click.option("--mariadb", "mariadb_url", metavar="URL", help="mysql+pymysql://user:pass@host:port URL to load (format mariadb)")
@click.option("--index-csv", type=click.Path(exists=True, dir_okay=False),
              help="drive the index from a real 1-second CSV (YYYY-MM-DD HH:MM:SS,price)")
@click.option("--clean", is_flag=True, help="no injected quirks")
@click.option("--malformed-rows", type=int, default=0, help="inject N malformed tuples")
@click.option("--truncated-statement", is_flag=True, help="cut the last statement mid-tuple")
def generate_cmd(s: Settings, out, start, days, underlyings, strikes, seed, formats, mariadb_url, index_csv, clean,
                 malformed_rows, truncated_statement) -> None:
    from generator.config import GeneratorConfig
    from generator.driver import generate
    from orchestration.progress import Progress

    cfg = GeneratorConfig(out=Path(out), start=start, days=days, underlyings=_csv_list(underlyings), strikes=strikes,
                          seed=seed, formats=_csv_list(formats), mariadb_url=mariadb_url,
                          index_csv=Path(index_csv) if index_csv else None, quirks=not clean,
                          malformed_rows=malformed_rows, truncated_statement=truncated_statement)
    progress = Progress("generate", quiet=s.quiet)
    manifest = generate(cfg, progress=progress)
    rows = sum(manifest["tables"].values())
    progress.rows = rows
    progress.done(f"-> {out}")
    if not s.quiet:
        click.echo(f"generated {len(manifest['files'])} files, {rows:,} source rows in {out} "
                   f"(manifest: {Path(out) / 'manifest.json'})")


@command(cli, "ingest", help="ingest dumps / MariaDB / JSON / CSV sources into the warehouse")
@click.argument("sources", nargs=-1, required=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
def ingest_cmd(s: Settings, sources, workers) -> None:
    from ingest.pipeline import run_ingest
    from orchestration.progress import Progress

    progress = Progress("ingest", quiet=s.quiet)
    report = run_ingest(list(sources), s.root, workers=workers, progress=progress)
    t = report.totals()
    progress.rows = t["source_rows"]
    progress.done()
    if not s.quiet:
        click.echo(f"ingest {report.run_id}: {t['source_rows']:,} source rows -> {t['written']:,} written, "
                   f"{t['deduped']:,} deduped, {t['quarantined']:,} quarantined ({t['repaired']:,} repaired), "
                   f"{report.partitions} partitions in {report.seconds:,.1f}s; warehouse {s.root}")


@command(cli, "materialize", help="run Dagster assets in-process")
@click.option("--group", "groups", multiple=True, metavar="G", help="asset group (repeatable); default all")
@click.option("--partition", "partitions", multiple=True, metavar="DATE|UNDERLYING",
              help="partition key, e.g. '2025-11-03|NIFTY' (quote it in a shell; repeatable)")
def materialize_cmd(s: Settings, groups, partitions) -> None:
    from orchestration.run import materialize_groups

    summary = materialize_groups(s.root, groups=list(groups) or None, partitions=list(partitions) or None,
                                 quiet=s.quiet)
    if not s.quiet:
        click.echo(summary)


@command(cli, "sql", help="DuckDB SQL over the warehouse views (IST)")
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def sql_cmd(s: Settings, query, fmt) -> None:
    from orchestration.sql import run_sql

    sys.stdout.write(run_sql(s.root, query, fmt))


@command(cli, "ui", help="Dagster webserver on 127.0.0.1")
@click.option("--port", type=int, default=3000, show_default=True)
def ui_cmd(s: Settings, port) -> None:
    from orchestration.instance import dagster_env

    env = dagster_env(s.root)
    args = ["dagster-webserver", "-h", "127.0.0.1", "-p", str(port), "-m", "orchestration.definitions"]
    click.echo(f"Dagster UI on http://127.0.0.1:{port} (warehouse {s.root}); Ctrl-C to stop", err=True)
    exe = Path(sys.executable).with_name("dagster-webserver")
    os.execvpe(str(exe) if exe.exists() else args[0], args, env)


@command(cli, "backtest", help="run one strategy (or the catalogue: --all / --family F) over the feature store")
@click.option("--strategy")
@click.option("--all", "run_all", is_flag=True, help="every runnable strategy of the catalogue, each day read once")
@click.option("--family", help="every runnable strategy of one card family (scalp, spec, theta_flow, gamma, theta, pond)")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="TOML/JSON overrides of the strategy's defaults")
@click.option("--underlying", type=click.Choice(UNDERLYINGS))
@click.option("--start", callback=_date, metavar="YYYY-MM-DD")
@click.option("--end", callback=_date, metavar="YYYY-MM-DD")
@click.option("--no-events", is_flag=True, help="do not log trade events")
@click.option("--sweep", "sweeps", multiple=True, metavar="SECTION.KEY=V1,V2",
              help="sweep a config value (repeatable: every combination, each day read once)")
@click.option("--write", is_flag=True, help="with --sweep: store every combination's run")
def backtest_cmd(s: Settings, strategy, run_all, family, config_path, underlying, start, end, no_events, sweeps,
                 write) -> None:
    from backtest.config import load_config
    from backtest.run import available_days, run_backtest
    from backtest.strategies import get
    from backtest.sweep import sweep, sweep_table
    from warehouse.catalog import write_catalog

    if start and end and start > end:
        raise click.UsageError(f"--start {start} is after --end {end}")
    root = s.root
    if (strategy is None) == (not run_all and family is None) or (run_all and family):
        raise click.UsageError("give one of --strategy, --all or --family")
    if strategy is None:
        strategies_cli.backtest_catalogue(root, family, [underlying] if underlying else list(UNDERLYINGS), start, end,
                                          not no_events)
        write_catalog(root)
        return
    cfg = load_config(strategy, config_path)
    for u in [underlying] if underlying else list(UNDERLYINGS):
        days = available_days(root, u, start, end)
        if not days:
            raise RuntimeError(f"no feature partitions for {u} in the range; run `ticklake materialize` first")
        if sweeps:
            results = sweep(root, get(strategy), cfg, list(sweeps), u, days, write=write)
            click.echo(f"{u} {days[0]}..{days[-1]} ({len(days)} days), {len(results)} combinations, best net first")
            click.echo(sweep_table(results))
            continue
        res = run_backtest(root, get(strategy), cfg, u, days, log_events=not no_events)
        m = res.metrics
        click.echo(f"{res.run_id} {u} {days[0]}..{days[-1]} ({len(days)} days): {m['trades']} trade legs, "
                   f"win {m['win_rate']:.1%}, net {m['net_pnl']:,.2f}, fees {m['fees']:,.2f}, "
                   f"PF {m['profit_factor']:.2f}, max DD {m['max_drawdown']:,.2f}" if m["trades"] else
                   f"{res.run_id} {u}: no trades in {len(days)} days")
    write_catalog(root)


@command(cli, "audit", help="replay audit of backtest runs (exit 1 on any error finding)")
@click.option("--run", "run_id", help="one run id (default: every run)")
@click.option("--sample", type=click.IntRange(min=1), metavar="N",
              help="audit N random trades per day (seeded); default all")
@click.pass_context
def audit_cmd(ctx: click.Context, s: Settings, run_id, sample) -> None:
    from backtest.audit import summary
    from backtest.audit_runs import audit_runs, errors_of

    audited = audit_runs(s.root, [run_id] if run_id else None, sample_per_day=sample)
    if not audited:
        raise RuntimeError("no backtest runs in the warehouse")
    click.echo(f"{'strategy':24s} {'run':38s} {'underlying':10s} {'dates':23s} {'legs':>6s}  findings")
    for row, legs, findings in audited:
        detail = ", ".join(f"{c}/{sv}: {n}" for c, sv, n in summary(findings)) or "clean"
        dates = f"{row['start']}..{row['end']}" if row["start"] else "no days"
        click.echo(f"{row['strategy']:24s} {row['run_id']:38s} {row['underlying']:10s} {dates:23s} {legs:6d}  {detail}")
    errors = sum(errors_of(f) for _, _, f in audited)
    click.echo(f"{len(audited)} runs audited, {errors} error findings (table audit_findings)")
    if errors:
        ctx.exit(1)


@command(cli, "report", help="self-contained HTML report of runs (several: side by side); a strategy "
                             "name means its latest run per underlying and day")
@click.argument("runs", nargs=-1, metavar="RUN...")
@click.option("--out", type=click.Path(dir_okay=False), help="HTML file (default <warehouse>/reports/RUN.html)")
@click.option("--all", "board", is_flag=True, help="the leaderboard of every strategy's latest runs (leaderboard.html)")
def report_cmd(s: Settings, runs, out, board) -> None:
    from backtest.audit_runs import audit_missing
    from backtest.reports.load import write_report

    root = s.root
    if board == bool(runs):
        raise click.UsageError("give RUN... or --all")
    if board:
        from backtest.reports.leaderboard import write_leaderboard

        click.echo(write_leaderboard(root, Path(out) if out else root / "reports" / "leaderboard.html"))
        return
    audit_missing(root, list(runs))
    path = Path(out) if out else root / "reports" / f"{'_vs_'.join(runs)}.html"
    click.echo(write_report(root, list(runs), path))


@command(cli, "trade-chart", help="PNG of one trade: bid/ask band, padded seconds, entry/exit, stop/target")
@click.argument("run")
@click.argument("trade")
@click.option("--out", type=click.Path(dir_okay=False), help="PNG file (default <warehouse>/reports/RUN_TRADE.png)")
def trade_chart_cmd(s: Settings, run, trade, out) -> None:
    from backtest.reports.load import write_trade_chart

    path = Path(out) if out else s.root / "reports" / f"{run}_{trade}.png"
    click.echo(write_trade_chart(s.root, run, trade, path))


@command(cli, "quality", help="run every expectation suite, build Data Docs, print the HTML path")
@click.option("--coverage-floor", type=float, help="minimum real-row share per contract-day (default 0.8)")
@click.option("--strict", is_flag=True, help="exit 1 when any expectation fails")
@click.pass_context
def quality_cmd(ctx: click.Context, s: Settings, coverage_floor, strict) -> None:
    from expectations.docs import run_quality

    say = None if s.quiet else (lambda m: click.echo(f"quality: {m}", err=True))
    params = {"coverage_floor": coverage_floor} if coverage_floor is not None else {}
    report = run_quality(s.root, params, progress=say)
    for suite, batch, check in report.failures:
        click.echo(f"FAILED {suite} {batch}: {check}")
    click.echo(f"{len(report.outcomes)} batches validated, {len(report.failures)} failed expectations, "
               f"{len(report.heatmaps)} coverage heatmaps")
    click.echo(report.docs_index)
    if strict and report.failures:
        ctx.exit(1)


@command(cli, "demo", help="generate a demo archive and materialise every asset")
@click.option("--out", default="demo", show_default=True, metavar="DIR")
@click.pass_context
def demo_cmd(ctx: click.Context, s: Settings, out) -> None:
    from orchestration.demo import run_demo

    ctx.exit(run_demo(Path(out), s.root, quiet=s.quiet))


strategies_cli.register(cli)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 error, 2 usage, 130 interrupted)."""
    args = sys.argv[1:] if argv is None else argv
    name = next((a for a in args if a in cli.commands), "")
    try:
        rv = cli.main(args=args, prog_name="ticklake", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("ticklake: interrupted", err=True)
        return 130
    except Exception as exc:  # one line for the user; TICKLAKE_DEBUG=1 shows the traceback
        if os.environ.get("TICKLAKE_DEBUG"):
            raise
        msg = " ".join(str(exc).split()) or type(exc).__name__
        click.echo(f"ticklake {name}: {type(exc).__name__}: {msg}".replace("ticklake :", "ticklake:"), err=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
