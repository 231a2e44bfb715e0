"""Staging from the live recorder database: every table is a source `db.table`, incremental by a
per-table high-water mark kept in the warehouse (`<root>/ingest_watermarks.json`), advanced only
after the table's rows are committed to the pending area."""
from __future__ import annotations

import time
from pathlib import Path

from ingest import staging
from ingest.mariadb import BadRow, discover, engine_for, high_water_mark, masked, read_table
from warehouse.readahead import read_ahead
from ingest.route import Rejection
from ingest.stage import SourceBatch, StageResult, stage_batches
from warehouse.files import atomic_write_json, read_json

WATERMARKS = "ingest_watermarks.json"
R_BAD_ROW = "row values do not decode as the column types"


def load_marks(root: Path) -> dict[str, int]:
    p = root / WATERMARKS
    return read_json(p, {})


def save_marks(root: Path, marks: dict[str, int]) -> None:
    atomic_write_json(root / WATERMARKS, marks)


def stage_mariadb(url: str, root: Path, pending: Path, stage_id: str, seq_base: int, progress=None):
    t0 = time.perf_counter()
    engine = engine_for(url)
    tables, unsafe = discover(engine)
    marks = load_marks(root)
    keys: set = set()
    rows_in = 0
    for k, t in enumerate(tables):
        since = marks.get(t.name)
        st = staging.Stager(pending, f"{stage_id}t{k:05d}", t.name, f"mariadb:{masked(url)}:{t.name}>{since}")
        mark = since
        offset = 0

        def batches():
            nonlocal mark, offset
            for rows in read_table(engine, t, since):
                if isinstance(rows, BadRow):
                    offset += 1
                    yield Rejection(f"row {rows.ordinal} after mark {since}", R_BAD_ROW, rows.raw)
                    continue
                mark = high_water_mark(mark, rows["timestamp"])
                base = offset
                offset += len(rows["timestamp"])
                yield SourceBatch(t.db, t.table, rows, lambda i, base=base: f"row {base + i} after mark {since}")

        # rows are received and decoded a batch ahead in a thread while this one is normalised
        rows_in += stage_batches(read_ahead(batches()), st, seq_base + (k << 28), progress)
        keys |= set(st.close())
        if mark is not None:
            marks[t.name] = mark
            save_marks(root, marks)
    for name in unsafe:
        st = staging.Stager(pending, f"{stage_id}u{len(keys):05d}", name, "")
        st.reject(("options", "unknown", None), [Rejection("table", "unsafe table name: not read", name[:200])])
        keys |= set(st.close())
    engine.dispose()
    return StageResult(masked(url), stage_id, sorted(keys, key=staging.key_label), rows_in, 0,
                       time.perf_counter() - t0, {"tables": len(tables), "unsafe": unsafe})
