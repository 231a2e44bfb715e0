"""`make demo`: generate a realistic archive, materialise every asset, print what was built."""
from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

DEMO_DAYS = 3
DEMO_STRIKES = 5


def run_sql_row(root: Path, query: str) -> tuple:
    from warehouse.catalog import connect

    return connect(root).sql(query).fetchall()[0]


def metrics_table(root: Path) -> str:
    """Per strategy, its latest run per underlying and day: the report's own metrics."""
    from backtest.reports.load import load_report
    from backtest.reports.tables import metrics_table as table
    from warehouse.catalog import connect

    strategies = [r[0] for r in connect(root).sql("select distinct strategy from backtest_runs order by 1").fetchall()]
    return table([(s, load_report(root, s).metrics) for s in strategies],
                 ("trades", "win_rate", "net_pnl", "fees", "expectancy", "profit_factor", "sharpe", "max_drawdown",
                  "fee_share_of_gross", "end_of_data_exits"), first="strategy").text()


def quality_summary(root: Path) -> str:
    """Run every expectation suite and build the Data Docs; one line per failed expectation."""
    from expectations.docs import run_quality

    report = run_quality(root)
    lines = [f"quality: {len(report.outcomes)} batches validated, {len(report.failures)} failed expectations"]
    lines += [f"  {suite} {batch}: {check}" for suite, batch, check in report.failures]
    lines.append(f"  Data Docs: {report.docs_index}")
    return "\n".join(lines)


def run_demo(out: Path, root: Path, quiet: bool = False) -> int:
    from generator.config import GeneratorConfig
    from generator.driver import generate
    from orchestration.progress import Progress
    from orchestration.run import materialize_groups
    from orchestration.sql import run_sql

    t0 = time.perf_counter()
    source = out / "source"
    say = (lambda m: None) if quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    say(f"[1/3] generating {DEMO_DAYS} trading days, BANKNIFTY+NIFTY ATM±{DEMO_STRIKES} into {source}")
    cfg = GeneratorConfig(out=source, start=dt.date(2025, 11, 3), days=DEMO_DAYS, strikes=DEMO_STRIKES, seed=7)
    manifest = generate(cfg, progress=Progress("generate", quiet=quiet))
    say(f"[2/3] materialising every asset into {root}")
    os.environ["TICKLAKE_LANDING"] = str(source.resolve())
    summary = materialize_groups(root, quiet=quiet)
    say("[3/3] summary")
    print(f"source: {sum(manifest['tables'].values()):,} rows in {len(manifest['files'])} files ({source})")
    print(summary)
    print(run_sql(root, """
        select target, sum(source_rows) source_rows, sum(written) written, sum(deduped) deduped,
               sum(quarantined) quarantined, sum(repaired) repaired
        from ingest_runs group by all order by 1"""))
    print(run_sql(root, "select reason, count(*) rows from quarantine group by all order by 2 desc"))
    print(run_sql(root, "select kind, count(*) gaps, sum(seconds) total_seconds from gaps group by all order by 1"))
    print(quality_summary(root))
    print(metrics_table(root))
    runs, trades, errors = run_sql_row(root, """select (select count(*) from backtest_runs), (select count(*) from trade_legs),
                                                 (select count(*) from audit_findings where severity = 'error')""")
    print(f"audit: {runs} runs, {trades} trade legs replayed independently, {errors} error findings")
    print(f"report: {root / 'reports' / 'backtest_summary.html'}")
    print(f"guarded straddle and its variants 2A-2D side by side: {root / 'reports' / 'guarded_variants.html'}")
    print(f"demo finished in {time.perf_counter() - t0:,.0f}s. Next:\n"
          f"  .venv/bin/ticklake sql \"select underlying, date, count(*) from options_ticks group by all\"\n"
          f"  .venv/bin/ticklake ui      # Dagster UI on http://127.0.0.1:3000")
    return 0
