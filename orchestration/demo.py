"""`make demo` / `ticklake demo`: generate a realistic archive, materialise every asset, print what
was built, where it is, what to run next, and how long each stage took.

The default archive is small so the whole demo stays within a few minutes on a 2-core laptop;
`--full` is the bigger one (3 trading days, both underlyings, ATM+-5), `--days` / `--strikes` any size.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

START = dt.date(2025, 11, 3)
SEED = 7
DEFAULT = (2, 2)      # trading days, ATM +- strikes: the quick demo
FULL = (3, 5)         # the bigger archive: a holiday skipped, a missing day, a partial day
GROUPS = ("ingest", "gaps", "quality", "features", "backtests")   # materialised one by one, timed


def _cpu() -> float:
    """CPU seconds of this process and of its finished worker processes (the leaderboard's reports
    are written on a process pool)."""
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


@dataclass
class StageClock:
    """Wall and CPU time (this process, all threads, and its finished workers) per demo stage, in the order they ran: on a busy
    machine the CPU column is what the stage costs, the wall column what it took."""
    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, f, *args, **kw):
        t, c = time.perf_counter(), _cpu()
        try:
            return f(*args, **kw)
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t
            self.cpu[name] = self.cpu.get(name, 0.0) + _cpu() - c

    def table(self) -> str:
        total, cpu = sum(self.seconds.values()), sum(self.cpu.values())
        lines = [f"  {'stage':10s} {'wall':>8s} {'share':>6s} {'cpu':>8s}"]
        lines += [f"  {name:10s} {s:7.1f}s {s / total:6.1%} {self.cpu.get(name, 0.0):7.1f}s"
                  for name, s in self.seconds.items()]
        return "\n".join(lines + [f"  {'total':10s} {total:7.1f}s {'':6s} {cpu:7.1f}s"])


def run_sql_row(root: Path, query: str) -> tuple:
    from warehouse.catalog import connect

    return connect(root).sql(query).fetchall()[0]


def metrics_table(root: Path) -> str:
    """Per daily strategy (the Dagster assets), its latest run per underlying and day: the report's own
    metrics (the whole catalogue is on the leaderboard: one report per strategy is seconds each)."""
    from backtest.reports.load import load_report
    from backtest.reports.tables import metrics_table as table
    from backtest.strategies import DAILY
    from warehouse.catalog import connect

    strategies = [r[0] for r in connect(root).sql("select distinct strategy from backtest_runs order by 1").fetchall()
                  if r[0] in DAILY]
    return table([(s, load_report(root, s).metrics) for s in strategies],
                 ("trades", "win_rate", "net_pnl", "fees", "expectancy", "profit_factor", "sharpe", "max_drawdown",
                  "fee_share_of_gross", "end_of_data_exits"), first="strategy").text()


def quality_summary(root: Path) -> tuple[str, Path]:
    """Run every expectation suite and build the Data Docs; one line per failed expectation."""
    from expectations.docs import run_quality

    report = run_quality(root)
    lines = [f"quality: {len(report.outcomes)} batches validated, {len(report.failures)} failed expectations"]
    lines += [f"  {suite} {batch}: {check}" for suite, batch, check in report.failures]
    return "\n".join(lines), report.docs_index


def run_catalogue(root: Path, quiet: bool) -> tuple[int, int]:
    """Every runnable strategy of the catalogue over every demo day of both underlyings, each day read
    once (`ticklake backtest --all`); stored like any run. (strategies, trading days) run."""
    from backtest.run import available_days, run_each
    from orchestration.progress import Progress
    from orchestration.strategies_cli import catalogue_jobs
    from transforms.expiry import UNDERLYINGS
    from warehouse.catalog import write_catalog

    jobs = catalogue_jobs(None)
    days_of = {u: d for u in UNDERLYINGS if (d := available_days(root, u, None, None))}
    progress = Progress(f"backtest --all ({len(jobs)} strategies)", quiet=quiet, unit="days")
    run_each(root, jobs, days_of, progress=progress)
    progress.done()
    write_catalog(root)
    return len(jobs), len({d for days in days_of.values() for d in days})


def leaderboard(root: Path, quiet: bool = False) -> Path:
    from backtest.reports.leaderboard import write_leaderboard
    from orchestration.progress import Progress

    progress = Progress("leaderboard", quiet=quiet, unit="reports", row_unit=None)
    board = write_leaderboard(root, root / "reports" / "leaderboard.html", progress=progress)
    progress.done()
    return board


def demo_size(full: bool, days: int | None, strikes: int | None) -> tuple[int, int]:
    base = FULL if full else DEFAULT
    return (days or base[0], base[1] if strikes is None else strikes)


def run_demo(out: Path, root: Path, quiet: bool = False, full: bool = False, days: int | None = None,
             strikes: int | None = None) -> int:
    n_days, n_strikes = demo_size(full, days, strikes)
    clock = StageClock()
    try:
        return _run(out, root, quiet, full or bool(days) or strikes is not None, n_days, n_strikes, clock)
    except BaseException:
        if clock.seconds:
            print(f"demo stopped after {sum(clock.seconds.values()):,.0f}s; time per stage:\n{clock.table()}",
                  file=sys.stderr, flush=True)
        raise


def _run(out: Path, root: Path, quiet: bool, sized: bool, n_days: int, n_strikes: int, clock: StageClock) -> int:
    from generator.config import GeneratorConfig
    from generator.driver import generate, plan
    from orchestration.instance import dagster_home
    from orchestration.progress import Progress
    from orchestration.run import materialize_groups
    from orchestration.sql import run_sql

    source = out / "source"
    say = (lambda m: None) if quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    # the demo's own folder: regenerate into it on every run (force replaces only the generator's outputs)
    cfg = GeneratorConfig(out=source, start=START, days=n_days, strikes=n_strikes, seed=SEED, force=True)
    p = plan(cfg)
    say(f"[1/4] generating {len(p.days)} trading days, BANKNIFTY+NIFTY ATM+-{n_strikes} into {source}: "
        f"{p.describe()}" + ("" if sized else "  (ticklake demo --full: 3 days, ATM+-5)"))
    manifest = clock.run("generate", generate, cfg, progress=Progress("generate", total_bytes=p.total_bytes, quiet=quiet))
    say(f"[2/4] materialising every asset group into {root}; the whole catalogue, audited")
    os.environ["TICKLAKE_LANDING"] = str((source / "sqldump").resolve())
    summaries = [clock.run(g, materialize_groups, root, groups=[g], quiet=quiet) for g in GROUPS]
    # the rest of the catalogue the way a user runs it (Dagster backtests only the daily strategies:
    # an asset per strategy x day costs minutes), then the audit asset replays every stored run
    n_strategies, n_days = clock.run("catalogue", run_catalogue, root, quiet)
    summaries.append(clock.run("audits", materialize_groups, root, groups=["audits"], quiet=quiet))
    board = clock.run("leaderboard", leaderboard, root, quiet)
    say("[3/4] validating every partition, building the Data Docs")
    quality, docs = clock.run("data docs", quality_summary, root)
    say("[4/4] summary")
    t, c = time.perf_counter(), _cpu()
    print(f"source: {sum(manifest['tables'].values()):,} rows in {len(manifest['files'])} files ({source})")
    print("\n".join(s.splitlines()[0] for s in summaries if s))
    print(run_sql(root, """
        select target, sum(source_rows) source_rows, sum(written) written, sum(deduped) deduped,
               sum(quarantined) quarantined, sum(repaired) repaired
        from ingest_runs group by all order by 1"""))
    print(run_sql(root, "select reason, count(*) rows from quarantine group by all order by 2 desc"))
    print(run_sql(root, "select kind, count(*) gaps, sum(seconds) total_seconds from gaps group by all order by 1"))
    print(quality)
    print(metrics_table(root))
    runs, trades, errors = run_sql_row(root, """select (select count(*) from backtest_runs), (select count(*) from trade_legs),
                                                 (select count(*) from audit_findings where severity = 'error')""")
    print(f"catalogue: {n_strategies} strategies run over {n_days} day{'s' if n_days != 1 else ''}, each day read "
          f"once (ticklake backtest --all); leaderboard {board}")
    print(f"audit: {runs} runs, {trades} trade legs replayed independently, {errors} error findings")
    clock.seconds["summary"], clock.cpu["summary"] = time.perf_counter() - t, _cpu() - c
    print(f"\ndemo finished in {sum(clock.seconds.values()):,.0f}s; time per stage:\n{clock.table()}")
    print(where_and_next(source, root, docs, dagster_home(root), sized, board))
    return 0


def where_and_next(source: Path, root: Path, docs: Path, dagster: Path, sized: bool, board: Path) -> str:
    cli = ".venv/bin/ticklake"
    env = "" if root.resolve() == (Path.cwd() / "warehouse").resolve() else f"TICKLAKE_WAREHOUSE={root} "
    lines = [
        "\nwhere everything is:",
        f"  source archive   {source}/  (sqldump/ the recorder's dumps, manifest.json the ground truth)",
        f"  warehouse        {root}/  (Parquet; SQL views in {root / 'catalog.duckdb'})",
        f"  backtest report  {root / 'reports' / 'backtest_summary.html'}",
        f"  guarded family   {root / 'reports' / 'guarded_variants.html'}  (the straddle and its variants 2A-2D side by side)",
        f"  leaderboard      {board}  (every strategy of the catalogue, sortable; ticklake report --all)",
        f"  data quality     {docs}",
        f"  Dagster runs     {dagster}",
        "next:",
        f"  {env}{cli} ui                  # Dagster UI on http://127.0.0.1:3000: every asset and run of this demo",
        f"  {env}{cli} sql \"select underlying, date, count(*) rows from options_ticks group by all order by 2\"",
        f"  {env}{cli} backtest --strategy orb_2min --sweep exits.target=1.5,2,3   # every combination",
        f"  {env}{cli} report micro_ema_flip guarded_straddle",
    ]
    if not sized:
        lines.append(f"  {cli} demo --full              # the bigger archive: 3 days, ATM+-5 (several times longer)")
    return "\n".join(lines)
