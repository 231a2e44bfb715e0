"""Ingest, the whole run (the imperative shell of `ticklake ingest` and the ingest assets).

    stage_source()       one source (dump file, MariaDB URL, JSON dir, crypto CSV) -> committed
                         pending inputs (ingest.stage, ingest.mariadb_source, ingest.crypto)
    finalize_partition() one (kind, underlying, date) key -> warehouse partition, ingest_runs and
                         quarantine rows (ingest.finalize)
    run_ingest()         both, for every source of a run
"""
from __future__ import annotations

import datetime as dt
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ingest import staging
from ingest.crypto import ingest_crypto
from ingest.finalize import finalize_partition
from ingest.mariadb_source import stage_mariadb
from ingest.stage import SEQ_SHIFT, Progress, StageResult, stage_dump, stage_json_dir
from warehouse.catalog import write_catalog


def new_run_id(prefix: str = "ingest") -> str:
    return f"{prefix}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def stage_source(spec: str, root: Path, run_id: str, index: int,
                 progress: Progress | None = None) -> StageResult:
    """Parse one source into the pending area and commit it (a worker process with --workers)."""
    stage_id = f"{run_id}-s{index:03d}"
    seq_base = index << SEQ_SHIFT
    pending = staging.pending_root(root)
    if spec.startswith(("mysql", "mariadb")):
        return stage_mariadb(spec, root, pending, stage_id, seq_base, progress)
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"{spec}: no such source file")
    if path.suffix == ".csv":
        return ingest_crypto(path, root, run_id)
    if path.is_dir():
        return stage_json_dir(path, root, run_id, index, progress)
    return stage_dump(path, pending, stage_id, seq_base, progress)


@dataclass
class IngestReport:
    run_id: str
    sources: list[StageResult]
    runs: list[dict]
    partitions: int
    seconds: float

    def totals(self) -> dict[str, int]:
        keys = ("source_rows", "written", "deduped", "quarantined", "repaired")
        return {k: sum(r[k] for r in self.runs) for k in keys}


def _stage_star(args):
    return stage_source(*args)


FINALIZE_THREADS = 2


def finalize_all(root: Path, keys: list[staging.PartKey], workers: int = 1,
                 progress: Progress | None = None) -> list[dict]:
    if workers > 1 and len(keys) > 1:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(finalize_partition, [root] * len(keys), keys))
    else:
        # one process, two threads: sorting (numpy), Arrow kernels and the Parquet writer release the
        # GIL, so one partition is written while the next is assembled
        parts = []
        with ThreadPoolExecutor(FINALIZE_THREADS) as pool:
            for i, p in enumerate(pool.map(finalize_partition, [root] * len(keys), keys)):
                parts.append(p)
                if progress:
                    progress({"partitions": f"{i + 1}/{len(keys)}"})
    return [r for p in parts for r in p]


def run_ingest(specs: list[str], root: Path, workers: int = 1, run_id: str | None = None,
               progress: Progress | None = None) -> IngestReport:
    """Ingest sources into the warehouse: the whole run, as `ticklake ingest` does it."""
    run_id = run_id or new_run_id()
    t0 = time.perf_counter()
    pending = staging.pending_root(root)
    staging.sweep(pending)
    args = [(s, root, run_id, i) for i, s in enumerate(specs)]
    if workers > 1 and len(specs) > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_stage_star, args))
    else:
        results = [stage_source(*a, progress=progress) for a in args]
    keys = staging.pending_keys(pending)  # includes keys a killed earlier run committed
    runs = finalize_all(root, keys, workers, progress) + [r for res in results for r in res.extra.get("runs", [])]
    staging.sweep(pending, min_age_s=0 if not pending.exists() else 3600)
    write_catalog(root)
    return IngestReport(run_id, results, runs, sum(1 for k in keys if k[2] is not None), time.perf_counter() - t0)
