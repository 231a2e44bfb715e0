"""Sweep speed on every core: a 100-config sweep (exits.target x exits.stop, 10 x 10) of one
strategy over the demo days, configs per second with 1 and with 2 worker processes
(backtest.parallel.run_parallel, each run into a fresh checkpoint directory so nothing is reused;
no trade events, as `ticklake backtest --sweep` without --write),
and the old single-process `run_many` as the baseline. Target (issue #18): 2 processes >= 1.7x one.

The timed region is what `ticklake backtest --sweep` does before printing its table: the runs' ids
and metrics (each config summarised in the worker that ran it); their legs and events stay in the
checkpoints until a caller reads them (walk-forward does), which the sweep table does not.

The machine is shared: the load average is printed with each timing, and the ratio is measured in
rounds timed back to back (1 process, then 2), the median reported. Linux groups a session's
processes for the scheduler (autogroup): on a machine whose cores are all busy, a second worker
process of the same command gets no more CPU than the first had alone, so the wall-clock ratio
shows scaling only when a core is idle. CPU seconds (this process and its workers) are printed
too: the same CPU on 2 processes as on 1 says the work splits without overhead, and
`projected` = CPU(1 process) / (parent CPU + workers' CPU / 2) is the ratio an otherwise idle
2-core machine would show. Under each run, its profile (the sweep's last_run.json): the parent's
phases (prepare, preload of the days for the forked workers, pool start, wait, shutdown) and each
chunk's (load, engine, checkpoint writes, finish = the run's metrics), as wall/CPU seconds, with
the chunk's minor page faults. Kernels are compiled (or loaded from Numba's cache) by a warm-up
first; the pool forks after it, so workers start warm.

The small default demo (2 days of NIFTY) is ~3 CPU-seconds of sweep: a fixed cost of a tenth of a
second is 3 % of it. A bigger workload with the same shape, more days (5 days of NIFTY ATM+-2):

    ticklake generate --out /tmp/big-src --days 6 --underlyings NIFTY --strikes 2 --quiet
    TICKLAKE_LANDING=/tmp/big-src/sqldump ticklake --warehouse /tmp/big-wh materialize --group ingest --group gaps --group features
    .venv/bin/python benchmarks/sweep.py --warehouse /tmp/big-wh

    .venv/bin/python benchmarks/sweep.py [--warehouse ./warehouse] [--strategy micro_ema_flip]   (after `make demo`)
"""
from __future__ import annotations

import argparse
import copy
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backtest.config import apply_overrides  # noqa: E402
from backtest.parallel import profile_lines, run_parallel  # noqa: E402
from backtest.run import available_days, run_many  # noqa: E402
from backtest.strategies import get  # noqa: E402
from backtest.sweep import grid  # noqa: E402
from warehouse.layout import warehouse_root  # noqa: E402

TARGETS = "exits.target=" + ",".join(f"{1 + 0.25 * k:g}" for k in range(10))
STOPS = "exits.stop=" + ",".join(f"{0.5 + 0.25 * k:g}" for k in range(10))
TARGET_SCALING = 1.7


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def cpu() -> tuple[float, float]:
    """CPU seconds of this process and of its reaped worker processes."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def timed(fn) -> tuple[float, float, float]:
    """(wall, own CPU, workers' CPU) seconds of fn()."""
    t, (a, b) = time.perf_counter(), cpu()
    fn()
    a2, b2 = cpu()
    return time.perf_counter() - t, a2 - a, b2 - b


def profile(ckpt: Path) -> None:
    for line in profile_lines(ckpt):
        print(f"    {line}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse")
    ap.add_argument("--strategy", default="micro_ema_flip")
    ap.add_argument("--underlying", default="NIFTY")
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    root = warehouse_root(a.warehouse)
    days = available_days(root, a.underlying, None, None)
    s = get(a.strategy)
    jobs = [(s, apply_overrides(copy.deepcopy(s.default()), o)) for o in grid(TARGETS, STOPS)]
    n = len(jobs) * len(days)
    print(f"{a.strategy} {a.underlying}: {len(jobs)} configs x {len(days)} days = {n} config-days; "
          f"{os.cpu_count()} cores; {load()}")
    run_many(root, jobs[:1], a.underlying, days[:1], write=False)          # JIT warm-up
    scratch = Path(tempfile.mkdtemp(prefix="sweep-bench-"))

    def parallel(workers: int, k: int):
        return lambda: run_parallel(root, jobs, a.underlying, days, workers=workers, log_events=False,
                                    checkpoints=scratch / f"{workers}-{k}")

    base, base_cpu, _ = timed(lambda: run_many(root, jobs, a.underlying, days, log_events=False, write=False))
    print(f"baseline run_many (one process, no checkpoints): {base:6.2f} s  {len(jobs) / base:6.2f} configs/s  "
          f"{n / base:6.2f} config-days/s  CPU {base_cpu:5.2f} s  ({load()})")
    ratios, projected = [], []
    try:
        for k in range(a.rounds):
            one, own1, kids1 = timed(parallel(1, k))
            print(f"round {k + 1}: 1 process   {one:6.2f} s  {len(jobs) / one:6.2f} configs/s  "
                  f"CPU {own1 + kids1:5.2f} s  ({load()})")
            profile(scratch / f"1-{k}")
            two, own2, kids2 = timed(parallel(2, k))
            print(f"round {k + 1}: 2 processes {two:6.2f} s  {len(jobs) / two:6.2f} configs/s  "
                  f"CPU {own2 + kids2:5.2f} s (parent {own2:.2f}, workers {kids2:.2f})  ({load()})")
            profile(scratch / f"2-{k}")
            ratios.append(one / two)
            projected.append((own1 + kids1) / (own2 + kids2 / 2))
            print(f"round {k + 1}: wall ratio {ratios[-1]:.2f}x, projected on an idle machine {projected[-1]:.2f}x")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"median projected ratio (CPU split) 2 vs 1 process: {statistics.median(projected):.2f}x")
    med = statistics.median(ratios)
    print(f"median ratio (scaling) 2 vs 1 process: {med:.2f}x (target >= {TARGET_SCALING}x: "
          f"{'met' if med >= TARGET_SCALING else 'NOT met'})")


if __name__ == "__main__":
    main()
