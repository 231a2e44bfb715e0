"""Rows the source no longer holds: the recorder's one '1970-01-01 05:30:00' row per table is
replaced by the next day's (its timestamp is UNIQUE), so a warehouse that mirrors the database
must drop the earlier one when the later one arrives, or an incremental ingest would end with more
rows, and other counts, than one full read of the same database.

The live-MariaDB reader (ingest.mariadb_source) remembers which row-less-timestamp rows ("loose"
rows: NULL, 1970) it ingested, with the identity of the source that ingested them and their
position in it; when one disappears from the table, the read that notices stages a retraction for
the row's partition key. Finalizing the key (ingest.finalize) removes the row from the assembly
inputs and from the quarantine (identity and position name it in both), so whatever it displaced
comes back, and gives the retracting source one ledger entry per key, identity `retract:<its
identity>`, holding the retracted rows as negative source_rows and deduped: the retracted source's
own entry, recomputed from what is stored, counts the row as deduped (replaced by a later read),
so the totals equal a full read's. Being keyed by identity, a rerun replaces the entry instead of
adding a second one.

Not retracted: loose rows adopted from a state written before placements were recorded (where
they went is unknown); they stay as ingested.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest import staging

SUFFIX = ".retract.json"
PREFIX = "retract:"


def placement(kind: str, underlying: str, day, identity: str | None, position: str) -> dict:
    """Where a loose row went when it was staged: what a later retraction needs."""
    return {"kind": kind, "underlying": underlying, "date": day.isoformat() if day else None,
            "identity": identity, "position": position}


def stage(stager: staging.Stager, retractions: dict[staging.PartKey, list[dict]]) -> None:
    """Write the retractions of one stage into its pending keys (before stager.close(), which then
    writes the keys' counts and commits them with the rest of the stage)."""
    for key, items in retractions.items():
        if not items:
            continue
        d = staging.key_dir(stager.pending, key)
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"{stager.stage_id}{SUFFIX}"
        path.write_text(json.dumps(items, sort_keys=True))
        stager._written.append(path)               # an aborted stage deletes it with its other files
        stager.retracted[key] += len(items)


def named(table: pa.Table, items: list[dict], source_col: str, pos_col: str) -> pa.ChunkedArray | None:
    """Mask of the rows of `table` that the retractions name (None: none), by source identity and
    position."""
    if not items or table is None or not table.num_rows:
        return None
    pos = table[pos_col].cast(pa.string())
    src = table[source_col].cast(pa.string())
    mask = None
    for x in items:
        m = pc.and_(pc.fill_null(pc.equal(pos, pa.scalar(x["position"], pa.string())), False),
                    pc.fill_null(pc.equal(src, pa.scalar(x["identity"], pa.string())), False))
        mask = m if mask is None else pc.or_(mask, m)
    return mask if pc.any(mask).as_py() else None


def without(table: pa.Table, items: list[dict], source_col: str, pos_col: str) -> pa.Table:
    mask = named(table, items, source_col, pos_col)
    return table if mask is None else table.filter(pc.invert(mask))


def correction(counts: dict, n: int) -> dict:
    """The ledger entry of a source's retractions in one key (counts: the stage's counts file)."""
    return {"run_id": counts["run_id"], "source": f"{counts['source']} (rows the table no longer holds)",
            "source_rows": -n, "written": 0, "deduped": -n, "quarantined": 0, "repaired": 0}


def row_digests(rows: dict[str, np.ndarray], idx: np.ndarray) -> list[str]:
    """A stable identity per row (its values in the recorder's units, column by column)."""
    names = sorted(rows)
    block = np.stack([rows[c][idx] for c in names], axis=1) if len(idx) else np.zeros((0, len(names)), np.int64)
    head = ",".join(names).encode()
    return [hashlib.blake2b(head + block[k].tobytes(), digest_size=12).hexdigest() for k in range(len(idx))]
