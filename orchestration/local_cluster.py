"""A Dask cluster on this machine, for tests and benchmarks: a `dask scheduler` and `dask worker`
processes on loopback (each worker under its nanny, which restarts it when it is killed), on a free
port, each worker one thread (a Dagster step is not thread-safe; a sweep chunk uses one core), torn
down by `stop`. On real machines start them by hand (README, "Running on a Dask cluster")."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")
# glibc malloc as in any Python process (its dynamic limits' maximums), not Dask's: a nanny starts its
# worker with MALLOC_TRIM_THRESHOLD_=65536 (distributed.nanny.pre-spawn-environ), and a threshold set
# at all turns off glibc's dynamic mmap threshold, so every array over 128 KiB is a fresh mmap,
# page-faulted in and unmapped again: a backtest's signal arrays made the engine 2x the CPU
# (435,000 minor faults per 100 config-days against 300 in-process; benchmarks/cluster.py). A value
# in the nanny's environment wins over Dask's; README "Running on a Dask cluster" says the same for
# workers started by hand.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(64 << 20)}


def _free_port() -> int:
    from orchestration.cluster import free_port

    return free_port()



class LocalDaskCluster:
    def __init__(self, workers: int = 2, log_dir: Path | None = None):
        self.n = workers
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def _spawn(self, *args: str, name: str) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(REPO), "DASK_DISTRIBUTED__WORKER__DAEMON": "False", **MALLOC_ENV}
        log = open(self.log_dir / f"{name}.log", "wb") if self.log_dir else subprocess.DEVNULL
        return subprocess.Popen([str(DASK), *args], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start(self) -> "LocalDaskCluster":
        self.procs.append(self._spawn("scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                      "--no-dashboard", name="scheduler"))
        for i in range(self.n):
            self.procs.append(self._spawn("worker", self.address, "--nthreads", "1", "--nworkers", "1",
                                          "--no-dashboard", "--memory-limit", "0", "--name", f"w{i}",
                                          "--host", "127.0.0.1", name=f"worker{i}"))
        self.wait(self.n)
        return self

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=30, set_as_default=False)

    def wait(self, n: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.client() as c:
                    c.wait_for_workers(n, timeout=max(1.0, deadline - time.monotonic()))
                return
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise

    def worker_pids(self) -> dict[str, int]:
        """{worker address: pid of its (nanny-managed) worker process}."""
        with self.client() as c:
            return c.run(os.getpid)

    def stop(self) -> None:
        for p in reversed(self.procs):          # workers first, the scheduler last
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs = []
