"""`ticklake` command line (click): thin wiring over the layers; every failure is one line on stderr.

Exit codes: `ExitCode` (the README's CLI section lists them). `TICKLAKE_DEBUG=1` shows tracebacks.
`--warehouse` and `--quiet` are accepted before or after the command name.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import os
import sys
from pathlib import Path

import click

from orchestration import store_cli, strategies_cli, walkforward_cli
from orchestration.backtest_options import ExecutionOptions, catalogue_config_file
from orchestration.cluster import CLUSTER, cluster_executor, scheduler_address
from transforms.expiry import UNDERLYINGS
from warehouse.layout import warehouse_root


class ExitCode(enum.IntEnum):
    """What `ticklake` exits with: the one place these numbers are defined."""

    OK = 0
    ERROR = 1          # a failure, one line on stderr; ingest: a source had nothing readable in it
    USAGE = 2          # a usage error (click's)
    PARTIAL = 3        # ingest: a source was read only in part; what was read is committed and reconciled
    INTERRUPTED = 130  # Ctrl-C


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
@click.option("--force", is_flag=True, help="replace the generator's own subfolders and manifest in a non-empty --out")
def generate_cmd(s: Settings, out, start, days, underlyings, strikes, seed, formats, mariadb_url, index_csv, clean,
                 malformed_rows, truncated_statement, force) -> None:
    from generator.config import GeneratorConfig
    from generator.driver import generate, plan
    from orchestration.progress import Progress

    cfg = GeneratorConfig(out=Path(out), start=start, days=days, underlyings=_csv_list(underlyings), strikes=strikes,
                          seed=seed, formats=_csv_list(formats), mariadb_url=mariadb_url,
                          index_csv=Path(index_csv) if index_csv else None, quirks=not clean,
                          malformed_rows=malformed_rows, truncated_statement=truncated_statement, force=force)
    p = plan(cfg)
    if not s.quiet:
        click.echo(f"generate: {len(p.days)} trading days x {','.join(cfg.underlyings)}, ATM+-{strikes} "
                   f"({p.tables_per_day} option tables a day each) -> {out}: {p.describe()}", err=True)
    progress = Progress("generate", total_bytes=p.total_bytes, quiet=s.quiet)
    manifest = generate(cfg, progress=progress)
    rows = sum(manifest["tables"].values())
    progress.rows = rows
    progress.done(f"-> {out}")
    if not s.quiet:
        click.echo(f"generated {len(manifest['files'])} files, {rows:,} source rows in {out} "
                   f"(manifest: {Path(out) / 'manifest.json'})")


@command(cli, "ingest", help="ingest dumps / MariaDB / JSON / CSV sources into the warehouse "
                             "(exit 3: a source read only in part; 1: a source not readable at all)")
@click.argument("sources", nargs=-1, required=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="MariaDB password: the file's first line, or a ~/.my.cnf-style [client] password "
                   "(else $TICKLAKE_MARIADB_PASSWORD; keeps it out of the process list)")
@click.option("--reingest", is_flag=True, help="read dumps again even when the warehouse holds their content")
@click.option("--max-statement-mb", type=click.IntRange(min=1), default=64, show_default=True,
              help="longest unfinished piece of a dump statement held in memory; longer ones are quarantined")
@CLUSTER
@click.pass_context
def ingest_cmd(ctx: click.Context, s: Settings, sources, workers, password_file, reingest, max_statement_mb,
               cluster) -> None:
    from ingest.mariadb import PASSWORD_FILE_ENV
    from ingest.pipeline import run_ingest
    from ingest.skipped import summary_lines
    from orchestration.progress import Progress

    if password_file:
        os.environ[PASSWORD_FILE_ENV] = str(Path(password_file).resolve())

    progress = Progress("ingest", quiet=s.quiet)
    with cluster_executor(scheduler_address(cluster), s.root) as (executor, _):
        report = run_ingest(list(sources), s.root, workers=workers, progress=progress, reingest=reingest,
                            max_statement_bytes=max_statement_mb << 20, executor=executor)
    _register_ingest(s.root, report.runs)
    t = report.totals()
    progress.rows = t["source_rows"]
    progress.done()
    if not s.quiet:
        for line in summary_lines(report.sources):
            click.echo(line)
        for sk in report.skipped:
            click.echo(f"skipped {sk['source']}: same content as {sk['same_as']} ({sk['how']}), not counted twice")
        click.echo(f"ingest {report.run_id}: {t['source_rows']:,} source rows -> {t['written']:,} written, "
                   f"{t['deduped']:,} deduped, {t['quarantined']:,} quarantined ({t['repaired']:,} repaired), "
                   f"{report.partitions} partitions in {report.seconds:,.1f}s; warehouse {s.root}")
    for p in report.partial:
        click.echo(f"ticklake ingest: {p['source']}: read only in part at byte {p['offset']:,} ({p['position']}): "
                   f"{p['reason']}; {p['kept_rows']:,} rows kept", err=True)
    for u in report.unreadable:
        click.echo(f"ticklake ingest: unreadable: {u['error']}", err=True)
    ctx.exit(ExitCode.ERROR if report.unreadable else ExitCode.PARTIAL if report.partial else ExitCode.OK)


def _register_ingest(root: Path, runs: list[dict]) -> None:
    """Show what an ingest wrote in the Dagster UI at once (its partitions and row counts)."""
    from orchestration.register import mirror_ingest

    mirror_ingest(root, runs)


def _partition(_ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    from orchestration.partitions import parse_partition

    try:
        return tuple(f"{d}|{u}" for d, u in map(parse_partition, values))
    except ValueError as e:
        raise click.BadParameter(str(e), param=param) from None


GROUPS = ("ingest", "gaps", "quality", "features", "backtests", "audits")   # for --help; run.py checks the graph


@command(cli, "materialize", help="run the Dagster jobs in-process: every asset group (or --group) over every "
                                  "ingested partition where something is missing or older than its inputs (or "
                                  "--partition, --all); the UI shows the runs")
@click.option("--group", "groups", multiple=True, metavar="G", help=f"asset group, repeatable: {', '.join(GROUPS)}")
@click.option("--partition", "partitions", multiple=True, metavar="'YYYY-MM-DD|UNDERLYING'", callback=_partition,
              help="one partition, e.g. '2025-11-03|NIFTY' (quote it: | is a shell pipe; repeatable)")
@click.option("--all", "rebuild", is_flag=True,
              help="rebuild every partition (default: only where an asset is missing or older than its inputs)")
@CLUSTER
def materialize_cmd(s: Settings, groups, partitions, rebuild, cluster) -> None:
    from orchestration.run import materialize_groups

    summary = materialize_groups(s.root, groups=list(groups) or None, partitions=list(partitions) or None,
                                 quiet=s.quiet, rebuild=rebuild, cluster=scheduler_address(cluster))
    if not s.quiet:
        click.echo(summary)


@command(cli, "sql", help="DuckDB SQL over the warehouse views (IST); csv/json written by DuckDB")
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def sql_cmd(s: Settings, query, fmt) -> None:
    from orchestration.sql import print_sql

    print_sql(s.root, query, fmt)


@command(cli, "ui", help="Dagster webserver on 127.0.0.1")
@click.option("--port", type=int, default=3000, show_default=True)
def ui_cmd(s: Settings, port) -> None:
    from orchestration.instance import dagster_env
    from orchestration.register import mirror_ingest

    mirror_ingest(s.root)            # every stored partition is listed, whichever route wrote it
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
@click.option("--workers", type=click.IntRange(min=1), help="with --sweep: worker processes (default: the cores)")
@click.option("--broker", help="broker profile of backtest/data/brokers.csv (zero, rs20; config execution.broker)")
@click.option("--queue", "queue_model", type=click.Choice(["risk_averse", "prob", "full_fill"]),
              help="queue model of resting limits (config execution.queue.model; default risk_averse)")
@click.option("--stress-jumps", type=click.IntRange(min=1), metavar="N",
              help="also replay with N seeded 0.6 %% index jumps a day and print its P&L beside the plain run")
@click.option("--stress-seed", type=int, default=0, show_default=True)
@CLUSTER
def backtest_cmd(s: Settings, strategy, run_all, family, config_path, underlying, start, end, no_events, sweeps,
                 write, workers, broker, queue_model, stress_jumps, stress_seed, cluster) -> None:
    from backtest.config import load_config
    from backtest.run import available_days, run_backtest
    from backtest.strategies import get
    from backtest.sweep import sweep, sweep_table
    from orchestration.progress import Progress
    from warehouse.catalog import write_catalog

    if start and end and start > end:
        raise click.UsageError(f"--start {start} is after --end {end}")
    root = s.root
    if (strategy is None) == (not run_all and family is None) or (run_all and family):
        raise click.UsageError("give one of --strategy, --all or --family")
    options = ExecutionOptions(broker, queue_model, stress_jumps, stress_seed)
    if strategy is None:
        if sweeps or write or workers or cluster:
            raise click.UsageError("--sweep, --write, --workers and --cluster need --strategy")
        options = dataclasses.replace(options, file_execution=catalogue_config_file(config_path))
        strategies_cli.backtest_catalogue(root, family, [underlying] if underlying else list(UNDERLYINGS), start, end,
                                          not no_events, options)
        write_catalog(root)
        return
    if sweeps and stress_jumps:
        raise click.UsageError("--stress-jumps replays one run: give it without --sweep")
    cfg = options.apply(load_config(strategy, config_path))
    # every underlying with feature partitions in the range (the one asked for must have some)
    todo = {u: available_days(root, u, start, end) for u in ([underlying] if underlying else UNDERLYINGS)}
    if not any(todo.values()) or (underlying and not todo[underlying]):
        raise RuntimeError(f"no feature partitions for {underlying or ' or '.join(UNDERLYINGS)} in the range; "
                           f"run `ticklake materialize` first")
    for u, days in todo.items():
        if not days:
            continue
        if sweeps:
            progress = Progress(f"sweep {strategy} {u}", quiet=s.quiet, unit="config-days", row_unit=None)
            with cluster_executor(scheduler_address(cluster), root) as (executor, threads):
                results = sweep(root, get(strategy), cfg, list(sweeps), u, days, write=write,
                                workers=threads or workers, executor=executor, progress=progress)
            progress.done()
            click.echo(f"{u} {days[0]}..{days[-1]} ({len(days)} days), {len(results)} combinations, best net first")
            click.echo(sweep_table(results))
            continue
        progress = Progress(f"backtest {strategy} {u}", quiet=s.quiet, unit="days")
        res = run_backtest(root, get(strategy), cfg, u, days, log_events=not no_events, progress=progress)
        progress.done()
        m = res.metrics
        click.echo(f"{res.run_id} {u} {days[0]}..{days[-1]} ({len(days)} days): {m['trades']} trade legs, "
                   f"win {m['win_rate']:.1%}, net {m['net_pnl']:,.2f}, fees {m['fees']:,.2f}, "
                   f"PF {m['profit_factor']:.2f}, max DD {m['max_drawdown']:,.2f}" if m["trades"] else
                   f"{res.run_id} {u}: no trades in {len(days)} days")
        click.echo(f"  {options.execution_line(cfg)}")
        stress = options.stress_line(root, get(strategy), cfg, u, days, m)
        if stress:
            click.echo(f"  {stress}")
    write_catalog(root)


def _run_ids(root: Path) -> list[str]:
    from warehouse.catalog import connect

    return [r[0] for r in connect(root).sql("select run_id from backtest_runs order by 1").fetchall()]


def _audit_each(s: Settings, run_ids: list[str], sample: int | None = None, label: str = "audit") -> list:
    """Audit runs (each day's market read once for all its runs), with progress (runs done, trade legs replayed)."""
    from backtest.audit_runs import audit_runs
    from orchestration.progress import Progress

    if not run_ids:
        return []
    progress = Progress(label, quiet=s.quiet, unit="runs")
    progress({"files_done": 0, "files_total": len(run_ids)})
    out = audit_runs(s.root, run_ids, sample_per_day=sample, progress=progress)
    progress.done()
    return out


@command(cli, "audit", help="replay audit of backtest runs (exit 1 on any error finding)")
@click.option("--run", "run_id", help="one run id (default: every run)")
@click.option("--sample", type=click.IntRange(min=1), metavar="N",
              help="audit N random trades per day (seeded); default all")
@click.pass_context
def audit_cmd(ctx: click.Context, s: Settings, run_id, sample) -> None:
    from backtest.audit import summary
    from backtest.audit_runs import errors_of

    audited = _audit_each(s, [run_id] if run_id else _run_ids(s.root), sample)
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
    from backtest.reports.load import audited, write_report
    from backtest.reports.selection import resolve
    from orchestration.progress import Progress
    from warehouse.catalog import connect

    root = s.root
    if board == bool(runs):
        raise click.UsageError("give RUN... or --all")
    if board:
        from backtest.reports.leaderboard import write_leaderboard

        progress = Progress("report --all", quiet=s.quiet, unit="reports", row_unit=None)
        board = write_leaderboard(root, Path(out) if out else root / "reports" / "leaderboard.html", progress=progress)
        progress.done()
        click.echo(board)
        return
    con = connect(root)
    missing = [r["run_id"] for sel in runs for r in resolve(con, sel).runs if not audited(root, r["run_id"])]
    _audit_each(s, missing, label="report: auditing")      # a report shows every run's audit
    path = Path(out) if out else root / "reports" / f"{'_vs_'.join(runs)}.html"
    progress = Progress("report", quiet=s.quiet)
    progress({"source": "writing " + str(path)})
    written = write_report(root, list(runs), path)
    progress.done(f"-> {written}")
    click.echo(written)


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
@click.option("--strict", is_flag=True, help="exit 1 when an expectation of error severity fails (not on warnings)")
@click.pass_context
def quality_cmd(ctx: click.Context, s: Settings, coverage_floor, strict) -> None:
    from expectations.docs import run_quality
    from orchestration.progress import Progress

    progress = Progress("quality", quiet=s.quiet, unit="batches")
    params = {"coverage_floor": coverage_floor} if coverage_floor is not None else {}
    report = run_quality(s.root, params, progress=progress)
    progress.done()
    # one severity everywhere: thin coverage is a warning (WARN), everything else an error (FAILED)
    for suite, batch, check in report.failures:
        click.echo(f"FAILED {suite} {batch}: {check}")
    for suite, batch, check in report.warnings:
        click.echo(f"WARN   {suite} {batch}: {check}")
    click.echo(f"{len(report.outcomes)} batches validated, {len(report.failures)} failed expectations, "
               f"{len(report.warnings)} warnings, {len(report.heatmaps)} coverage heatmaps")
    click.echo(report.docs_index)
    if strict and report.failures:
        ctx.exit(1)


@command(cli, "demo", help="generate a demo archive and materialise every asset (small by default; --full is bigger)")
@click.option("--out", default="demo", show_default=True, metavar="DIR")
@click.option("--full", is_flag=True, help="the bigger archive: 3 trading days, ATM+-5 (several times longer)")
@click.option("--days", type=click.IntRange(min=1), help="trading days (default 2, --full 3)")
@click.option("--strikes", type=click.IntRange(min=0), help="ATM +- K strikes (default 2, --full 5)")
@click.pass_context
def demo_cmd(ctx: click.Context, s: Settings, out, full, days, strikes) -> None:
    from orchestration.demo import run_demo

    ctx.exit(run_demo(Path(out), s.root, quiet=s.quiet, full=full, days=days, strikes=strikes))


strategies_cli.register(cli)
walkforward_cli.register(cli, command, _date)
store_cli.register(cli, command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (ExitCode)."""
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
        return ExitCode.INTERRUPTED
    except Exception as exc:  # one line for the user; TICKLAKE_DEBUG=1 shows the traceback
        if os.environ.get("TICKLAKE_DEBUG"):
            raise
        msg = " ".join(str(exc).split()) or type(exc).__name__
        click.echo(f"ticklake {name}: {type(exc).__name__}: {msg}".replace("ticklake :", "ticklake:"), err=True)
        return ExitCode.ERROR


if __name__ == "__main__":
    sys.exit(main())
