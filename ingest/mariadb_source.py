"""Staging from the live recorder database: every table is a source `db.table`, incremental by a
per-table state kept in the warehouse (`<root>/ingest_watermarks.json`), advanced only after the
table's rows are committed to the pending area.

A table's state: `mark`, the newest real timestamp read (the next read asks for rows above it);
`loose`, the rows without a real timestamp (NULL, or the recorder's '1970-01-01 05:30:00', at most
one per table and replaced by the next day's write) that were ingested, by identity, with where
each went. Every read also reads the table's loose rows (few): a new one is ingested, one already
ingested is not read twice, one that disappeared (replaced) is retracted (ingest.retract). So
ingesting day by day gives the same rows and reconciled counts as one full read of the final
database. `bad`: rows that did not decode and were quarantined (not quarantined again).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from ingest import retract, staging
from ingest.mariadb import (BadRow, SourceTable, databases, discover, engine_for, high_water_mark, masked,
                            read_table, wanted_databases)
from ingest.normalize import EARLIEST_S
from ingest.recorder_format import NULL_INT
from ingest.route import Reject, Rejection, classify_rows, iso_wall
from ingest.skipped import Skipped, record_skipped
from ingest.stage import SourceBatch, StageResult, stage_batches
from warehouse.files import atomic_write_json, read_json
from warehouse.readahead import read_ahead

WATERMARKS = "ingest_watermarks.json"
R_BAD_ROW = "row values do not decode as the column types"


def load_marks(root: Path) -> dict[str, dict]:
    """Per table `db.table`: {"mark": seconds or None, "loose": {id: placement}, "bad": [id]}
    (a bare number is the older form: a mark alone)."""
    raw = read_json(root / WATERMARKS, {})
    return {k: (v if isinstance(v, dict) else {"mark": v}) for k, v in raw.items()}


def save_marks(root: Path, marks: dict[str, dict]) -> None:
    # atomic (a killed run leaves the old or the new file), not fsynced: like the pending files it
    # vouches for (ingest.staging), which a power cut can lose as well
    atomic_write_json(root / WATERMARKS, marks, fsync=False)


def _mark_text(since: int | None) -> str:
    return "None" if since is None else iso_wall(since)


def _position(ts: int, ordinal: int) -> str:
    """A row by its timestamp (UNIQUE in a recorder table); a row without one by its place in the read."""
    return f"timestamp {iso_wall(ts)}" if ts != NULL_INT else f"timestamp NULL, row {ordinal} of the read"


class _TableRead:
    """One table's batches for staging: new rows above the mark, loose rows not ingested before,
    rows that do not decode; and afterwards the table's new state and its retractions."""

    def __init__(self, engine, t: SourceTable, state: dict, identity: str):
        self.engine, self.t, self.identity = engine, t, identity
        self.since = state.get("mark")
        # an older state (a mark alone) never recorded its loose rows: take those present as read
        self.adopt = bool(state) and "loose" not in state
        self.known: dict[str, dict] = dict(state.get("loose") or {})
        self.bad_known = set(state.get("bad") or ())
        self.mark = self.since
        self.loose: dict[str, dict] = {}
        self.bad: set[str] = set()

    def batches(self):
        t, since, ordinal = self.t, self.since, 0
        where = f"after mark {_mark_text(since)}"
        for rows in read_table(self.engine, t, since):
            if isinstance(rows, BadRow):
                ident = hashlib.blake2b(rows.raw.encode(), digest_size=12).hexdigest()
                self.bad.add(ident)
                ordinal += 1
                if ident not in self.bad_known:
                    yield Rejection(f"row {rows.ordinal} {where}", R_BAD_ROW, rows.raw)
                continue
            n = len(rows["timestamp"])
            base = ordinal
            keep = self._keep(rows, base)
            ordinal += n
            self.mark = high_water_mark(self.mark, rows["timestamp"])
            at = np.flatnonzero(keep) if keep is not None else np.arange(n)
            if keep is not None:
                rows = {c: v[at] for c, v in rows.items()}
            yield SourceBatch(t.db, t.table, rows,
                              lambda i, ts=rows["timestamp"], base=base, at=at: _position(int(ts[i]), base + int(at[i])))

    def _keep(self, rows: dict[str, np.ndarray], base: int) -> np.ndarray | None:
        """Rows of the batch to stage (None: all of them); records the loose rows seen (a row
        ingested before keeps the placement of the read that ingested it)."""
        ts = rows["timestamp"]
        loose = (ts == NULL_INT) | (ts < EARLIEST_S)
        if not loose.any():
            return None
        idx = np.flatnonzero(loose)
        keep = ~loose
        places = self._placements(rows, idx, base)
        for i, ident, place in zip(idx, retract.row_digests(rows, idx), places):
            new = not self.adopt and ident not in self.known
            self.loose[ident] = place if new else self.known.get(ident, place)
            keep[i] = new
        return keep

    def _placements(self, rows: dict[str, np.ndarray], idx: np.ndarray, base: int) -> list[dict]:
        """Partition key, and position in this read, of each loose row (an adopted row, from an
        older state, has no known identity)."""
        route = self.t.route
        identity = None if self.adopt else self.identity
        day: list = [None] * len(idx)
        if not isinstance(route, Reject):
            cl = classify_rows(route, {c: v[idx] for c, v in rows.items()})
            for j, k in enumerate(cl.keep):
                day[k] = dt.date.fromordinal(int(cl.day_ord[j]))
        ts = rows["timestamp"]
        return [retract.placement(route.kind, route.underlying, d, identity, _position(int(ts[i]), base + int(i)))
                for i, d in zip(idx, day)]

    def retractions(self) -> dict[staging.PartKey, list[dict]]:
        """Loose rows ingested before that the table no longer holds (replaced or deleted)."""
        out: dict[staging.PartKey, list[dict]] = {}
        for ident in sorted(set(self.known) - set(self.loose)):
            p = self.known[ident]
            if not p.get("identity"):
                continue                          # adopted from an older state: placement unknown
            key = (p["kind"], p["underlying"], dt.date.fromisoformat(p["date"]) if p["date"] else None)
            out.setdefault(key, []).append(p)
        return out

    def state(self) -> dict:
        return {"mark": self.mark, "loose": self.loose, "bad": sorted(self.bad)}


READERS = 2   # tables read at once, each on its own connection: the server sends while we decode and stage


def stage_table(engine, url: str, pending: Path, stage_id: str, seq_base: int, k: int, t: SourceTable,
                state: dict, order: list, progress=None) -> tuple[list, int, dict]:
    """One table into its own stage (id and row order fixed by its place `k` in the sorted list,
    whichever thread or machine runs it): (keys committed, rows read, the table's new state). The
    caller saves the state once this returns: only after the stage is committed."""
    source = f"mariadb:{masked(url)}:{t.name}>{_mark_text(state.get('mark'))}"
    st = staging.Stager(pending, stage_id, source, order=[*order, k])
    try:
        read = _TableRead(engine, t, state, st.identity)
        # rows are received and decoded a batch ahead in a thread while this one is normalised
        n = stage_batches(read_ahead(read.batches()), st, seq_base + (k << 28), progress)
        retract.stage(st, read.retractions())
        committed = st.close()
    except BaseException:
        st.abort()
        raise
    return committed, n, read.state()


def stage_table_task(url: str, root: str, stage_id: str, seq_base: int, k: int, t: SourceTable, state: dict,
                     order: list) -> tuple[list, int, dict]:
    """`stage_table` as a cluster task: its own connection; a stage id of its own per attempt (a
    task rerun after its worker died must not write into the dead attempt's files, which the run's
    sweep deletes; the source's identity, and so what is assembled, is the same)."""
    import uuid

    engine = engine_for(url)
    try:
        return stage_table(engine, url, staging.pending_root(Path(root)), f"{stage_id}x{uuid.uuid4().hex[:8]}",
                           seq_base, k, t, state, order)
    finally:
        engine.dispose()


def stage_mariadb(url: str, root: Path, pending: Path, stage_id: str, seq_base: int, progress=None,
                  order: list | None = None, executor=None):
    """Stage every recorder table the URL names, each table its own stage (`order`: the read's place
    among sources; its tables follow in sorted order). `executor` (a Dask cluster's): the tables are
    staged by its workers, each on its own connection; the table states are saved here."""
    t0 = time.perf_counter()
    order = list(order) if order is not None else [time.time_ns(), 0]
    engine = engine_for(url)
    lock = threading.Lock()
    try:
        dbs = databases(engine, wanted_databases(url))
        tables, skipped_tables = discover(engine, dbs)
        marks = load_marks(root)
        keys: set = set()

        def done(t: SourceTable, committed: list, state: dict) -> None:
            with lock:
                keys.update(committed)
                marks[t.name] = state
                save_marks(root, marks)

        def one(k: int, t: SourceTable) -> int:
            committed, n, state = stage_table(engine, url, pending, f"{stage_id}t{k:05d}", seq_base, k, t,
                                              marks.get(t.name, {}), order, progress)
            done(t, committed, state)
            return n

        if executor is not None:
            futures = {executor.submit(stage_table_task, url, str(root), f"{stage_id}t{k:05d}", seq_base, k, t,
                                       marks.get(t.name, {}), order): t for k, t in enumerate(tables)}
            rows_in = 0
            for f in as_completed(futures):
                committed, n, state = f.result()
                done(futures[f], committed, state)
                rows_in += n
                if progress:
                    progress({"rows": rows_in})
        else:
            with ThreadPoolExecutor(READERS) as pool:
                rows_in = sum(pool.map(one, range(len(tables)), tables))
    finally:
        engine.dispose()
    skipped = Skipped()
    for name, reason in skipped_tables:
        skipped.add(name, reason)
    record_skipped(root, stage_id, masked(url), skipped)
    return StageResult(masked(url), stage_id, sorted(keys, key=staging.key_label), rows_in, 0,
                       time.perf_counter() - t0,
                       {"databases": dbs, "tables": {db: sum(t.db == db for t in tables) for db in dbs},
                        "skipped": skipped.rows()})
