"""A digest of what a warehouse holds, for comparing two runs that should have written the same thing
(in-process vs on a cluster, before vs after a change).

Every Parquet file's data (schema, columns, values, row order) as Arrow IPC bytes, its manifest and
its side tables.
Left out, because they name the run rather than the data: run ids (each Dagster or ingest run has
its own: in the manifest embedded in every file's footer, and the ledger's `run_id` column) and the
ledger's wall-clock `started_at`/`finished_at`. Nothing else is normalised: a value, a column, a row
order or a partition that differs changes the digest.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.writer import MANIFEST_KEY

RUN_COLUMNS = ("run_id", "started_at", "finished_at")
HIDDEN = (".dagster", "_pending", "reports", "quality")     # run records, leftovers, rendered pages


def _without_runs(value):
    if isinstance(value, dict):
        return {k: _without_runs(v) for k, v in value.items() if k not in RUN_COLUMNS}
    if isinstance(value, list):
        return [_without_runs(v) for v in value]
    return value


def _table_digest(table: pa.Table) -> str:
    table = table.drop_columns([c for c in RUN_COLUMNS if c in table.column_names]).replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def file_digest(path: Path) -> str:
    """sha256 of one Parquet file's data (run columns dropped), its embedded manifest (run ids
    dropped) and its side tables (by content: their file names are unique per write)."""
    table = pq.read_table(path)
    manifest = json.loads((table.schema.metadata or {}).get(MANIFEST_KEY, b"{}"))
    side = (manifest.get("extra") or {}).get("side") or {}
    for name, file in side.items():
        with pa.OSFile(str(path.parent / file)) as src:
            side[name] = _table_digest(pa.ipc.open_file(src).read_all())
    h = hashlib.sha256(_table_digest(table).encode())
    h.update(json.dumps(_without_runs(manifest), sort_keys=True).encode())
    return h.hexdigest()


def warehouse_digests(root: Path) -> dict[str, str]:
    """{relative path: digest} of every Parquet file of the warehouse at `root`."""
    root = Path(root)
    return {str(p.relative_to(root)): file_digest(p) for p in sorted(root.rglob("*.parquet"))
            if not p.relative_to(root).parts[0] in HIDDEN and not p.name.startswith(".")}
