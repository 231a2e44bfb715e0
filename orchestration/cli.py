"""`ticklake` command line: thin wiring over the layers; every failure is one line on stderr."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from warehouse.layout import warehouse_root


def _csv_list(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def cmd_generate(a: argparse.Namespace) -> int:
    from ingest.generator.config import GeneratorConfig
    from ingest.generator.driver import generate
    from orchestration.progress import Progress

    cfg = GeneratorConfig(out=Path(a.out), start=dt.date.fromisoformat(a.start), days=a.days,
                          underlyings=_csv_list(a.underlyings), strikes=a.strikes, seed=a.seed,
                          formats=_csv_list(a.formats), mariadb_url=a.mariadb,
                          index_csv=Path(a.index_csv) if a.index_csv else None, quirks=not a.clean,
                          malformed_rows=a.malformed_rows, truncated_statement=a.truncated_statement)
    progress = Progress("generate", quiet=a.quiet)
    manifest = generate(cfg, progress=progress)
    rows = sum(manifest["tables"].values())
    progress.rows = rows
    progress.done(f"-> {a.out}")
    if not a.quiet:
        print(f"generated {len(manifest['files'])} files, {rows:,} source rows in {a.out} "
              f"(manifest: {Path(a.out) / 'manifest.json'})")
    return 0


def cmd_ingest(a: argparse.Namespace) -> int:
    from ingest.pipeline import run_ingest
    from orchestration.progress import Progress

    root = warehouse_root(a.warehouse)
    progress = Progress("ingest", quiet=a.quiet)
    report = run_ingest(a.sources, root, workers=a.workers, progress=progress)
    t = report.totals()
    progress.rows = t["source_rows"]
    progress.done()
    if not a.quiet:
        print(f"ingest {report.run_id}: {t['source_rows']:,} source rows -> {t['written']:,} written, "
              f"{t['deduped']:,} deduped, {t['quarantined']:,} quarantined ({t['repaired']:,} repaired), "
              f"{report.partitions} partitions in {report.seconds:,.1f}s; warehouse {root}")
    return 0


def cmd_sql(a: argparse.Namespace) -> int:
    from orchestration.sql import run_sql

    sys.stdout.write(run_sql(warehouse_root(a.warehouse), a.query, a.format))
    return 0


def cmd_ui(a: argparse.Namespace) -> int:
    from orchestration.instance import dagster_env

    root = warehouse_root(a.warehouse)
    env = dagster_env(root)
    args = ["dagster-webserver", "-h", "127.0.0.1", "-p", str(a.port), "-m", "orchestration.definitions"]
    print(f"Dagster UI on http://127.0.0.1:{a.port} (warehouse {root}); Ctrl-C to stop", file=sys.stderr)
    exe = Path(sys.executable).with_name("dagster-webserver")
    os.execvpe(str(exe) if exe.exists() else args[0], args, env)
    return 0


def cmd_materialize(a: argparse.Namespace) -> int:
    from orchestration.run import materialize_groups

    root = warehouse_root(a.warehouse)
    summary = materialize_groups(root, groups=a.group or None, partitions=a.partition or None, quiet=a.quiet)
    if not a.quiet:
        print(summary)
    return 0


def _print_sweep(results, underlying: str, days) -> None:
    print(f"{underlying} {days[0]}..{days[-1]} ({len(days)} days), {len(results)} combinations, best net first")
    print(f"{'combination':40s} {'trades':>7s} {'win':>6s} {'net':>12s} {'PF':>6s} {'max DD':>10s}  run")
    for name, r in sorted(results, key=lambda x: -x[1].metrics["net_pnl"]):
        m = r.metrics
        print(f"{name:40s} {m['trades']:7d} {m['win_rate']:6.1%} {m['net_pnl']:12,.2f} {m['profit_factor']:6.2f} "
              f"{m['max_drawdown']:10,.2f}  {r.run_id}")


def cmd_backtest(a: argparse.Namespace) -> int:
    from backtest.config import load_config
    from backtest.run import available_days, run_backtest
    from backtest.strategies import get
    from backtest.sweep import sweep

    root = warehouse_root(a.warehouse)
    cfg = load_config(a.strategy, a.config)
    start = dt.date.fromisoformat(a.start) if a.start else None
    end = dt.date.fromisoformat(a.end) if a.end else None
    underlyings = [a.underlying] if a.underlying else ["BANKNIFTY", "NIFTY"]
    for u in underlyings:
        days = available_days(root, u, start, end)
        if not days:
            raise RuntimeError(f"no feature partitions for {u} in the range; run `ticklake materialize` first")
        if a.sweep:
            _print_sweep(sweep(root, get(a.strategy), cfg, a.sweep, u, days, write=a.write), u, days)
            continue
        res = run_backtest(root, get(a.strategy), cfg, u, days, log_events=not a.no_events)
        m = res.metrics
        print(f"{res.run_id} {u} {days[0]}..{days[-1]} ({len(days)} days): {m['trades']} trades, "
              f"win {m['win_rate']:.1%}, net {m['net_pnl']:,.2f}, fees {m['fees']:,.2f}, "
              f"PF {m['profit_factor']:.2f}, max DD {m['max_drawdown']:,.2f}" if m["trades"] else
              f"{res.run_id} {u}: no trades in {len(days)} days")
    from warehouse.catalog import write_catalog
    write_catalog(root)
    return 0


def cmd_audit(a: argparse.Namespace) -> int:
    from backtest.audit import summary
    from orchestration.assets.audits import audit_runs, errors_of

    audited = audit_runs(warehouse_root(a.warehouse), [a.run] if a.run else None, sample_per_day=a.sample)
    if not audited:
        raise RuntimeError("no backtest runs in the warehouse")
    print(f"{'strategy':24s} {'run':44s} {'trades':>7s}  findings")
    for row, trades, findings in audited:
        detail = ", ".join(f"{c}/{s}: {n}" for c, s, n in summary(findings)) or "clean"
        print(f"{row['strategy']:24s} {row['run_id']:44s} {trades:7d}  {detail}")
    errors = sum(errors_of(f) for _, _, f in audited)
    print(f"{len(audited)} runs audited, {errors} error findings (table audit_findings)")
    return 1 if errors else 0


def _audit_missing(root: Path, selectors: list[str]) -> None:
    """Audit the selected runs that have no stored findings yet, so the report can show them."""
    from backtest.reports.load import audited, resolve_runs
    from orchestration.assets.audits import audit_runs
    from warehouse.catalog import connect

    con = connect(root)
    missing = [r["run_id"] for s in selectors for r in resolve_runs(con, s) if not audited(root, r["run_id"])]
    if missing:
        audit_runs(root, missing)


def cmd_report(a: argparse.Namespace) -> int:
    from backtest.reports.load import write_report

    root = warehouse_root(a.warehouse)
    _audit_missing(root, a.runs)
    out = Path(a.out) if a.out else root / "reports" / f"{'_vs_'.join(a.runs)}.html"
    print(write_report(root, a.runs, out))
    return 0


def cmd_trade_chart(a: argparse.Namespace) -> int:
    from backtest.reports.load import write_trade_chart

    root = warehouse_root(a.warehouse)
    out = Path(a.out) if a.out else root / "reports" / f"{a.run}_{a.trade}.png"
    print(write_trade_chart(root, a.run, a.trade, out))
    return 0


def cmd_quality(a: argparse.Namespace) -> int:
    from expectations.docs import run_quality

    root = warehouse_root(a.warehouse)
    say = None if a.quiet else (lambda m: print(f"quality: {m}", file=sys.stderr, flush=True))
    params = {"coverage_floor": a.coverage_floor} if a.coverage_floor is not None else {}
    report = run_quality(root, params, progress=say)
    for suite, batch, check in report.failures:
        print(f"FAILED {suite} {batch}: {check}")
    print(f"{len(report.outcomes)} batches validated, {len(report.failures)} failed expectations, "
          f"{len(report.heatmaps)} coverage heatmaps")
    print(report.docs_index)
    return 1 if a.strict and report.failures else 0


def cmd_demo(a: argparse.Namespace) -> int:
    from orchestration.demo import run_demo

    return run_demo(Path(a.out), warehouse_root(a.warehouse), quiet=a.quiet)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ticklake", description="NSE option tick warehouse, features and backtests")
    p.add_argument("--warehouse", help="warehouse root (default $TICKLAKE_WAREHOUSE or ./warehouse)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="realistic source archive in the recorder's real formats")
    g.add_argument("--out", required=True)
    g.add_argument("--start", default="2025-11-03")
    g.add_argument("--days", type=int, default=3)
    g.add_argument("--underlyings", default="BANKNIFTY,NIFTY")
    g.add_argument("--strikes", type=int, default=5, help="ATM +- K strikes")
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--formats", default="sqldump", help="sqldump,mariadb,kite,flattrade,binance")
    g.add_argument("--mariadb", help="mysql+pymysql://user:pass@host:port URL to load (format mariadb)")
    g.add_argument("--index-csv", help="drive the index from a real 1-second CSV (YYYY-MM-DD HH:MM:SS,price)")
    g.add_argument("--clean", action="store_true", help="no injected quirks")
    g.add_argument("--malformed-rows", type=int, default=0, help="inject N malformed tuples")
    g.add_argument("--truncated-statement", action="store_true", help="cut the last statement mid-tuple")
    g.set_defaults(func=cmd_generate)

    i = sub.add_parser("ingest", help="ingest dumps / MariaDB / JSON / CSV sources into the warehouse")
    i.add_argument("sources", nargs="+")
    i.add_argument("--workers", type=int, default=1)
    i.set_defaults(func=cmd_ingest)

    m = sub.add_parser("materialize", help="run Dagster assets in-process")
    m.add_argument("--group", action="append", help="asset group (repeatable); default all")
    m.add_argument("--partition", action="append", help="partition key e.g. 2025-11-03|NIFTY (repeatable)")
    m.set_defaults(func=cmd_materialize)

    s = sub.add_parser("sql", help="DuckDB SQL over the warehouse views (IST)")
    s.add_argument("query")
    s.add_argument("--format", choices=("table", "csv", "json"), default="table")
    s.set_defaults(func=cmd_sql)

    u = sub.add_parser("ui", help="Dagster webserver on 127.0.0.1")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(func=cmd_ui)

    b = sub.add_parser("backtest", help="run one strategy over the feature store")
    b.add_argument("--strategy", required=True)
    b.add_argument("--config", help="TOML/JSON overrides of the strategy's defaults")
    b.add_argument("--underlying", choices=("BANKNIFTY", "NIFTY"))
    b.add_argument("--start")
    b.add_argument("--end")
    b.add_argument("--no-events", action="store_true", help="do not log trade events")
    b.add_argument("--sweep", action="append", metavar="SECTION.KEY=V1,V2",
                   help="sweep a config value (repeatable: every combination, each day read once)")
    b.add_argument("--write", action="store_true", help="with --sweep: store every combination's run")
    b.set_defaults(func=cmd_backtest)

    au = sub.add_parser("audit", help="replay audit of backtest runs (exit 1 on any error finding)")
    au.add_argument("--run", help="one run id (default: every run)")
    au.add_argument("--sample", type=int, metavar="N", help="audit N random trades per day (seeded); default all")
    au.set_defaults(func=cmd_audit)

    r = sub.add_parser("report", help="self-contained HTML report of runs (several: side by side)")
    r.add_argument("runs", nargs="+", metavar="RUN", help="run id, or strategy name for all its runs")
    r.add_argument("--out", help="HTML file (default <warehouse>/reports/RUN.html)")
    r.set_defaults(func=cmd_report)

    tc = sub.add_parser("trade-chart", help="PNG of one trade: bid/ask band, padded seconds, entry/exit, stop/target")
    tc.add_argument("run")
    tc.add_argument("trade")
    tc.add_argument("--out", help="PNG file (default <warehouse>/reports/RUN_TRADE.png)")
    tc.set_defaults(func=cmd_trade_chart)

    q = sub.add_parser("quality", help="run every expectation suite, build Data Docs, print the HTML path")
    q.add_argument("--coverage-floor", type=float, help="minimum real-row share per contract-day (default 0.8)")
    q.add_argument("--strict", action="store_true", help="exit 1 when any expectation fails")
    q.set_defaults(func=cmd_quality)

    d = sub.add_parser("demo", help="generate a demo archive and materialise every asset")
    d.add_argument("--out", default="demo")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("ticklake: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user; TICKLAKE_DEBUG=1 shows the traceback
        if os.environ.get("TICKLAKE_DEBUG"):
            raise
        msg = " ".join(str(exc).split()) or type(exc).__name__
        print(f"ticklake {args.command}: {type(exc).__name__}: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
