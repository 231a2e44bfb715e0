"""Staging: one source -> its rows routed, normalised and spilled per partition key, then committed.

A source is read as a stream of `SourceBatch` (one recorder table's rows in the recorder's int64
form) and `Rejection` items, plus, from readers that can tell, `Verified` (everything before was
checked, e.g. a gzip member's CRC) and `SourceDamage` (the source ends early here);
`stage_batches` routes and normalises each batch into the pending area (ingest.staging). The
readers: dump files (ingest.sqldump), Kite/FlatTrade JSON directories here, the live database in
ingest.mariadb_source.

A source that is not readable at all raises `UnreadableSource`; one read only in part is committed
with what was kept and its `StageResult.partial` says where it stopped and why.
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

SEQ_SHIFT = 40  # seq = source rank << 40 | row ordinal: a later source wins ties, like a later REPLACE
Progress = Callable[[dict], None]


class UnreadableSource(ValueError):
    """Nothing in the source is recognised (not a dump, empty, another format): nothing staged."""


@dataclass
class SourceBatch:
    """One batch of one recorder table from a source, in the recorder's int64 form."""

    db: str | None
    table: str
    rows: dict[str, np.ndarray]
    position: Callable[[int], str]
    bytes_read: int = 0          # of the source so far, for progress (0: unknown)


@dataclass
class Verified:
    """Every item before this one was checked (a gzip member's CRC): a later damage keeps it."""


@dataclass
class SourceDamage:
    """The source ends here, before its end. `rollback`: the items since the last Verified were
    decoded from damaged data and must not be kept. `counted`: a quarantine row of its own."""

    position: str
    reason: str
    offset: int
    rollback: bool
    counted: bool


@dataclass
class StageResult:
    source: str
    stage_id: str
    keys: list[staging.PartKey]
    rows_in: int = 0
    bytes_in: int = 0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def stage_batches(batches: Iterator[SourceBatch | Rejection | Verified | SourceDamage], stager: staging.Stager,
                  seq_base: int, progress: Progress | None = None, skipped: Skipped | None = None) -> int:
    """Route, normalise and stage every batch of one source; returns the rows seen. Batches of a
    table that holds no instrument data (ingest.route.Skip) are not staged: they are counted in
    `skipped` (listed once per run), never quarantined. Progress is reported per source:
    {"rows": rows of this source so far, "bytes": its bytes read so far}."""
    seen = 0
    for item in batches:
        if isinstance(item, Verified):
            stager.checkpoint()
            continue
        if isinstance(item, SourceDamage):
            stager.damaged(item.position, item.reason, item.offset, item.rollback, item.counted)
            seen += item.counted
            continue
        if isinstance(item, Rejection):
            stager.reject(staging.SOURCE_LEVEL, [item])
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
        # a fragment's file names its stage, and finalize sets its `_source` to the stage's identity:
        # an empty one here saves writing and reading back a string per row
        stager.add(normalize_batch(route, item.table, item.rows, item.position, "", seq))
        if progress:
            progress({"rows": seen, **({"bytes": item.bytes_read} if item.bytes_read else {})})
    return seen


def dump_batches(reader) -> Iterator[SourceBatch | Rejection | Verified | SourceDamage]:
    """Adapter from the streaming dump parser (an ingest.sqldump.DumpReader) to the staging items."""
    from ingest.sqldump import Checkpoint, Damage, DumpBatch

    for item in reader:
        if isinstance(item, DumpBatch):
            line, tup = item.line, item.tuple_index
            yield SourceBatch(item.db, item.table, item.rows,
                              lambda i, line=line, tup=tup: f"line {int(line[i])} tuple {int(tup[i])}",
                              item.bytes_read)
        elif isinstance(item, Checkpoint):
            yield Verified()
        elif isinstance(item, Damage):
            yield SourceDamage(item.position, item.reason, item.offset, item.rollback, item.counted)
        else:
            yield Rejection(item.position, item.reason, item.raw)


def stage_dump(path: Path, pending: Path, stage_id: str, seq_base: int, progress: Progress | None = None, *,
               run_id: str | None = None, order: list | None = None,
               max_statement_bytes: int | None = None) -> StageResult:
    """One .sql / .sql.gz dump into the pending area, committed; its identity is the sha256 of its
    bytes, computed as they are read. Raises UnreadableSource when it is not a dump at all."""
    from ingest.sqldump import DEFAULT_MAX_STATEMENT, DumpError, DumpReader  # numba kernels compile on first use

    t0 = time.perf_counter()
    size = path.stat().st_size
    stager = staging.Stager(pending, stage_id, str(path), run_id=run_id, order=order)
    skipped = Skipped()
    reader = DumpReader(path, max_statement_bytes=max_statement_bytes or DEFAULT_MAX_STATEMENT)
    # the parser (Numba, no GIL) runs a batch ahead in a thread while this one is normalised
    items = read_ahead(dump_batches(reader))
    try:
        rows = stage_batches(items, stager, seq_base, progress, skipped)
        stager.checksum, stager.identity, stager.size = reader.sha256, f"sha256:{reader.sha256}", size
        keys = stager.close()
    except DumpError as exc:
        stager.abort()
        raise UnreadableSource(str(exc)) from None
    except BaseException:
        stager.abort()
        raise
    finally:
        items.close()                       # stops the reader's threads when staging failed
    record_skipped(pending.parent, stage_id, str(path), skipped)
    if progress:
        progress({"rows": rows, "bytes": size})
    return StageResult(str(path), stage_id, keys, rows, size, time.perf_counter() - t0,
                       {"sha256": reader.sha256, "identity": stager.identity, "partial": stager.partial,
                        "skipped": skipped.rows()})


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
                   progress: Progress | None = None, order: list | None = None) -> StageResult:
    """Every JSON file of a directory is its own source (file path, identified by its sha256),
    staged like dump rows."""
    t0 = time.perf_counter()
    keys, rows = set(), 0
    for k, (f, batches) in enumerate(json_batches(directory)):
        st = staging.Stager(staging.pending_root(root), f"{run_id}-s{index:03d}j{k:05d}", str(f),
                            f"sha256:{sha256_file(f)}", run_id=run_id, order=[*(order or [index]), k])
        try:
            rows += stage_batches(batches, st, 0, None if progress is None else
                                  lambda info, base=rows: progress({"rows": base + info["rows"]}))
            keys |= set(st.close())
        except BaseException:
            st.abort()
            raise
    return StageResult(str(directory), f"{run_id}-s{index:03d}", sorted(keys, key=staging.key_label), rows, 0,
                       time.perf_counter() - t0)
