"""Sweeps on a Dask cluster: a 100-config sweep (exits.target x exits.stop, 10 x 10) of one strategy
over the warehouse's days, as (config chunk x every day) tasks of backtest.parallel.run_parallel on
the workers of a local cluster (a real `dask scheduler` and `dask worker` processes on loopback).

Two ratios, each measured in rounds timed back to back, the median reported:
- scaling: the sweep on a 1-worker cluster / on a 2-worker cluster (target >= 1.6x on 2 cores);
- overhead: the sweep on a 1-worker cluster / the same sweep in this process on one core
  (run_parallel with workers=1, Arrow and Numba limited to one thread as in a Dask worker, whose
  nanny sets OMP_NUM_THREADS=1; target <= 1.2x).

The machine is shared: the load average is printed with each timing, and each run's profile from
its last_run.json (backtest.parallel: per phase "wall/CPU" seconds of the parent and of each task
inside its worker, and the task's minor page faults), so Dask's own cost (the client's wall minus
the task's) is told apart from slower execution inside a worker. `projected` ratios divide the
tasks' CPU seconds: what an otherwise idle machine would show, without Dask's own costs.

The clusters stand for a user's running scheduler and workers, started before the sweep and kept:
each worker first runs an untimed warm-up sweep of a few configs (it imports ticklake, loads the
kernels from Numba's cache, grows its heap), as a worker that has run any sweep before has; the
in-process baseline is warmed the same way. Every timed run writes fresh checkpoints, so nothing
is reused. The workers run with glibc's malloc limits (orchestration.local_cluster.MALLOC_ENV),
not Dask's MALLOC_TRIM_THRESHOLD_=65536, which doubles the engine's CPU.

The same bigger workload as benchmarks/sweep.py (5 days of NIFTY, its docstring says how to build
it): `--warehouse /tmp/big-wh`.

    .venv/bin/python benchmarks/cluster.py [--warehouse ./warehouse] [--strategy micro_ema_flip]   (after `make demo`)
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backtest.config import apply_overrides  # noqa: E402
from backtest.parallel import profile_lines, run_parallel  # noqa: E402
from backtest.run import available_days  # noqa: E402
from backtest.strategies import get  # noqa: E402
from backtest.sweep import grid  # noqa: E402
from orchestration.local_cluster import LocalDaskCluster  # noqa: E402
from warehouse.layout import warehouse_root  # noqa: E402

TARGETS = "exits.target=" + ",".join(f"{1 + 0.25 * k:g}" for k in range(10))
STOPS = "exits.stop=" + ",".join(f"{0.5 + 0.25 * k:g}" for k in range(10))
TARGET_SCALING, TARGET_OVERHEAD = 1.6, 1.2


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def task_cpu(ckpt: Path) -> list[float]:
    """CPU seconds of each task of a run (its process, every thread), from its last_run.json."""
    return [c["phases"]["task"][1] for c in json.loads((ckpt / "last_run.json").read_text())["chunks"]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse")
    ap.add_argument("--strategy", default="micro_ema_flip")
    ap.add_argument("--underlying", default="NIFTY")
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    root = warehouse_root(a.warehouse).resolve()
    days = available_days(root, a.underlying, None, None)
    if not days:
        sys.exit(f"no feature partitions of {a.underlying} in {root}: run `make demo` (or pass --warehouse)")
    s = get(a.strategy)
    jobs = [(s, apply_overrides(copy.deepcopy(s.default()), o)) for o in grid(TARGETS, STOPS)]
    n = len(jobs) * len(days)
    print(f"{a.strategy} {a.underlying}: {len(jobs)} configs x {len(days)} days = {n} config-days; "
          f"{os.cpu_count()} cores; {load()}")
    scratch = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    clusters = {w: LocalDaskCluster(w).start() for w in (1, 2)}
    clients = {w: c.client() for w, c in clusters.items()}
    runs = iter(range(1 << 30))
    last: list[Path] = []

    def sweep(workers: int, on_cluster: bool, configs=jobs):
        executor = clients[workers].get_executor() if on_cluster else None
        ckpt = scratch / f"{workers}-{on_cluster}-{next(runs)}"
        last.append(ckpt)
        return lambda: run_parallel(root, configs, a.underlying, days, executor=executor, workers=workers,
                                    checkpoints=ckpt)

    # a Dask worker process runs with OMP_NUM_THREADS=1 (distributed's nanny sets it), so Arrow decodes
    # Parquet on one thread there; the in-process baseline gets the same limit, or "one core" would
    # be two cores of Parquet decoding against one
    import numba
    import pyarrow as pa

    pa.set_cpu_count(1)
    numba.set_num_threads(1)
    try:
        for w in (1, 2):                                  # the warm-up (see the docstring)
            sweep(w, True, jobs[:10 * w])()
        sweep(1, False, jobs[:10])()
        scaling, overhead, proj_scaling, proj_overhead = [], [], [], []
        for k in range(a.rounds):
            here = timed(sweep(1, False))
            one = timed(sweep(1, True))
            two = timed(sweep(2, True))
            for name, t, ckpt in (("in-process, 1 core ", here, last[-3]), ("cluster, 1 worker  ", one, last[-2]),
                                  ("cluster, 2 workers ", two, last[-1])):
                print(f"round {k + 1}: {name} {t:7.2f} s  {len(jobs) / t:6.2f} configs/s  {n / t:7.2f} config-days/s")
                for line in profile_lines(ckpt):
                    print(f"    {line}")
            scaling.append(one / two)
            overhead.append(one / here)
            cpu_here, cpu_one, cpu_two = (task_cpu(c) for c in last[-3:])
            proj_scaling.append(sum(cpu_one) / max(cpu_two))
            proj_overhead.append(sum(cpu_one) / sum(cpu_here))
            print(f"round {k + 1}: scaling {scaling[-1]:.2f}x, overhead {overhead[-1]:.2f}x  ({load()}); tasks' CPU "
                  f"in-process {sum(cpu_here):.2f} s, 1 worker {sum(cpu_one):.2f} s, 2 workers "
                  f"{' + '.join(f'{c:.2f}' for c in cpu_two)} s: projected scaling {proj_scaling[-1]:.2f}x, "
                  f"overhead {proj_overhead[-1]:.2f}x")
    finally:
        for c in clients.values():
            c.close()
        for c in clusters.values():
            c.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"median projected (tasks' CPU) scaling {statistics.median(proj_scaling):.2f}x, "
          f"overhead {statistics.median(proj_overhead):.2f}x")
    sc, ov = statistics.median(scaling), statistics.median(overhead)
    print(f"median scaling 2 vs 1 worker: {sc:.2f}x (target >= {TARGET_SCALING}x: "
          f"{'met' if sc >= TARGET_SCALING else 'NOT met'})")
    print(f"median overhead cluster (1 worker) vs in-process (1 core): {ov:.2f}x (target <= {TARGET_OVERHEAD}x: "
          f"{'met' if ov <= TARGET_OVERHEAD else 'NOT met'})")


if __name__ == "__main__":
    main()
