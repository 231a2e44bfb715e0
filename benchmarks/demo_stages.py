"""The demo's audit and leaderboard stages (issue #17) against their one-at-a-time baselines, on a
materialised warehouse (`make demo` first), measured back to back in one process.

  audit        backtest.audit.batch (each underlying-day's market read and grouped once for all its
               runs; legs and events of all runs in one query) vs one run at a time
               (audit_stored_run per run on one connection, as audit_runs did before). The checks
               are the same code on both sides (the queue replay's windowed rows and the Series
               memo speed up both), so the ratio is what the batching buys; nothing is written.
  leaderboard  every strategy's report on a process pool, one connection per worker
               (write_reports) vs one report after another, each opening its own connection
               (write_report per strategy, as write_leaderboard did before); written to a temp folder.

Both sides must give the same findings (row for row) and the same report bytes, or the script
exits 1. Printed: wall and CPU seconds (this process and its finished workers), the load average
before and after each measurement, runs, trade legs and reports, and each ratio.

    .venv/bin/python benchmarks/demo_stages.py [--warehouse ./warehouse] [--workers N] [--no-baseline]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backtest.audit import audit_stored_run  # noqa: E402
from backtest.audit.batch import audit_many  # noqa: E402
from backtest.reports.load import write_report, write_reports  # noqa: E402
from warehouse.catalog import connect  # noqa: E402
from warehouse.layout import warehouse_root  # noqa: E402

TARGET = {"audit": 40.0, "leaderboard": 20.0}     # seconds on the quiet 2-core machine (the demo's 113 s, 49 s)


def _cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def timed(label: str, f):
    load = os.getloadavg()[0]
    t, c = time.perf_counter(), _cpu()
    out = f()
    wall, cpu = time.perf_counter() - t, _cpu() - c
    print(f"  {label:34s} wall {wall:7.1f}s  cpu {cpu:7.1f}s  load {load:.2f} -> {os.getloadavg()[0]:.2f}", flush=True)
    return out, wall


def audit_each(root: Path, ids: list[str]) -> list:
    con = connect(root)
    out = [audit_stored_run(root, i, None, con) for i in ids]
    con.close()
    return out


def audit_batched(root: Path, ids: list[str]) -> list:
    con = connect(root)
    con.execute("SET parquet_metadata_cache = true")        # as backtest.audit_runs.audit_runs
    out = list(audit_many(con, ids))
    con.close()
    return out


def reports_each(root: Path, names: list[str], folder: Path) -> list[Path]:
    return [write_report(root, [n], folder / f"{n}.html") for n in names]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", help="a materialised warehouse with stored, audited runs (make demo)")
    ap.add_argument("--workers", type=int, help="report processes (default: the usable cores)")
    ap.add_argument("--no-baseline", action="store_true", help="time the new paths only")
    args = ap.parse_args()
    root = warehouse_root(args.warehouse)
    con = connect(root)
    ids = [r[0] for r in con.sql("select run_id from backtest_runs order by 1").fetchall()]
    names = [r[0] for r in con.sql("select distinct strategy from backtest_runs order by 1").fetchall()]
    legs = con.sql("select count(*) from trade_legs").fetchall()[0][0]
    con.close()
    if not ids:
        print(f"no backtest runs in {root}: run `make demo` (or ticklake backtest --all) first")
        return 0
    print(f"warehouse {root}: {len(ids)} runs, {legs:,} trade legs, {len(names)} strategies; "
          f"{len(os.sched_getaffinity(0))} usable cores")
    ok = True
    print("audit (no findings written):")
    batched, new = timed("batched (backtest.audit.batch)", lambda: audit_batched(root, ids))
    print(f"    {len(batched)} runs, {sum(i.legs.num_rows for _, i, _ in batched):,} legs, "
          f"{sum(f.num_rows for _, _, f in batched):,} findings")
    if not args.no_baseline:
        each, old = timed("one run at a time (baseline)", lambda: audit_each(root, ids))
        same = [repr(f.to_pylist()) for _, _, f in each] == [repr(f.to_pylist()) for _, _, f in batched]
        ok &= same
        print(f"    audit ratio (baseline / batched): {old / new:.2f}x; findings identical: {same}")
    print(f"    target <= {TARGET['audit']:.0f}s on the quiet machine: {'met' if new <= TARGET['audit'] else 'MISSED'} "
          f"({new:.1f}s)")
    print("leaderboard reports (to a temp folder):")
    with tempfile.TemporaryDirectory(prefix="demo-stages-") as tmp:
        pooled, base = Path(tmp) / "pooled", Path(tmp) / "each"
        pooled.mkdir()
        base.mkdir()
        _, new = timed(f"process pool (write_reports, {args.workers or 'all'} workers)",
                       lambda: write_reports(root, names, pooled, args.workers))
        if not args.no_baseline:
            _, old = timed("one after another (baseline)", lambda: reports_each(root, names, base))
            same = all((pooled / f"{n}.html").read_bytes() == (base / f"{n}.html").read_bytes() for n in names)
            ok &= same
            print(f"    leaderboard ratio (baseline / pooled): {old / new:.2f}x; {len(names)} reports byte-identical: {same}")
    print(f"    target <= {TARGET['leaderboard']:.0f}s on the quiet machine: "
          f"{'met' if new <= TARGET['leaderboard'] else 'MISSED'} ({new:.1f}s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
