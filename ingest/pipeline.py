"""Ingest: stage sources, assemble partitions, record reconciliation (the imperative shell).

    stage_source()       one source (dump file, MariaDB URL, JSON dir) -> committed pending inputs
    finalize_partition() one (kind, underlying, date) key -> warehouse partition, ingest_runs and
                         quarantine rows for that key, pending inputs consumed
    run_ingest()         both, for `ticklake ingest`; the Dagster assets call the same two steps

Reconciliation, per source and partition: source_rows == written + deduped + quarantined.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa

from ingest import staging
from ingest.contracts import ContractNameError
from ingest.readahead import read_ahead
from ingest.recorder_format import INDEX_COLUMNS, OPTION_COLUMN_NAMES
from ingest.route import R_UNKNOWN_TABLE, R_WRONG_COLUMNS, Rejection, Route, normalize_batch, raw_row, route_table
from transforms.dedupe import EXISTING, assemble
from warehouse import schema as S
from warehouse.catalog import write_catalog
from warehouse.layout import partition_dir
from warehouse.version import code_version
from warehouse.writer import PartitionManifest, read_manifest, read_partition, write_partition

SCHEMAS = {"options": S.OPTION_TICKS, "futures": S.FUTURES_TICKS, "spot": S.SPOT_TICKS}
CONTRACT_KEYS = {"options": ["expiry", "opt_type", "strike"], "futures": ["expiry"], "spot": []}
SEQ_SHIFT = 40  # seq = source index << 40 | row ordinal: a later source wins ties, like a later REPLACE
Progress = Callable[[dict], None]


def ingest_code_version() -> str:
    return code_version("ingest", "transforms", "warehouse")


def new_run_id(prefix: str = "ingest") -> str:
    return f"{prefix}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def sha256_file(path: Path, chunk: int = 8 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------
# staging


@dataclass
class SourceBatch:
    """One batch of one recorder table from a source, in the recorder's int64 form."""

    db: str | None
    table: str
    rows: dict[str, np.ndarray]
    position: Callable[[int], str]


@dataclass
class StageResult:
    source: str
    stage_id: str
    keys: list[staging.PartKey]
    rows_in: int = 0
    bytes_in: int = 0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def _check_columns(batch: SourceBatch) -> str | None:
    cols = tuple(batch.rows)
    if cols in (OPTION_COLUMN_NAMES, tuple(c for c, _ in INDEX_COLUMNS)):
        return None
    return f"{R_WRONG_COLUMNS}: {', '.join(cols)[:200]}"


def stage_batches(batches: Iterator[SourceBatch | Rejection], stager: staging.Stager, seq_base: int,
                  progress: Progress | None = None) -> int:
    """Route, normalise and stage every batch of one source; returns the rows seen."""
    seen = 0
    for item in batches:
        if isinstance(item, Rejection):
            stager.reject(("options", "unknown", None), [item])
            seen += 1
            continue
        n = len(next(iter(item.rows.values()))) if item.rows else 0
        seq = seq_base + seen + np.arange(n, dtype=np.int64)
        seen += n
        try:
            route = route_table(item.db, item.table)
            problem = _check_columns(item)
        except ContractNameError as exc:
            route, problem = Route("options", "unknown"), f"{R_UNKNOWN_TABLE} ({exc})"
        if problem:
            stager.reject((route.kind, route.underlying, None),
                          [Rejection(item.position(i), problem, raw_row(item.rows, i)) for i in range(n)])
            continue
        stager.add(normalize_batch(route, item.table, item.rows, item.position, stager.source, seq))
        if progress:
            progress({"rows": seen})
    return seen


def dump_batches(path: Path) -> Iterator[SourceBatch | Rejection]:
    """Adapter from the streaming dump parser to SourceBatch / Rejection."""
    from ingest.sqldump import read_dump  # numba kernels compile on first use

    for item in read_dump(path):
        if hasattr(item, "rows"):
            line, tup = item.line, item.tuple_index
            yield SourceBatch(item.db, item.table, item.rows,
                              lambda i, line=line, tup=tup: f"line {int(line[i])} tuple {int(tup[i])}")
        else:
            yield Rejection(item.position, item.reason, item.raw)


def stage_source(spec: str, root: Path, run_id: str, index: int,
                 progress: Progress | None = None) -> StageResult:
    """Parse one source into the pending area and commit it (a worker process with --workers)."""
    t0 = time.perf_counter()
    stage_id = f"{run_id}-s{index:03d}"
    seq_base = index << SEQ_SHIFT
    pending = staging.pending_root(root)
    if spec.startswith(("mysql", "mariadb")):
        from ingest.mariadb_source import stage_mariadb

        return stage_mariadb(spec, root, pending, stage_id, seq_base, progress)
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"{spec}: no such source file")
    if path.suffix == ".csv":
        return ingest_crypto(path, root, run_id)
    if path.is_dir():
        return stage_json_dir(path, root, run_id, index, progress)
    stager = staging.Stager(pending, stage_id, str(path), sha256_file(path))
    # the parser (Numba, no GIL) runs a batch ahead in a thread while this one is normalised
    rows = stage_batches(read_ahead(dump_batches(path)), stager, seq_base, progress)
    keys = stager.close()
    return StageResult(str(path), stage_id, keys, rows, path.stat().st_size, time.perf_counter() - t0)


def json_batches(directory: Path) -> Iterator[tuple[str, Iterator]]:
    """(file, batches) for every Kite merged-data file and FlatTrade line file in a directory."""
    from ingest.flattrade import read_flattrade_file
    from ingest.instruments import KITE_MASTER, SHOONYA_MASTER, read_kite_master, read_shoonya_master
    from ingest.kite import read_kite_file

    kite = sorted(directory.glob("*-merged-data.txt"))
    flat = sorted(directory.glob("flattrade-*.txt"))
    if not kite and not flat:
        raise FileNotFoundError(f"{directory}: no Kite *-merged-data.txt or FlatTrade flattrade-*.txt files")
    readers = []
    if kite:
        tokens = read_kite_master(directory / KITE_MASTER)
        readers += [(f, read_kite_file(f, tokens)) for f in kite]
    if flat:
        tokens = read_shoonya_master(directory / SHOONYA_MASTER)
        readers += [(f, read_flattrade_file(f, tokens)) for f in flat]
    for f, items in readers:
        def batches(items=items):
            for item in items:
                if isinstance(item, Rejection):
                    yield item
                else:
                    symbol, rows, where = item
                    yield SourceBatch(None, symbol, rows, lambda i, where=where: where[i])
        yield f, batches()


def stage_json_dir(directory: Path, root: Path, run_id: str, index: int, progress=None) -> StageResult:
    """Every JSON file of a directory is its own source (file path), staged like dump rows."""
    t0 = time.perf_counter()
    keys, rows = set(), 0
    for k, (f, batches) in enumerate(json_batches(directory)):
        st = staging.Stager(staging.pending_root(root), f"{run_id}-s{index:03d}j{k:05d}", str(f), sha256_file(f))
        rows += stage_batches(batches, st, (index << SEQ_SHIFT) + (k << 28), progress)
        keys |= set(st.close())
    return StageResult(str(directory), f"{run_id}-s{index:03d}", sorted(keys, key=staging.key_label), rows, 0,
                       time.perf_counter() - t0)


# ----------------------------------------------------------------------------------------------
# partitions


def _existing(root: Path, kind: str, underlying: str, day: dt.date) -> pa.Table | None:
    table = read_partition(root, kind, {"underlying": underlying, "date": day})
    if table is None:
        return None
    n = table.num_rows
    return (table.drop_columns([c for c in ("vol_delta",) if c in table.column_names])
            .append_column("_seq", pa.array(np.full(n, -1, dtype=np.int64)))
            .append_column("_source", pa.array([EXISTING] * n, pa.string()))
            .append_column("_repaired", pa.array(np.zeros(n, dtype=bool)))
            .append_column("_pos", pa.nulls(n, pa.string()))
            .append_column("_raw", pa.nulls(n, pa.string())))


def _write_partition_rows(root: Path, key: staging.PartKey, fragments: list[pa.Table], stage_ids: list[str],
                          sha: dict[str, str]):
    kind, underlying, day = key
    keys = {"underlying": underlying, "date": day}
    existing = _existing(root, kind, underlying, day)
    result = assemble(fragments + ([existing] if existing is not None else []), S.SORT_KEYS[kind],
                      CONTRACT_KEYS[kind], with_volume=kind != "spot")
    old = read_manifest(partition_dir(root, kind, keys)) or {}
    sources = {s["source"]: s for s in old.get("sources", [])}
    for src, c in result.counts.items():
        if src != EXISTING:
            sources[src] = {"source": src, "sha256": sha.get(src, ""), "stages": stage_ids,
                            "written": c.written, "deduped": c.deduped}
    manifest = PartitionManifest(table=kind, partition={"underlying": underlying, "date": day.isoformat()},
                                 rows=0, run_id=",".join(stage_ids), code_version=ingest_code_version(),
                                 sources=sorted(sources.values(), key=lambda s: s["source"]))
    write_partition(root, kind, keys, result.table, SCHEMAS[kind], manifest)
    return result


def finalize_partition(root: Path, key: staging.PartKey) -> list[dict]:
    """Assemble one key's committed pending inputs with the warehouse's rows, write the partition,
    its ingest_runs and quarantine rows, and consume the inputs. Returns the ingest_runs rows."""
    pk = staging.PendingKey(staging.pending_root(root), key)
    if not pk.counts:
        return []
    started = dt.datetime.now(dt.timezone.utc)
    stage_ids = sorted({c["stage_id"] for c in pk.counts})
    sha = {c["source"]: c["sha256"] for c in pk.counts}
    counts: dict[str, dict] = {}
    quarantine = [pk.quarantine()]
    frags = pk.fragments()
    if key[2] is not None and frags:
        result = _write_partition_rows(root, key, frags, stage_ids, sha)
        counts = {s: vars(c) for s, c in result.counts.items() if s != EXISTING}
        if result.quarantine:
            quarantine.append(pa.Table.from_pylist(result.quarantine))
    runs = []
    for c in pk.counts:
        got = counts.get(c["source"], {})
        runs.append({"run_id": c["stage_id"].rsplit("-s", 1)[0], "source": c["source"], "target": key[0],
                     "partition": staging.key_label(key), "source_rows": c["staged"] + c["rejected"],
                     "written": got.get("written", 0), "deduped": got.get("deduped", 0),
                     "quarantined": c["rejected"] + got.get("quarantined", 0), "repaired": got.get("repaired", 0)})
    _record(root, key, runs, quarantine, started)
    pk.consume()
    return runs


def _record(root: Path, key: staging.PartKey, runs: list[dict], quarantine: list, started: dt.datetime) -> None:
    """ingest_runs and quarantine rows of one key, one file each per run (replaced on a rerun)."""
    finished = dt.datetime.now(dt.timezone.utc)
    version = ingest_code_version()
    label = f"{key[0]}-{key[1]}-{key[2].isoformat() if key[2] else staging.UNPLACED}"
    for run_id in sorted({r["run_id"] for r in runs}):
        mine = [{**r, "started_at": started, "finished_at": finished, "code_version": version}
                for r in runs if r["run_id"] == run_id]
        write_partition(root, "ingest_runs", {"run_id": run_id, "part": label}, pa.Table.from_pylist(mine),
                        S.INGEST_RUNS, PartitionManifest("ingest_runs", {"run_id": run_id}, 0, run_id, version))
    q = [t for t in quarantine if t is not None and t.num_rows]
    if q:
        qt = pa.concat_tables(q, promote_options="default")
        run_id = runs[0]["run_id"] if runs else "unknown"
        qt = qt.append_column("run_id", pa.array([run_id] * qt.num_rows, pa.string()))
        write_partition(root, "quarantine", {"run_id": run_id, "part": label}, qt, S.QUARANTINE,
                        PartitionManifest("quarantine", {"run_id": run_id}, 0, run_id, version))


# ----------------------------------------------------------------------------------------------
# a whole run


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


# ----------------------------------------------------------------------------------------------
# crypto trades (small daily files: parsed and written in one step, no pending area)


def ingest_crypto(path: Path, root: Path, run_id: str) -> StageResult:
    """One Binance CSV into ticks/crypto/symbol=S/date=D, merged with what is there (trade id wins)."""
    import pyarrow.compute as pc

    from ingest.binance import dedupe_sort, parse_lines, symbol_of

    t0 = time.perf_counter()
    started = dt.datetime.now(dt.timezone.utc)
    symbol = symbol_of(path)
    read = parse_lines(path.read_text(), symbol)
    sha = sha256_file(path)
    runs = []
    dates = sorted(set(read.table["date"].to_pylist()))
    for day in dates:
        new = read.table.filter(pc.equal(read.table["date"], pa.scalar(day, pa.date32())))
        keys = {"symbol": symbol, "date": day}
        fresh, dup_new = dedupe_sort(new)        # a trade id twice in the file: the last line wins
        old = read_partition(root, "crypto", keys)
        if old is not None:                       # a re-ingested trade replaces the stored one
            old = old.filter(pc.invert(pc.is_in(old["trade_id"], fresh["trade_id"])))
        merged, _ = dedupe_sort(pa.concat_tables([old, fresh]) if old is not None else fresh)
        manifest = PartitionManifest("crypto", {"symbol": symbol, "date": day.isoformat()}, 0, run_id,
                                     ingest_code_version(), [{"source": str(path), "sha256": sha}])
        write_partition(root, "crypto", keys, merged, S.CRYPTO_TRADES, manifest)
        runs.append({"run_id": run_id, "source": str(path), "target": "crypto", "partition": f"{symbol}/{day}",
                     "source_rows": new.num_rows, "written": fresh.num_rows, "deduped": dup_new,
                     "quarantined": 0, "repaired": 0})
    if read.rejected:
        runs.append({"run_id": run_id, "source": str(path), "target": "crypto", "partition": f"{symbol}/unplaced",
                     "source_rows": len(read.rejected), "written": 0, "deduped": 0,
                     "quarantined": len(read.rejected), "repaired": 0})
    q = pa.Table.from_pylist([{"source": str(path), "position": f"line {no}", "reason": why, "raw": raw}
                              for no, why, raw in read.rejected]) if read.rejected else None
    _record(root, ("crypto", symbol, None), runs, [q], started)
    return StageResult(str(path), run_id, [], read.lines, path.stat().st_size, time.perf_counter() - t0,
                       {"runs": runs})
