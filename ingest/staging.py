"""Pending area between parsing a source and assembling partitions.

Sources are parsed once, in any order; their rows are spilled per partition key (kind, underlying,
date) as Arrow IPC fragments under `<root>/_pending/<kind>/<underlying>/<date>/`, so memory stays
bounded by the flush size and each partition can later be assembled on its own (a Dagster
partition, a `--workers` process). Every file of one staging ("stage id" = run + source index) is
only valid once `<root>/_pending/_committed/<stage id>` exists: a stage killed half-way is ignored
by assembly and swept later, so a crash never leaks partial input into a partition.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from ingest.route import Normalized, Rejection
from warehouse.files import atomic_path

PartKey = tuple[str, str, dt.date | None]  # (kind, underlying, date); date None = unplaced
FLUSH_ROWS = 250_000
UNPLACED = "unplaced"


def pending_root(root: Path) -> Path:
    return root / "_pending"


def key_dir(pending: Path, key: PartKey) -> Path:
    kind, underlying, day = key
    return pending / kind / underlying / (day.isoformat() if day else UNPLACED)


def key_label(key: PartKey) -> str:
    """The `partition` column of ingest_runs: 'UNDERLYING/YYYY-MM-DD' (or 'UNDERLYING/unplaced')."""
    return f"{key[1]}/{key[2].isoformat() if key[2] else UNPLACED}"


def _write_ipc(path: Path, table: pa.Table) -> None:
    with atomic_path(path, fsync=False) as tmp, ipc.new_file(tmp, table.schema) as w:
        w.write_table(table)


class Stager:
    """Spills one source's fragments and quarantine rows per partition key; commits at close()."""

    def __init__(self, pending: Path, stage_id: str, source: str, checksum: str):
        self.pending, self.stage_id, self.source, self.checksum = pending, stage_id, source, checksum
        self._buf: dict[PartKey, list[pa.Table]] = defaultdict(list)
        self._qbuf: dict[PartKey, list[dict]] = defaultdict(list)
        self._rows: dict[PartKey, int] = defaultdict(int)
        self._files = 0
        self.staged: dict[PartKey, int] = defaultdict(int)
        self.rejected: dict[PartKey, int] = defaultdict(int)

    def add(self, norm: Normalized) -> None:
        for key, frag in norm.fragments.items():
            self._buf[key].append(frag)
            self._rows[key] += frag.num_rows
            self.staged[key] += frag.num_rows
            if self._rows[key] >= FLUSH_ROWS:
                self._flush(key)
        for key, rejections in norm.rejected.items():
            self.reject(key, rejections)

    def reject(self, key: PartKey, rejections: list[Rejection]) -> None:
        self.rejected[key] += len(rejections)
        self._qbuf[key].extend({"source": self.source, "position": r.position, "reason": r.reason, "raw": r.raw}
                               for r in rejections)
        if len(self._qbuf[key]) >= FLUSH_ROWS:
            self._flush_quarantine(key)

    def _next_file(self, key: PartKey, kind: str) -> Path:
        d = key_dir(self.pending, key)
        d.mkdir(parents=True, exist_ok=True)
        self._files += 1
        return d / f"{self.stage_id}.{kind}{self._files:06d}.arrow"

    def _flush(self, key: PartKey) -> None:
        if self._buf[key]:
            _write_ipc(self._next_file(key, "f"), pa.concat_tables(self._buf[key], promote_options="default"))
            self._buf[key].clear()
            self._rows[key] = 0

    def _flush_quarantine(self, key: PartKey) -> None:
        if self._qbuf[key]:
            _write_ipc(self._next_file(key, "q"), pa.Table.from_pylist(self._qbuf[key]))
            self._qbuf[key].clear()

    def close(self) -> list[PartKey]:
        """Flush, write per-key counts, then the commit marker; returns the keys touched."""
        keys = sorted(set(self.staged) | set(self.rejected), key=key_label)
        for key in keys:
            self._flush(key)
            self._flush_quarantine(key)
            counts = {"source": self.source, "sha256": self.checksum, "stage_id": self.stage_id,
                      "staged": self.staged.get(key, 0), "rejected": self.rejected.get(key, 0)}
            path = key_dir(self.pending, key) / f"{self.stage_id}.counts.json"
            path.write_text(json.dumps(counts, sort_keys=True))
        marker = self.pending / "_committed" / self.stage_id
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"source": self.source, "keys": [key_label(k) + f"/{k[0]}" for k in keys]}))
        return keys


def committed(pending: Path) -> set[str]:
    d = pending / "_committed"
    return {p.name for p in d.iterdir()} if d.exists() else set()


def _stage_of(path: Path) -> str:
    return path.name.split(".", 1)[0]


class PendingKey:
    """The committed pending inputs of one partition key (a snapshot taken at construction)."""

    def __init__(self, pending: Path, key: PartKey):
        ok = committed(pending)
        d = key_dir(pending, key)
        files = sorted(d.iterdir()) if d.exists() else []
        self.key = key
        self.files = [p for p in files if _stage_of(p) in ok and not p.name.startswith(".")]
        self.counts = [json.loads(p.read_text()) for p in self.files if p.name.endswith(".counts.json")]

    def fragments(self) -> list[pa.Table]:
        # memory-mapped: the tables are views of the page cache, no copy before the final gather
        return [ipc.open_file(pa.memory_map(str(p))).read_all() for p in self.files
                if ".f" in p.name and p.suffix == ".arrow"]

    def quarantine(self) -> pa.Table | None:
        parts = [ipc.open_file(p).read_all() for p in self.files if ".q" in p.name and p.suffix == ".arrow"]
        return pa.concat_tables(parts) if parts else None

    def consume(self) -> None:
        """Delete the inputs this snapshot read (files that arrived since are left for the next run)."""
        for p in self.files:
            p.unlink(missing_ok=True)


def pending_keys(pending: Path) -> list[PartKey]:
    """Keys with committed pending inputs, sorted."""
    ok = committed(pending)
    keys = []
    for kind_dir in sorted(p for p in pending.iterdir() if p.is_dir() and not p.name.startswith("_")) \
            if pending.exists() else []:
        for u_dir in sorted(p for p in kind_dir.iterdir() if p.is_dir()):
            for d_dir in sorted(p for p in u_dir.iterdir() if p.is_dir()):
                if any(_stage_of(p) in ok for p in d_dir.glob("*.counts.json")):
                    day = None if d_dir.name == UNPLACED else dt.date.fromisoformat(d_dir.name)
                    keys.append((kind_dir.name, u_dir.name, day))
    return keys


def sweep(pending: Path, min_age_s: float = 3600.0) -> None:
    """Drop leftovers of killed stages (uncommitted files older than min_age_s, so a stage still
    running elsewhere is left alone) and commit markers whose files are all consumed."""
    ok = committed(pending)
    live = set()
    now = time.time()
    for p in pending.rglob("*") if pending.exists() else []:
        if p.is_file() and "_committed" not in p.parts:
            stage = _stage_of(p) if not p.name.startswith(".") else None
            if stage in ok:
                live.add(stage)
            elif now - p.stat().st_mtime >= min_age_s:
                p.unlink(missing_ok=True)
    for stage in ok - live:
        (pending / "_committed" / stage).unlink(missing_ok=True)


def reset(pending: Path) -> None:
    shutil.rmtree(pending, ignore_errors=True)
