"""Assembling partitions: a (kind, underlying, date) key's committed pending inputs, merged with the
rows the warehouse already holds, deduplicated and written; its ingest_runs and quarantine rows
recorded; the inputs consumed.

Reconciliation, per source and partition: source_rows == written + deduped + quarantined.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa

from ingest import retract, staging
from transforms.columns import CONTRACT
from transforms.dedupe import EXISTING, Assembled, assemble
from warehouse import schema as S
from warehouse.layout import partition_dir
from warehouse.version import code_version
from warehouse.writer import PartitionManifest, read_manifest, read_partition, write_partition

SCHEMAS = {"options": S.OPTION_TICKS, "futures": S.FUTURES_TICKS, "spot": S.SPOT_TICKS, "equity": S.EQUITY_TICKS}


def ingest_code_version() -> str:
    return code_version("ingest", "transforms", "warehouse")


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
                          sha: dict[str, str], retracted: list[dict] = ()):
    kind, underlying, day = key
    keys = {"underlying": underlying, "date": day}
    existing = retract.drop(_existing(root, kind, underlying, day), retracted)
    if not fragments and existing is None:
        return Assembled(pa.table({}))
    result = assemble(fragments + ([existing] if existing is not None else []), S.SORT_KEYS[kind],
                      CONTRACT[kind], with_volume=kind != "spot")
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
    retracted = retract.load(pk.files, key[2])       # rows the source replaced since (ingest.retract)
    if key[2] is not None and (frags or retracted):
        result = _write_partition_rows(root, key, frags, stage_ids, sha, retracted)
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
    runs += retract.corrections(key, retracted, runs[0]["run_id"]) if retracted else []
    record(root, key, runs, quarantine, started)
    pk.consume()
    return runs


def record(root: Path, key: staging.PartKey, runs: list[dict], quarantine: list, started: dt.datetime) -> None:
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
