"""Rows the source no longer holds: the recorder's one '1970-01-01 05:30:00' row per table is
replaced by the next day's (its timestamp is UNIQUE), so a warehouse that mirrors the database
must drop the earlier one when the later one arrives, or an incremental ingest would end with more
rows, and other counts, than one full read of the same database.

The live-MariaDB reader (ingest.mariadb_source) remembers which row-less-timestamp rows ("loose"
rows: NULL, 1970) it ingested and where each went; when one disappears from the table it stages a
retraction for that partition key. Finalizing the key drops the row from the partition when it was
written there and records correction rows in ingest_runs (negative counts of the row's fate:
written, deduped or quarantined), so the totals equal a full read's. The quarantine log keeps the
record of a retracted row that had been quarantined (it is a log of what was read).

Exact under the recorder's layout (one 1970 row per table); when two tables of one contract hold
1970 rows placed at the same second, the one that lost the tie is not brought back.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest import staging
from warehouse.clock import IST_OFFSET_S

RETRACT_SUFFIX = ".retract.json"
FATES = ("written", "deduped", "quarantined")


def stage(stager: staging.Stager, retractions: dict[staging.PartKey, list[dict]]) -> None:
    """Write the retractions of one stage into its pending keys (before stager.close(), which
    then writes the keys' counts and commits them with the rest of the stage)."""
    for key, items in retractions.items():
        if not items:
            continue
        d = staging.key_dir(stager.pending, key)
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{stager.stage_id}{RETRACT_SUFFIX}").write_text(json.dumps(items, sort_keys=True))
        stager.rejected[key] += 0                  # the key gets a counts file: it is finalized


def load(files: list[Path], day) -> list[dict]:
    """The retractions among a key's committed pending files (`day` None: an unplaced key, whose
    rows were quarantined when staged)."""
    items = [dict(x) for p in files if p.name.endswith(RETRACT_SUFFIX) for x in json.loads(p.read_text())]
    for x in items:
        if day is None or x.get("wall_s") is None:
            x["fate"] = "quarantined"
    return items


def drop(existing: pa.Table | None, items: list[dict]) -> pa.Table | None:
    """The partition's rows without the retracted ones; sets each item's fate (what it became
    when it was ingested: written, deduped by an equal row of the same contract, or quarantined)."""
    for x in items:
        if "fate" in x:
            continue
        x["fate"] = "quarantined"
        if existing is None or not existing.num_rows or "ts_repaired" not in existing.column_names:
            continue
        at = pc.equal(existing["ts"], pa.scalar((int(x["wall_s"]) - IST_OFFSET_S) * 1_000_000, existing["ts"].type))
        repaired = pc.and_(at, pc.fill_null(existing["ts_repaired"], False))
        mine = pc.and_(repaired, pc.equal(existing["source_table"], x["source_table"]))
        if pc.any(mine).as_py():
            existing = existing.filter(pc.invert(mine))
            x["fate"] = "written"
        elif pc.any(pc.and_(repaired, pc.equal(existing["symbol"], x["symbol"]))).as_py():
            x["fate"] = "deduped"
    return existing


def corrections(key: staging.PartKey, items: list[dict], run_id: str) -> list[dict]:
    """ingest_runs rows undoing the retracted rows' counts, per source."""
    by_source: dict[str, dict] = {}
    for x in items:
        r = by_source.setdefault(x["source"], {"run_id": run_id, "source": x["source"], "target": key[0],
                                               "partition": staging.key_label(key), "source_rows": 0,
                                               "written": 0, "deduped": 0, "quarantined": 0, "repaired": 0})
        r["source_rows"] -= 1
        r[x["fate"]] -= 1
        r["repaired"] -= int(x["fate"] == "written" and bool(x.get("repaired")))
    return list(by_source.values())


def placement(route_kind: str, underlying: str, day, wall_s, repaired: bool, table: str, symbol: str) -> dict:
    """Where a loose row went when it was staged: what a later retraction needs."""
    return {"kind": route_kind, "underlying": underlying, "date": day.isoformat() if day else None,
            "wall_s": None if wall_s is None else int(wall_s), "repaired": bool(repaired),
            "source_table": table, "symbol": symbol}


def row_digests(rows: dict[str, np.ndarray], idx: np.ndarray) -> list[str]:
    """A stable identity per row (its values in the recorder's units, column by column)."""
    import hashlib

    names = sorted(rows)
    block = np.stack([rows[c][idx] for c in names], axis=1) if len(idx) else np.zeros((0, len(names)), np.int64)
    head = ",".join(names).encode()
    return [hashlib.blake2b(head + block[k].tobytes(), digest_size=12).hexdigest() for k in range(len(idx))]
