"""Pending area between parsing a source and assembling partitions.

Sources are parsed once, in any order; their rows are spilled per partition key (kind, underlying,
date) as Arrow IPC fragments under `<root>/_pending/<kind>/<underlying>/<date>/`, so memory stays
bounded by the flush size and each partition can later be assembled on its own (a Dagster
partition, a `--workers` process). A stage (one source, "stage id" = run + source index) is valid
only once its commit marker `<root>/_pending/_committed/<stage id>` exists, and only its files that
belong to a key with its `<stage id>.counts.json` there.

What survives what:
- A stage holds an flock on `_pending/_locks/<stage id>.lock` while it writes: the kernel drops it
  when the process dies (SIGKILL included), so `sweep` knows a dead stage from a running one and
  deletes a dead one's files at once (a stage that fails, e.g. on a full disk, deletes its own).
- A source is identified by its content (`identity`: sha256 of the file, or the table and
  high-water mark of a live database read). When several committed stages of one identity are
  pending for a key (a rerun after a crash, a re-ingest), only the newest is assembled; the older
  ones are consumed unread, so nothing is counted twice.
- Consuming a key's inputs deletes the counts files first: a crash half-way leaves files that no
  longer belong to any key, never a stage that is missing some of its rows.
- Rows decoded from a gzip member that later fails its CRC are rolled back (`Stager.checkpoint` /
  `rollback`): only fragments staged before the last verified point are kept.
- In a `--workers` process, a stage is never committed once the parent is gone (`set_parent`).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from ingest.route import Normalized, Rejection
from warehouse.store import scratch_dir
from warehouse.files import FileLock, atomic_path, atomic_write_json, crash_point, is_locked, remove_empty_dirs

PartKey = tuple[str, str, dt.date | None]  # (kind, underlying, date); date None = unplaced
FLUSH_ROWS = 250_000
UNPLACED = "unplaced"
COMMITTED = "_committed"
LOCKS = "_locks"
SOURCE_LEVEL: PartKey = ("options", "unknown", None)   # rows that belong to no table (file-level damage)


def pending_root(root: Path) -> Path:
    """Staging is local scratch space: the warehouse root, or for an object store its scratch dir."""
    return scratch_dir(root) / "_pending"


def key_dir(pending: Path, key: PartKey) -> Path:
    kind, underlying, day = key
    return pending / kind / underlying / (day.isoformat() if day else UNPLACED)


def key_label(key: PartKey) -> str:
    """The `partition` column of ingest_runs: 'UNDERLYING/YYYY-MM-DD' (or 'UNDERLYING/unplaced')."""
    return f"{key[1]}/{key[2].isoformat() if key[2] else UNPLACED}"


def _write_ipc(path: Path, table: pa.Table) -> None:
    with atomic_path(path, fsync=False) as tmp, ipc.new_file(tmp, table.schema) as w:
        w.write_table(table)


# -- the parent of a --workers process ------------------------------------------------------------
_PARENT_PID: int | None = None


def set_parent(pid: int | None) -> None:
    """In a pool worker: the pid of the ingest process; stages are not committed once it is gone."""
    global _PARENT_PID
    _PARENT_PID = pid


def parent_alive() -> bool:
    return _PARENT_PID is None or os.getppid() == _PARENT_PID


class ParentGone(RuntimeError):
    """The process that started this worker died: its stage must not be committed."""


class Stager:
    """Spills one source's fragments and quarantine rows per partition key; commits at close().

    `identity` names the source's content (see the module docstring); a reader that only learns it
    at the end (a dump's sha256 is computed as it is read) sets it before close()."""

    def __init__(self, pending: Path, stage_id: str, source: str, checksum: str = "", *,
                 run_id: str | None = None, order: tuple | list | None = None):
        self.pending, self.stage_id, self.source, self.checksum = pending, stage_id, source, checksum
        self.identity = checksum or f"path:{source}"
        self.run_id = run_id or stage_id.rsplit("-s", 1)[0]
        self.order = list(order) if order is not None else [stage_id]
        self.size: int | None = None
        self.partial: dict | None = None
        self._lock = FileLock(pending / LOCKS / f"{stage_id}.lock")
        self._lock.acquire()
        self._buf: dict[PartKey, list[pa.Table]] = defaultdict(list)
        self._qbuf: dict[PartKey, list[dict]] = defaultdict(list)
        self._rows: dict[PartKey, int] = defaultdict(int)
        self._files = 0
        self._written: list[Path] = []
        self.staged: dict[PartKey, int] = defaultdict(int)
        self.rejected: dict[PartKey, int] = defaultdict(int)
        self.retracted: dict[PartKey, int] = defaultdict(int)   # rows read before, gone now (ingest.retract)
        # what the last verified point holds: fragments and quarantine rows buffered then, counts
        self._vlen: dict[PartKey, int] = defaultdict(int)
        self._qvlen: dict[PartKey, int] = defaultdict(int)
        self._unverified: list[Path] = []
        self._verified_counts: tuple[dict, dict] = ({}, {})

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

    def rows(self) -> int:
        """Source rows staged so far (kept, quarantined)."""
        return sum(self.staged.values()) + sum(self.rejected.values())

    # -- verified points and rollback (damaged gzip members) ----------------------------------
    def checkpoint(self) -> None:
        """Everything staged so far is verified: a later rollback keeps it."""
        for key, frags in self._buf.items():
            self._vlen[key] = len(frags)
        for key, q in self._qbuf.items():
            self._qvlen[key] = len(q)
        self._unverified = []
        self._verified_counts = (dict(self.staged), dict(self.rejected))

    def rollback(self) -> None:
        """Drop everything staged since the last checkpoint (files written and buffered rows)."""
        for p in self._unverified:
            p.unlink(missing_ok=True)
        self._unverified = []
        for key in list(self._buf):
            del self._buf[key][self._vlen[key]:]
            self._rows[key] = sum(f.num_rows for f in self._buf[key])
        for key in list(self._qbuf):
            del self._qbuf[key][self._qvlen[key]:]
        staged, rejected = self._verified_counts
        self.staged, self.rejected = defaultdict(int, staged), defaultdict(int, rejected)

    def damaged(self, position: str, reason: str, offset: int, rollback: bool, counted: bool) -> None:
        """The source ends here before its end: record it (a quarantine row when `counted`) and what
        is kept; with `rollback`, first drop what was staged since the last verified point."""
        if rollback:
            self.rollback()
        kept = self.rows()
        if counted:
            self.reject(SOURCE_LEVEL, [Rejection(position, reason, "")])
        self.partial = {"reason": reason, "position": position, "offset": offset, "kept_rows": kept,
                        "dropped_after_check": rollback}

    # -- files --------------------------------------------------------------------------------
    def _next_file(self, key: PartKey, kind: str) -> Path:
        d = key_dir(self.pending, key)
        d.mkdir(parents=True, exist_ok=True)
        self._files += 1
        return d / f"{self.stage_id}.{kind}{self._files:06d}.arrow"

    def _spill(self, key: PartKey, kind: str, table: pa.Table, verified: bool) -> None:
        path = self._next_file(key, kind)
        self._written.append(path)
        _write_ipc(path, table)
        if not verified:
            self._unverified.append(path)
        crash_point("stage-flushed")

    def _flush(self, key: PartKey) -> None:
        frags = self._buf[key]
        if frags:
            # verified and unverified fragments go to separate files: a rollback deletes only the latter
            v = self._vlen[key]
            for part, verified in ((frags[:v], True), (frags[v:], False)):
                if part:
                    self._spill(key, "f", pa.concat_tables(part, promote_options="default"), verified)
            frags.clear()
            self._rows[key] = 0
            self._vlen[key] = 0

    def _flush_quarantine(self, key: PartKey) -> None:
        q = self._qbuf[key]
        if q:
            v = self._qvlen[key]
            for part, verified in ((q[:v], True), (q[v:], False)):
                if part:
                    self._spill(key, "q", pa.Table.from_pylist(part), verified)
            q.clear()
            self._qvlen[key] = 0

    def close(self) -> list[PartKey]:
        """Flush, write per-key counts, then the commit marker; returns the keys touched."""
        keys = sorted({k for d in (self.staged, self.rejected, self.retracted) for k, n in d.items() if n},
                      key=key_label)
        for key in keys:
            self._flush(key)
            self._flush_quarantine(key)
            counts = {"source": self.source, "identity": self.identity, "sha256": self.checksum,
                      "stage_id": self.stage_id, "run_id": self.run_id,
                      "staged": self.staged.get(key, 0), "rejected": self.rejected.get(key, 0),
                      "retracted": self.retracted.get(key, 0)}
            path = key_dir(self.pending, key) / f"{self.stage_id}.counts.json"
            self._written.append(path)
            atomic_write_json(path, counts, fsync=False)
        if not parent_alive():
            self.abort()
            raise ParentGone(f"{self.source}: the ingest process is gone; stage {self.stage_id} not committed")
        marker = {"stage_id": self.stage_id, "run_id": self.run_id, "source": self.source,
                  "identity": self.identity, "sha256": self.checksum, "size": self.size, "order": self.order,
                  "rows": self.rows(), "partial": self.partial,
                  "keys": [[k[0], k[1], k[2].isoformat() if k[2] else None] for k in keys]}
        atomic_write_json(self.pending / COMMITTED / self.stage_id, marker)
        self._lock.release(unlink=True)
        crash_point("stage-committed")
        return keys

    def abort(self) -> None:
        """Delete what this (failed) stage wrote: a rerun must not trip over it or need its space."""
        for p in self._written:
            p.unlink(missing_ok=True)
        self._written = []
        self._lock.release(unlink=True)


# -- reading the pending area --------------------------------------------------------------------
def committed(pending: Path) -> dict[str, dict]:
    """Commit markers by stage id."""
    d = pending / COMMITTED
    out = {}
    for p in sorted(d.iterdir()) if d.exists() else []:
        if p.name.startswith("."):
            continue
        try:
            out[p.name] = json.loads(p.read_text())
        except (OSError, ValueError):          # written atomically: only a foreign file is unreadable
            continue
    return out


def reorder(pending: Path, stage_id: str, order: list) -> None:
    """Give a committed stage a new place in the order of sources (a rerun that reuses it)."""
    path = pending / COMMITTED / stage_id
    marker = json.loads(path.read_text())
    marker["order"] = order
    atomic_write_json(path, marker)


def _stage_of(path: Path) -> str:
    name = path.name.lstrip(".")        # temp files: .<name>.<unique>.tmp
    return name.split(".", 1)[0]


class PendingKey:
    """The committed pending inputs of one partition key (a snapshot taken at construction).

    `stages`: stage id -> counts of the stages to assemble (the newest per identity), in source
    order; `superseded`: older stages of the same identities, consumed without being read."""

    def __init__(self, pending: Path, key: PartKey):
        markers = committed(pending)
        d = key_dir(pending, key)
        files = sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith(".")) if d.exists() else []
        self.key = key
        counts = {}
        for p in files:
            sid = _stage_of(p)
            if p.name.endswith(".counts.json") and sid in markers:
                counts[sid] = {**json.loads(p.read_text()), "order": markers[sid].get("order") or [sid]}
        newest: dict[str, str] = {}
        for sid in sorted(counts, key=lambda s: (counts[s]["order"], s)):
            newest[counts[sid]["identity"]] = sid
        self.stages = {sid: counts[sid] for sid in sorted(newest.values(), key=lambda s: (counts[s]["order"], s))}
        self.superseded = sorted(set(counts) - set(self.stages))
        self.files = [p for p in files if _stage_of(p) in self.stages]
        self._consumable = [p for p in files if _stage_of(p) in counts]

    @property
    def counts(self) -> list[dict]:
        return list(self.stages.values())

    def fragments(self) -> list[tuple[str, pa.Table]]:
        """(stage id, rows) per fragment file. Memory-mapped: the tables are views of the page cache,
        no copy before the final gather."""
        return [(_stage_of(p), ipc.open_file(pa.memory_map(str(p))).read_all()) for p in self.files
                if ".f" in p.name and p.suffix == ".arrow"]

    def retractions(self) -> list[tuple[str, list[dict]]]:
        """(stage id, rows the source no longer holds) per retraction file (ingest.retract)."""
        return [(_stage_of(p), json.loads(p.read_text())) for p in self.files if p.name.endswith(".retract.json")]

    def quarantine(self) -> list[tuple[str, pa.Table]]:
        return [(_stage_of(p), ipc.open_file(pa.memory_map(str(p))).read_all()) for p in self.files
                if ".q" in p.name and p.suffix == ".arrow"]

    def consume(self) -> None:
        """Delete the inputs this snapshot read or superseded (files that arrived since are left for
        the next run): the counts first, so a crash half-way leaves no half stage behind."""
        ordered = sorted(self._consumable, key=lambda p: not p.name.endswith(".counts.json"))
        for i, p in enumerate(ordered):
            p.unlink(missing_ok=True)
            if i == 0:
                crash_point("consume-started")


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


def sweep(pending: Path) -> None:
    """Delete what dead stages left: files of stages that are neither committed nor running (their
    lock is free), files that no longer belong to a key (a consume cut short), commit markers whose
    files are all consumed, stale locks and empty directories. Safe while other stages run."""
    if not pending.exists():
        return
    markers = committed(pending)
    live: set[str] = set()
    running: dict[str, bool] = {}

    def is_running(sid: str) -> bool:
        if sid not in running:
            running[sid] = is_locked(pending / LOCKS / f"{sid}.lock")
        return running[sid]

    by_dir: dict[Path, list[Path]] = defaultdict(list)
    for p in pending.rglob("*"):
        if p.is_file() and p.parent.name not in (COMMITTED, LOCKS):
            by_dir[p.parent].append(p)
    for files in by_dir.values():
        has_counts = {_stage_of(p) for p in files if p.name.endswith(".counts.json")}
        for p in files:
            sid = _stage_of(p)
            if sid in markers and sid in has_counts:
                live.add(sid)
            elif is_running(sid):
                continue
            elif sid in markers or not (pending / COMMITTED / sid).exists():
                p.unlink(missing_ok=True)     # consumed from this key half-way, or a dead stage's
            # else: committed after the listing above; the next sweep sees it whole
    for sid in set(markers) - live:
        if not is_running(sid):
            (pending / COMMITTED / sid).unlink(missing_ok=True)
    for tmp in (pending / COMMITTED).glob(".*") if (pending / COMMITTED).exists() else []:
        if not is_running(_stage_of(tmp)):                 # a marker whose writing was cut short
            tmp.unlink(missing_ok=True)
    for lock in (pending / LOCKS).glob("*.lock") if (pending / LOCKS).exists() else []:
        stale = FileLock(lock)
        if stale.acquire(blocking=False):
            stale.release(unlink=True)
    remove_empty_dirs(pending, keep_root=False)


def reset(pending: Path) -> None:
    shutil.rmtree(pending, ignore_errors=True)
