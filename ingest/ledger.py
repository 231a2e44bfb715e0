"""The ledger (ingest_runs) and quarantine files of an ingest key: one file each per key
(`<table>/part=<kind>-<underlying>-<date>/`), every row with the identity of its source in a side
table (see ingest.staging for identities), and the migration of the layout written before
(one file per run: `<table>/run_id=<run>/part=<key>/`), whose rows are merged into the current one."""
from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingest import staging
from warehouse import schema as S
from warehouse.files import FileLock
from warehouse.layout import partition_dir, table_dir
from warehouse.version import code_version
from warehouse.writer import PartitionManifest, read_manifest, read_partition, read_side, write_partition

IDENTITY_SIDE = "identity"    # per ledger / quarantine row: the identity of its source
SCHEMAS = {"ingest_runs": S.INGEST_RUNS, "quarantine": S.QUARANTINE}


def part_label(key: staging.PartKey) -> str:
    """The `part` partition value of ingest_runs and quarantine for a key."""
    return f"{key[0]}-{key[1]}-{key[2].isoformat() if key[2] else staging.UNPLACED}"


def dictionary_column(values: list[str], codes: np.ndarray) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values, pa.string()))


def read_with_identity(root: Path, table: str, label: str) -> tuple[pa.Table | None, list[str]]:
    """A ledger / quarantine partition and the identity of each of its rows ('' when unknown)."""
    keys = {"part": label}
    data = read_partition(root, table, keys)
    if data is None:
        return None, []
    side = read_side(root, table, keys, IDENTITY_SIDE)
    ids = side["identity"].to_pylist() if side is not None and side.num_rows == data.num_rows else \
        [""] * data.num_rows
    return data, ids


def write_with_identity(root: Path, table: str, label: str, rows: pa.Table, ids: list[str], run_id: str) -> None:
    uniq = sorted(set(ids))
    index = {u: k for k, u in enumerate(uniq)}
    codes = np.fromiter((index[i] for i in ids), np.int32, len(ids))
    side = pa.table({"identity": dictionary_column(uniq, codes)})
    version = code_version("ingest", "transforms", "warehouse")
    write_partition(root, table, {"part": label}, rows, SCHEMAS[table],
                    PartitionManifest(table, {"part": label}, 0, run_id, version), side={IDENTITY_SIDE: side})


def _legacy_identities(root: Path, label: str) -> dict[str, str]:
    """source -> identity for the sources of a key ingested before identities were kept: the sha256
    the data partition's manifest recorded, else the path."""
    kind, _, rest = label.partition("-")
    underlying, _, day = rest.partition("-")
    if kind not in ("options", "futures", "spot") or day == staging.UNPLACED:
        return {}
    manifest = read_manifest(partition_dir(root, kind, {"underlying": underlying, "date": day})) or {}
    return {s["source"]: f"sha256:{s['sha256']}" for s in manifest.get("sources", []) if s.get("sha256")}


def migrate_legacy(root: Path) -> int:
    """Merge ledger and quarantine files of the per-run layout into the per-key one (an entry per
    source and partition: the newest of the runs; a quarantine row once), then delete them: the two
    layouts side by side break the warehouse views. Returns the keys migrated."""
    migrated = 0
    for table in ("ingest_runs", "quarantine"):
        base = table_dir(root, table)
        if not base.exists() or not any(base.glob("run_id=*")):
            continue
        with FileLock(base):
            old_dirs = sorted(base.glob("run_id=*"))
            by_label: dict[str, list[pa.Table]] = defaultdict(list)
            for d in old_dirs:
                for f in sorted(d.glob("part=*/*.parquet")):
                    t = pq.read_table(f).select(SCHEMAS[table].names)
                    by_label[f.parent.name.split("=", 1)[1]].append(t)
            for label, tables in sorted(by_label.items()):
                _merge_legacy(root, table, label, pa.concat_tables(tables, promote_options="default"))
                migrated += 1
            for d in old_dirs:
                shutil.rmtree(d, ignore_errors=True)
    return migrated


def _merge_legacy(root: Path, table: str, label: str, old: pa.Table) -> None:
    ident = _legacy_identities(root, label)
    rows = old.to_pylist()
    if table == "ingest_runs":      # the newest entry of each source (older runs counted it again)
        newest: dict[tuple, dict] = {}
        for r in sorted(rows, key=lambda r: (r["finished_at"] is not None, r["finished_at"])):
            newest[(r["source"], r["target"], r["partition"])] = r
        rows = sorted(newest.values(), key=lambda r: (r["source"], r["partition"]))
    else:                           # a quarantine row once, however many runs wrote it
        rows = list({(r["source"], r["position"], r["reason"], r["raw"]): r for r in rows}.values())
    ids = [ident.get(r["source"], f"path:{r['source']}") for r in rows]
    current, current_ids = read_with_identity(root, table, label)
    if current is not None:         # written by the current layout: its rows win
        have = set(current_ids)
        keep = [k for k, i in enumerate(ids) if i not in have]
        rows, ids = current.to_pylist() + [rows[k] for k in keep], current_ids + [ids[k] for k in keep]
    write_with_identity(root, table, label, pa.Table.from_pylist(rows, schema=SCHEMAS[table]), ids,
                        rows[0]["run_id"] if rows else "")
