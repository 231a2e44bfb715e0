"""Ingest, the whole run (the imperative shell of `ticklake ingest` and the ingest assets).

    stage_source()       one source (dump file, MariaDB URL, JSON dir, crypto CSV) -> committed
                         pending inputs (ingest.stage, ingest.mariadb_source, ingest.crypto)
    finalize_partition() one (kind, underlying, date) key -> warehouse partition, ledger and
                         quarantine rows (ingest.finalize)
    run_ingest()         both, for every source of a run

A run first sweeps what dead runs left in the pending area. A dump whose content (sha256) the
warehouse already holds is not read again: either it was ingested (the summary says so), or a run
that died committed its stage, which this run assembles instead of staging the source twice. Every
source ends in exactly one of: staged whole, staged in part (`partial`: where it stopped, what was
kept), skipped (same content as an earlier one), unreadable (nothing recognised: `unreadable`).

With `workers > 1` sources are staged and keys assembled in a process pool whose workers die with
the ingest process (PR_SET_PDEATHSIG) and never commit a stage once it is gone; they report
progress to it through a queue.
"""
from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import multiprocessing
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ingest import staging
from ingest.crypto import ingest_crypto
from ingest.finalize import finalize_partition
from ingest.ledger import migrate_legacy
from ingest.mariadb_source import stage_mariadb
from ingest.stage import Progress, StageResult, UnreadableSource, stage_dump, stage_json_dir
from warehouse.catalog import write_catalog
from warehouse.files import atomic_write_json, crash_point, read_json, sha256_file

REGISTRY = "ingest_sources.json"    # sha256 -> {source, size, run_id, partial} of every dump staged
PR_SET_PDEATHSIG = 1


def new_run_id(prefix: str = "ingest") -> str:
    return f"{prefix}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def _is_url(spec: str) -> bool:
    return spec.startswith(("mysql", "mariadb"))


def _is_dump(spec: str) -> bool:
    p = Path(spec)
    return not _is_url(spec) and p.is_file() and p.suffix != ".csv"


def stage_source(spec: str, root: Path, run_id: str, index: int, progress: Progress | None = None,
                 order: list | None = None, max_statement_bytes: int | None = None, executor=None) -> StageResult:
    """Parse one source into the pending area and commit it (a worker process with --workers).
    `order`: its place among sources (a later one wins a second both hold); default: now.
    `executor` (a Dask cluster's): a live database's tables are staged on its workers."""
    stage_id = f"{run_id}-s{index:03d}"
    order = order or [time.time_ns(), index]
    pending = staging.pending_root(root)
    if _is_url(spec):
        return stage_mariadb(spec, root, pending, stage_id, 0, progress, order, executor)
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"{spec}: no such source file")
    if path.suffix == ".csv":
        return ingest_crypto(path, root, run_id)
    if path.is_dir():
        return stage_json_dir(path, root, run_id, index, progress, order)
    return stage_dump(path, pending, stage_id, 0, progress, run_id=run_id, order=order,
                      max_statement_bytes=max_statement_bytes)


@dataclass
class IngestReport:
    run_id: str
    sources: list[StageResult]
    runs: list[dict]
    partitions: int
    seconds: float
    skipped: list[dict] = field(default_factory=list)     # {source, same_as, how}
    partial: list[dict] = field(default_factory=list)     # {source, reason, position, offset, kept_rows}
    unreadable: list[dict] = field(default_factory=list)  # {source, error}

    def totals(self) -> dict[str, int]:
        keys = ("source_rows", "written", "deduped", "quarantined", "repaired")
        return {k: sum(r[k] for r in self.runs) for k in keys}


# -- which sources to read --------------------------------------------------------------------------
def known_sources(root: Path) -> dict[str, dict]:
    """Dumps the warehouse holds or has committed stages of, by sha256."""
    known = read_json(root / REGISTRY, {})
    for sid, m in staging.committed(staging.pending_root(root)).items():
        if m.get("sha256") and m.get("size") is not None:
            known[m["sha256"]] = {**known.get(m["sha256"], {}), "source": m["source"], "size": m["size"],
                                  "run_id": m["run_id"], "partial": m.get("partial"), "stage_id": sid}
    return known


def _register(root: Path, results: list[StageResult]) -> None:
    new = {r.extra["sha256"]: {"source": r.source, "size": r.bytes_in, "run_id": r.stage_id.rsplit("-s", 1)[0],
                               "partial": r.extra.get("partial")}
           for r in results if r.extra.get("sha256")}
    if new:
        atomic_write_json(root / REGISTRY, {**read_json(root / REGISTRY, {}), **new})


def plan_sources(specs: list[str], root: Path, run_order: int, reingest: bool = False) \
        -> tuple[list[tuple[int, str]], list[dict]]:
    """(index, spec) of the sources to stage, and the dumps not to read again: the same bytes were
    staged before (hashing only files whose size matches a known dump or another of this run)."""
    known = {} if reingest else known_sources(root)
    sizes = {v.get("size") for v in known.values()}
    dumps = {s: Path(s).stat().st_size for s in specs if _is_dump(s)}
    size_count: dict[int, int] = {}
    for n in dumps.values():
        size_count[n] = size_count.get(n, 0) + 1
    pending = staging.pending_root(root)
    todo: list[tuple[int, str]] = []
    skipped: list[dict] = []
    first_of: dict[str, str] = {}
    for i, spec in enumerate(specs):
        size = dumps.get(spec)
        if size is not None and (size in sizes or size_count[size] > 1):
            sha = sha256_file(Path(spec))
            if sha in known:
                info = known[sha]
                if info.get("stage_id"):            # committed by a run that died: assemble it now
                    staging.reorder(pending, info["stage_id"], [run_order, i])
                how = "resumed" if info.get("stage_id") else "already ingested"
                skipped.append({"source": spec, "same_as": info["source"], "how": how, "sha256": sha,
                                "partial": info.get("partial")})
                continue
            if sha in first_of:
                skipped.append({"source": spec, "same_as": first_of[sha], "how": "given twice", "sha256": sha,
                                "partial": None})
                continue
            first_of[sha] = spec
        todo.append((i, spec))
    return todo, skipped


# -- progress of the whole run ------------------------------------------------------------------------
class RunProgress:
    """Per-source progress (from this process or from workers) summed into the run's:
    rows, bytes, total_bytes, files_done, files_total, source."""

    def __init__(self, progress: Progress | None, todo: list[tuple[int, str]]):
        self.progress = progress
        self.names = dict(todo)
        self.sizes = {i: Path(s).stat().st_size for i, s in todo if not _is_url(s) and Path(s).is_file()}
        self.rows: dict[int, int] = {}
        self.bytes: dict[int, int] = {}
        self.done = 0
        self._lock = threading.Lock()

    def update(self, index: int, info: dict) -> None:
        with self._lock:
            self.rows[index] = info.get("rows", self.rows.get(index, 0))
            if "bytes" in info:
                self.bytes[index] = info["bytes"]
            self._emit(index)

    def finished(self, index: int, rows: int) -> None:
        with self._lock:
            self.done += 1
            self.rows[index] = rows
            if index in self.sizes:
                self.bytes[index] = self.sizes[index]
            self._emit(index)

    def for_source(self, index: int) -> Progress:
        return lambda info: self.update(index, info)

    def _emit(self, index: int) -> None:
        if self.progress:
            self.progress({"rows": sum(self.rows.values()), "bytes": sum(self.bytes.values()),
                           "total_bytes": sum(self.sizes.values()), "files_done": self.done,
                           "files_total": len(self.names), "source": self.names.get(index, "")})


# -- pool workers that die with the ingest process ----------------------------------------------------
_QUEUE = None


def die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; what the OOM killer does
    to the parent would otherwise leave workers holding memory and committing stages)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:        # it died before the request took effect
        os._exit(1)


def _worker_init(parent: int, queue) -> None:
    global _QUEUE
    die_with_parent(parent)
    staging.set_parent(parent)
    _QUEUE = queue


def _stage_in_worker(spec: str, root: Path, run_id: str, index: int, order: list, max_statement_bytes):
    progress = (lambda info: _QUEUE.put((index, info))) if _QUEUE is not None else None
    return stage_source(spec, root, run_id, index, progress, order, max_statement_bytes)


def _pool(workers: int, queue=None) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_worker_init, initargs=(os.getpid(), queue))


def _stage_on(executor, todo: list[tuple[int, str]], root: Path, run_id: str, run_order: int, agg: RunProgress,
              max_statement_bytes: int | None) -> tuple[list[StageResult], list[dict]]:
    """Every source staged on a cluster: a dump or folder is one task, a live database one task per
    table (its table states are saved here, as each table's stage is committed)."""
    results, unreadable = [], []
    files = {executor.submit(stage_source, spec, root, run_id, i, None, [run_order, i], max_statement_bytes): (i, spec)
             for i, spec in todo if not _is_url(spec)}
    for i, spec in todo:
        if _is_url(spec):
            results.append(stage_source(spec, root, run_id, i, agg.for_source(i), [run_order, i], max_statement_bytes,
                                        executor))
            agg.finished(i, results[-1].rows_in)
    for f in as_completed(files):
        i, spec = files[f]
        try:
            results.append(f.result())
            agg.finished(i, results[-1].rows_in)
        except UnreadableSource as exc:
            unreadable.append({"source": spec, "error": str(exc)})
    results.sort(key=lambda r: r.stage_id)
    return results, unreadable


def _stage_all(todo: list[tuple[int, str]], root: Path, run_id: str, run_order: int, workers: int,
               agg: RunProgress, max_statement_bytes: int | None, executor=None) -> tuple[list[StageResult], list[dict]]:
    results, unreadable = [], []
    if executor is not None:
        return _stage_on(executor, todo, root, run_id, run_order, agg, max_statement_bytes)
    if workers > 1 and len(todo) > 1:
        queue = multiprocessing.get_context("fork").Queue()

        def drain():
            while (msg := queue.get()) is not None:
                agg.update(*msg)

        thread = threading.Thread(target=drain, name="ingest-progress", daemon=True)
        thread.start()
        try:
            with _pool(workers, queue) as pool:
                futures = {pool.submit(_stage_in_worker, spec, root, run_id, i, [run_order, i], max_statement_bytes):
                           (i, spec) for i, spec in todo}
                try:
                    for f in as_completed(futures):
                        i, spec = futures[f]
                        try:
                            results.append(f.result())
                            agg.finished(i, results[-1].rows_in)
                        except UnreadableSource as exc:
                            unreadable.append({"source": spec, "error": str(exc)})
                except BaseException:
                    pool.shutdown(cancel_futures=True)
                    raise
        finally:
            queue.put(None)
            thread.join()
    else:
        for i, spec in todo:
            try:
                results.append(stage_source(spec, root, run_id, i, agg.for_source(i), [run_order, i],
                                            max_statement_bytes))
                agg.finished(i, results[-1].rows_in)
            except UnreadableSource as exc:
                unreadable.append({"source": spec, "error": str(exc)})
    results.sort(key=lambda r: r.stage_id)
    return results, unreadable


FINALIZE_THREADS = 2


def finalize_all(root: Path, keys: list[staging.PartKey], workers: int = 1,
                 progress: Progress | None = None, executor=None) -> list[dict]:
    """Assemble every key, each once (`executor`: a cluster's, a task per key; a task rerun after its
    worker died finds the key's inputs either still pending or consumed with the partition written:
    ingest.finalize writes in the order a crash at any point recovers from)."""
    parts = []
    if executor is not None or (workers > 1 and len(keys) > 1):
        pool = executor or _pool(workers)
        try:
            futures = [pool.submit(finalize_partition, root, k) for k in keys]
            for i, f in enumerate(as_completed(futures)):
                parts.append(f.result())
                if progress:
                    progress({"partitions": f"{i + 1}/{len(keys)}"})
        finally:
            if executor is None:
                pool.shutdown()
    else:
        # one process, two threads: sorting (numpy), Arrow kernels and the Parquet writer release the
        # GIL, so one partition is written while the next is assembled
        with ThreadPoolExecutor(FINALIZE_THREADS) as pool:
            for i, p in enumerate(pool.map(finalize_partition, [root] * len(keys), keys)):
                parts.append(p)
                if progress:
                    progress({"partitions": f"{i + 1}/{len(keys)}"})
    return sorted((r for p in parts for r in p), key=lambda r: (r["source"], r["partition"], r["target"]))


def run_ingest(specs: list[str], root: Path, workers: int = 1, run_id: str | None = None,
               progress: Progress | None = None, reingest: bool = False,
               max_statement_bytes: int | None = None, executor=None) -> IngestReport:
    """Ingest sources into the warehouse: the whole run, as `ticklake ingest` does it.
    `reingest`: read dumps again even when the warehouse holds their content. `executor` (a Dask
    cluster's, orchestration.cluster): the stages and assemblies run on its workers."""
    run_id = run_id or new_run_id()
    t0 = time.perf_counter()
    for spec in specs:                       # a typo must not leave half a run behind
        if not _is_url(spec) and not Path(spec).exists():
            raise FileNotFoundError(f"{spec}: no such source file")
    pending = staging.pending_root(root)
    staging.sweep(pending)
    migrate_legacy(root)
    run_order = time.time_ns()
    todo, skipped = plan_sources(specs, root, run_order, reingest)
    agg = RunProgress(progress, todo)
    results, unreadable = _stage_all(todo, root, run_id, run_order, workers, agg, max_statement_bytes, executor)
    _register(root, results)
    crash_point("run-staged")
    keys = staging.pending_keys(pending)  # includes keys a killed earlier run committed
    runs = finalize_all(root, keys, workers, progress, executor) + [r for res in results for r in res.extra.get("runs", [])]
    staging.sweep(pending)
    write_catalog(root)
    partial = [{"source": r.source, **r.extra["partial"]} for r in results if r.extra.get("partial")]
    partial += [{"source": s["source"], **s["partial"]} for s in skipped if s.get("partial")]
    return IngestReport(run_id, results, runs, sum(1 for k in keys if k[2] is not None), time.perf_counter() - t0,
                        skipped, partial, unreadable)
