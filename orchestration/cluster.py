"""Running on a Dask cluster: `--cluster tcp://host:8786` (or `$TICKLAKE_DASK_SCHEDULER`) names a
scheduler; without one everything runs in this process, as it always did.

The cluster is another way to run the same tasks, never other tasks: the warehouse's atomic
partition writes and the ingest's staging/commit rules are what make a task safe to run twice (a
worker that dies mid-task has its task rerun elsewhere by the scheduler, `allowed-failures` times),
so every result is the one the in-process run writes.

The workers must import this code and see the warehouse root at the same path (a shared
filesystem): `connect` checks both on every worker before anything runs, and says in one line
which worker lacks what.
"""
from __future__ import annotations

import os
import socket
from concurrent.futures import Executor
from pathlib import Path

import click

ENV = "TICKLAKE_DASK_SCHEDULER"
CONNECT_TIMEOUT_S = 10


class ClusterError(RuntimeError):
    """The scheduler cannot be reached, has no workers, or a worker cannot run our tasks."""


def scheduler_address(given: str | None = None) -> str | None:
    """The scheduler the run names (`--cluster`, else $TICKLAKE_DASK_SCHEDULER), or None: in-process."""
    address = (given or os.environ.get(ENV) or "").strip()
    return address or None


CLUSTER = click.option("--cluster", metavar="tcp://HOST:PORT", default=None,
                       help=f"run the tasks on this Dask scheduler's workers (default ${ENV}; none: in-process)")


def _worker_check(root: str, version: str) -> str | None:
    """On a worker: None when it can run our tasks on `root`, else why not (one line)."""
    try:
        import orchestration.cluster  # noqa: F401  (the code the tasks are in)
        from ingest.finalize import ingest_code_version
    except ImportError as exc:
        return f"cannot import ticklake ({exc})"
    if ingest_code_version() != version:
        return f"runs another ticklake version ({ingest_code_version()}, this process {version})"
    path = Path(root)
    if not path.is_dir():
        return f"does not see the warehouse root {root} (mount the shared filesystem at the same path)"
    if not os.access(path, os.W_OK):
        return f"cannot write the warehouse root {root}"
    return None


def _malloc_settings() -> tuple[str | None, str | None]:
    """On a worker: its MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ environment values."""
    return os.environ.get("MALLOC_MMAP_THRESHOLD_"), os.environ.get("MALLOC_TRIM_THRESHOLD_")


def malloc_warning(settings: dict[str, tuple[str | None, str | None]]) -> str | None:
    """One line when workers run with a trim threshold and no mmap threshold (what Dask's nanny sets
    by default, MALLOC_TRIM_THRESHOLD_=65536): glibc's dynamic mmap threshold is then off, every
    array over 128 KiB a fresh mmap, and a backtest costs ~2x the CPU (local_cluster.MALLOC_ENV)."""
    slow = sorted(w for w, (mmap, trim) in settings.items() if trim is not None and mmap is None)
    if not slow:
        return None
    return (f"warning: {len(slow)} of {len(settings)} Dask workers ({slow[0]}{', ...' if len(slow) > 1 else ''}) "
            f"run with MALLOC_TRIM_THRESHOLD_ and no MALLOC_MMAP_THRESHOLD_: backtests there take ~2x the CPU; "
            f"start them with both (README, Running on a Dask cluster)")


def connect(address: str, root: Path, min_workers: int = 1):
    """A `distributed.Client` on the scheduler at `address`, once every worker has been checked to
    import this code and see `root`; ClusterError (one line) otherwise."""
    from distributed import Client

    from ingest.finalize import ingest_code_version

    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"no Dask scheduler at {address}: {exc}".splitlines()[0]) from None
    try:
        try:
            client.wait_for_workers(min_workers, timeout=CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise ClusterError(f"the Dask scheduler at {address} has no workers (start `dask worker {address}`)") \
                from None
        try:
            answers = client.run(_worker_check, str(root), ingest_code_version())
        except Exception as exc:          # a worker without our code cannot even unpickle the check
            raise ClusterError(f"a Dask worker of {address} cannot run ticklake tasks: "
                               f"{type(exc).__name__}: {exc}".splitlines()[0]) from None
        bad = {w: why for w, why in answers.items() if why}
        if bad:
            worker, why = sorted(bad.items())[0]
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            raise ClusterError(f"Dask worker {worker} {why}{more}")
        slow = malloc_warning(client.run(_malloc_settings))
        if slow:
            click.echo(slow, err=True)
    except BaseException:
        client.close()
        raise
    return client


def executor(client) -> Executor:
    """A concurrent.futures Executor whose tasks run on the cluster's workers."""
    return client.get_executor()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_count(client) -> int:
    return len(client.nthreads())


class cluster_executor:
    """`with cluster_executor(address, root) as (executor, threads)`: the cluster's Executor and its
    worker-thread count, or (None, None) when `address` is None (in-process: callers keep their own
    default). The client is closed on exit."""

    def __init__(self, address: str | None, root: Path):
        self.address, self.root, self.client = address, root, None

    def __enter__(self) -> tuple[Executor | None, int | None]:
        if self.address is None:
            return None, None
        self.client = connect(self.address, self.root)
        return executor(self.client), sum(self.client.nthreads().values())

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
