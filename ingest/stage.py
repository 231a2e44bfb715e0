"""Staging: one source -> its rows routed, normalised and spilled per partition key, then committed.

A source is read as a stream of `SourceBatch` (one recorder table's rows in the recorder's int64
form) and `Rejection` items; `stage_batches` routes and normalises each batch into the pending area
(ingest.staging). The readers: dump files (ingest.sqldump), Kite/FlatTrade JSON directories here,
the live database in ingest.mariadb_source.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ingest import staging
from ingest.route import Reject, Rejection, Skip, normalize_batch, raw_row, table_route
from ingest.skipped import Skipped, record_skipped
from warehouse.files import sha256_file
from warehouse.readahead import read_ahead

SEQ_SHIFT = 40  # seq = source index << 40 | row ordinal: a later source wins ties, like a later REPLACE
Progress = Callable[[dict], None]


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


def stage_batches(batches: Iterator[SourceBatch | Rejection], stager: staging.Stager, seq_base: int,
                  progress: Progress | None = None, skipped: Skipped | None = None) -> int:
    """Route, normalise and stage every batch of one source; returns the rows seen. Batches of a
    table that holds no instrument data (ingest.route.Skip) are not staged: they are counted in
    `skipped` (listed once per run), never quarantined."""
    seen = 0
    for item in batches:
        if isinstance(item, Rejection):
            stager.reject(("options", "unknown", None), [item])
            seen += 1
            continue
        n = len(next(iter(item.rows.values()))) if item.rows else 0
        route = table_route(item.db, item.table, tuple(item.rows))
        if isinstance(route, Skip):
            if skipped is not None:
                skipped.add(f"{item.db}.{item.table}" if item.db else item.table, route.reason, n)
            continue
        seq = seq_base + seen + np.arange(n, dtype=np.int64)
        seen += n
        if isinstance(route, Reject):
            stager.reject((route.kind, route.underlying, None),
                          [Rejection(item.position(i), route.reason, raw_row(item.rows, i)) for i in range(n)])
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


def stage_dump(path: Path, pending: Path, stage_id: str, seq_base: int,
               progress: Progress | None = None) -> StageResult:
    """One .sql / .sql.gz dump into the pending area, committed."""
    t0 = time.perf_counter()
    stager = staging.Stager(pending, stage_id, str(path), sha256_file(path))
    skipped = Skipped()
    # the parser (Numba, no GIL) runs a batch ahead in a thread while this one is normalised
    rows = stage_batches(read_ahead(dump_batches(path)), stager, seq_base, progress, skipped)
    keys = stager.close()
    record_skipped(pending.parent, stage_id, str(path), skipped)
    return StageResult(str(path), stage_id, keys, rows, path.stat().st_size, time.perf_counter() - t0,
                       {"skipped": skipped.rows()})


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
                    symbol, rows, position = item
                    yield SourceBatch(None, symbol, rows, position)
        yield f, batches()


def stage_json_dir(directory: Path, root: Path, run_id: str, index: int,
                   progress: Progress | None = None) -> StageResult:
    """Every JSON file of a directory is its own source (file path), staged like dump rows."""
    t0 = time.perf_counter()
    keys, rows = set(), 0
    for k, (f, batches) in enumerate(json_batches(directory)):
        st = staging.Stager(staging.pending_root(root), f"{run_id}-s{index:03d}j{k:05d}", str(f), sha256_file(f))
        rows += stage_batches(batches, st, (index << SEQ_SHIFT) + (k << 28), progress)
        keys |= set(st.close())
    return StageResult(str(directory), f"{run_id}-s{index:03d}", sorted(keys, key=staging.key_label), rows, 0,
                       time.perf_counter() - t0)
