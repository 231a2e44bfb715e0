"""Assembling partitions: a (kind, underlying, date) key's committed pending inputs, merged with the
rows the warehouse already holds, deduplicated and written; the key's ledger (ingest_runs) and
quarantine rows recomputed; the inputs consumed.

The ledger holds one entry per source and partition, a source being its content (`identity`, see
ingest.staging), so a rerun, a re-ingest or the same file under another path replaces its entry
instead of adding one. Per entry: source_rows == written + deduped + quarantined, and over a
partition sum(written) == the rows stored. To keep that exact when a later source replaces rows of
an earlier one, every stored row remembers its source: a side table of the partition (which
identity, whether it is a placed 1970 row, and where that came from). Re-staging a source first
removes its own stored rows, so it is assembled exactly as on its first ingest (its placed 1970
rows stay placed instead of losing to themselves).

Writes, in an order a crash at any point recovers from (the inputs are consumed last, so the rerun
assembles the same key again from the same inputs): the quarantine file, the data file with its
side table, the ledger file, then the inputs are consumed. Carried-over entries (sources not
re-staged) take `deduped` as the remainder, so it stays exact whichever of those files a crash
left old.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest import retract, staging
from ingest.ledger import dictionary_column, migrate_legacy, part_label, read_with_identity, write_with_identity
from ingest.stage import SEQ_SHIFT
from transforms.columns import CONTRACT
from transforms.dedupe import EXISTING, assemble
from warehouse import schema as S
from warehouse.files import FileLock, crash_point
from warehouse.layout import partition_dir
from warehouse.version import code_version
from warehouse.writer import PartitionManifest, read_manifest, read_partition, read_side, write_partition

SCHEMAS = {"options": S.OPTION_TICKS, "futures": S.FUTURES_TICKS, "spot": S.SPOT_TICKS, "equity": S.EQUITY_TICKS}
ROWS_SIDE = "rows"            # per stored row: identity, repaired, pos, raw
SEQ_MASK = (1 << SEQ_SHIFT) - 1
COUNTS = ("source_rows", "written", "deduped", "quarantined", "repaired")


def ingest_code_version() -> str:
    return code_version("ingest", "transforms", "warehouse")


def _existing(root: Path, kind: str, underlying: str, day: dt.date, drop: set[str],
              owner: str | None = None) -> pa.Table | None:
    """The stored rows of the partition with their helper columns, minus the rows of the sources in
    `drop` (they are being re-staged). Without a side table (a partition written before sources
    were remembered per row) the rows belong to `owner`, the one source the ledger knows for the
    key, else to a pseudo-source, EXISTING, whose rows no ledger entry counts."""
    keys = {"underlying": underlying, "date": day}
    table = read_partition(root, kind, keys)
    if table is None:
        return None
    n = table.num_rows
    table = table.drop_columns([c for c in ("vol_delta",) if c in table.column_names])
    side = read_side(root, kind, keys, ROWS_SIDE)
    if side is None or side.num_rows != n:
        source = dictionary_column([owner or EXISTING], np.zeros(n, np.int32))
        side = pa.table({"identity": source, "repaired": pa.array(np.zeros(n, bool)),
                         "pos": pa.nulls(n, pa.string()), "raw": pa.nulls(n, pa.string())})
    table = (table.append_column("_seq", pa.array(np.full(n, -1, dtype=np.int64)))
             .append_column("_source", side["identity"])
             .append_column("_repaired", side["repaired"])
             .append_column("_pos", side["pos"]).append_column("_raw", side["raw"]))
    if drop:                            # decided per dictionary entry, not per row
        ident = side["identity"].combine_chunks()
        dropped = pc.is_in(ident.dictionary, value_set=pa.array(sorted(drop), pa.string()))
        table = table.filter(pc.invert(pc.take(dropped, ident.indices)))
    return table


def _staged_fragment(frag: pa.Table, identity: str, rank: int) -> pa.Table:
    """A staged fragment's helper columns as assembly wants them: its source's identity, and its
    row ordinals placed after those of every earlier source (rank = place in source order)."""
    n = frag.num_rows
    seq = pc.bit_wise_or(pc.bit_wise_and(frag["_seq"], pa.scalar(SEQ_MASK, pa.int64())),
                         pa.scalar(rank << SEQ_SHIFT, pa.int64()))
    frag = frag.set_column(frag.schema.get_field_index("_seq"), "_seq", seq)
    return frag.set_column(frag.schema.get_field_index("_source"), "_source",
                           dictionary_column([identity], np.zeros(n, np.int32)))


def _key_lock(root: Path, key: staging.PartKey) -> FileLock:
    """One assembly of a key at a time (the CLI and a Dagster run may both try): the ledger
    partition's directory is the lock."""
    d = partition_dir(root, "ingest_runs", {"part": part_label(key)})
    d.mkdir(parents=True, exist_ok=True)
    return FileLock(d)


def finalize_partition(root: Path, key: staging.PartKey) -> list[dict]:
    """Assemble one key's committed pending inputs with the warehouse's rows, write the partition,
    its ledger and quarantine rows, and consume the inputs. Returns the ledger entries of the
    sources assembled now."""
    migrate_legacy(root)
    lock = _key_lock(root, key)
    with lock:
        runs = _finalize(root, key)
    with contextlib.suppress(OSError):          # nothing was pending: no empty ledger directory left
        lock.path.rmdir()
    return runs


def _finalize(root: Path, key: staging.PartKey) -> list[dict]:
    pk = staging.PendingKey(staging.pending_root(root), key)
    if not pk.stages:
        pk.consume()                                  # superseded leftovers only
        return []
    started = dt.datetime.now(dt.timezone.utc)
    label = part_label(key)
    staged = {c["identity"]: c for c in pk.stages.values()}          # the newest stage per source
    old_ledger, old_ids = read_with_identity(root, "ingest_runs", label)
    old = {i: r for i, r in zip(old_ids, old_ledger.to_pylist() if old_ledger is not None else []) if i}
    gone = [x for _, items in pk.retractions() for x in items]
    result = _assemble_rows(root, key, pk, set(staged), next(iter(old)) if len(old) == 1 else None, gone)
    quarantine, q_ids = _quarantine_rows(root, label, pk, staged, old, result.quarantine if result else [], gone)
    entries = _ledger(key, staged, old, result, q_ids, started, gone)
    order = sorted(entries, key=lambda i: (entries[i]["source"], entries[i]["run_id"], i))
    run_ids = ",".join(sorted({c["run_id"] for c in staged.values()}))
    # writes in the order a crash at any point recovers from (module docstring); inputs consumed last
    if quarantine is not None:
        place = {i: k for k, i in enumerate(order)}
        ordering = sorted(range(quarantine.num_rows), key=lambda k: (place.get(q_ids[k], -1), k))
        write_with_identity(root, "quarantine", label, quarantine.take(pa.array(ordering, pa.int64())),
                            [q_ids[k] for k in ordering], run_ids)
        crash_point("finalize-quarantine-written")
    if result is not None:
        _write_rows(root, key, result, [entries[i] for i in order], order, run_ids)
        crash_point("finalize-data-written")
    ledger = pa.Table.from_pylist([entries[i] for i in order], schema=S.INGEST_RUNS)
    write_with_identity(root, "ingest_runs", label, ledger, order, run_ids)
    crash_point("finalize-ledger-written")
    pk.consume()
    crash_point("finalize-consumed")
    return [entries[i] for i in order if i in staged or i.removeprefix(retract.PREFIX) in staged]


def _assemble_rows(root: Path, key: staging.PartKey, pk: staging.PendingKey, restaged: set[str],
                   owner: str | None, gone: list[dict]):
    """The staged fragments (newest stage per source, ranked in source order) with the stored rows of
    the other sources, without the rows the sources no longer hold (`gone`), assembled; None for an
    unplaced key or one with no rows at all."""
    kind, underlying, day = key
    frags = pk.fragments()
    if day is None or not (frags or partition_dir(root, kind, {"underlying": underlying, "date": day}).exists()):
        return None
    ranks = {sid: r for r, sid in enumerate(pk.stages)}
    inputs = [_staged_fragment(t, pk.stages[sid]["identity"], ranks[sid]) for sid, t in frags if t.num_rows]
    existing = _existing(root, kind, underlying, day, restaged, owner)
    if existing is not None and existing.num_rows:
        inputs.append(existing)
    inputs = [retract.without(t, gone, "_source", "_pos") for t in inputs]
    return assemble(inputs, S.SORT_KEYS[kind], CONTRACT[kind], with_volume=kind != "spot") if inputs else None


def _quarantine_rows(root: Path, label: str, pk: staging.PendingKey, staged: dict[str, dict], old: dict[str, dict],
                     occupied: list[dict], gone: list[dict]) -> tuple[pa.Table | None, list[str]]:
    """The key's quarantine rows and each one's source identity: the other sources' rows as stored
    (less the rows those sources no longer hold), the re-staged sources' rows anew, and placed 1970
    rows that lost their second now (a carried-over source's only once: a rerun after a crash finds
    it again)."""
    old_q, old_q_ids = read_with_identity(root, "quarantine", label)
    parts, ids = [], []
    seen: set[tuple] = set()
    if old_q is not None:
        named = retract.named(old_q.append_column("_source", pa.array(old_q_ids, pa.string())), gone,
                              "_source", "position")
        named = named.to_pylist() if named is not None else [False] * old_q.num_rows
        keep = [k for k, i in enumerate(old_q_ids) if i not in staged and not named[k]]
        kept = old_q.take(pa.array(keep, pa.int64())) if len(keep) < old_q.num_rows else old_q
        parts.append(kept.select(S.QUARANTINE.names))
        ids += [old_q_ids[k] for k in keep]
        seen = {(old_q_ids[k], p, r) for k, p, r in zip(keep, kept["position"].to_pylist(), kept["reason"].to_pylist())}
    for sid, t in pk.quarantine():
        c = pk.stages[sid]
        t = retract.without(t.append_column("_source", pa.array([c["identity"]] * t.num_rows, pa.string())),
                            gone, "_source", "position")
        parts.append(t.append_column("run_id", pa.array([c["run_id"]] * t.num_rows, pa.string()))
                     .select(S.QUARANTINE.names))
        ids += [c["identity"]] * t.num_rows
    lost = [r for r in occupied if r["source"] in staged or (r["source"], r["position"], r["reason"]) not in seen]
    if lost:
        where = {**{i: (e["source"], e["run_id"]) for i, e in old.items()},
                 **{i: (c["source"], c["run_id"]) for i, c in staged.items()}}
        parts.append(pa.Table.from_pylist([{"run_id": where.get(r["source"], (r["source"], ""))[1],
                                            "source": where.get(r["source"], (r["source"], ""))[0],
                                            "position": r["position"], "reason": r["reason"], "raw": r["raw"]}
                                           for r in lost], schema=S.QUARANTINE))
        ids += [r["source"] for r in lost]
    return (pa.concat_tables(parts, promote_options="default") if parts else None), ids


def _ledger(key: staging.PartKey, staged: dict[str, dict], old: dict[str, dict], result, q_ids: list[str],
            started: dt.datetime, gone: list[dict]) -> dict[str, dict]:
    """One entry per source of the key (by identity). Re-staged sources are counted anew and must
    reconcile; carried-over ones keep their source_rows, count their stored rows and quarantine rows,
    and take `deduped` as the remainder (rows a later source replaced). A row retracted before it was
    ever stored (its source is assembled now too) counts as deduped as well (ingest.retract)."""
    counts = {s: vars(c) for s, c in result.counts.items()} if result is not None else {}
    quarantined: dict[str, int] = {}
    for i in q_ids:
        quarantined[i] = quarantined.get(i, 0) + 1
    finished, version = dt.datetime.now(dt.timezone.utc), ingest_code_version()
    entries: dict[str, dict] = {}
    for identity, c in staged.items():
        if c.get("retracted"):
            n = c["retracted"]
            entries[retract.PREFIX + identity] = {**retract.correction(c, n), "target": key[0],
                                                  "partition": staging.key_label(key), "started_at": started,
                                                  "finished_at": finished, "code_version": version}
        if not c["staged"] + c["rejected"] and identity not in old:
            continue                             # only retractions here
        got = counts.get(identity, {})
        e = {"run_id": c["run_id"], "source": c["source"], "target": key[0], "partition": staging.key_label(key),
             "source_rows": c["staged"] + c["rejected"], "written": got.get("written", 0),
             "deduped": got.get("deduped", 0) + sum(x.get("identity") == identity for x in gone),
             "quarantined": quarantined.get(identity, 0),
             "repaired": got.get("repaired", 0), "started_at": started, "finished_at": finished,
             "code_version": version}
        if e["source_rows"] != e["written"] + e["deduped"] + e["quarantined"]:
            raise RuntimeError(f"{c['source']} in {part_label(key)}: counts do not reconcile: {e}")
        entries[identity] = e
    unattributed = EXISTING in counts            # rows of a partition written before rows had sources
    for identity, e in old.items():
        if identity in entries or identity.startswith(retract.PREFIX):
            entries.setdefault(identity, e)      # a correction stays as it was made
            continue
        got = counts.get(identity) or (e if result is None or unattributed else {"written": 0, "repaired": 0})
        e = {**e, "written": got["written"], "repaired": got["repaired"], "quarantined": quarantined.get(identity, 0)}
        e["deduped"] = e["source_rows"] - e["written"] - e["quarantined"]
        if e["deduped"] < 0:
            raise RuntimeError(f"{e['source']} in {part_label(key)}: stored rows exceed the ledger: {e}")
        entries[identity] = e
    return entries


def _write_rows(root: Path, key: staging.PartKey, result, entries: list[dict], identities: list[str],
                run_ids: str) -> None:
    kind, underlying, day = key
    keys = {"underlying": underlying, "date": day}
    prov = result.provenance
    side = pa.table({"identity": prov["_source"].combine_chunks().cast(pa.dictionary(pa.int32(), pa.string())),
                     "repaired": prov["_repaired"], "pos": prov["_pos"].cast(pa.string()),
                     "raw": prov["_raw"].cast(pa.string())})
    sources = [{"source": e["source"], "identity": i, "run_id": e["run_id"], "source_rows": e["source_rows"],
                "written": e["written"], "deduped": e["deduped"], "quarantined": e["quarantined"]}
               for e, i in zip(entries, identities)]
    manifest = PartitionManifest(table=kind, partition={"underlying": underlying, "date": day.isoformat()},
                                 rows=0, run_id=run_ids, code_version=ingest_code_version(), sources=sources)
    old = read_manifest(partition_dir(root, kind, keys)) or {}
    if any(s.get("source") == EXISTING for s in old.get("sources", [])):
        manifest.extra = {"unattributed_rows": True}
    write_partition(root, kind, keys, result.table, SCHEMAS[kind], manifest, side={ROWS_SIDE: side})


def record(root: Path, key: staging.PartKey, runs: list[dict], quarantine: list, started: dt.datetime) -> None:
    """Ledger entries and quarantine rows of a source written in one step without the pending area
    (crypto trades): each replaces the entries of the same source in the key's files, so
    re-ingesting a file does not add a second entry."""
    finished = dt.datetime.now(dt.timezone.utc)
    version = ingest_code_version()
    label = part_label(key)
    sources = {r["source"] for r in runs}
    migrate_legacy(root)
    with _key_lock(root, key):
        old, old_ids = read_with_identity(root, "ingest_runs", label)
        keep = [r for r in (old.to_pylist() if old is not None else []) if r["source"] not in sources]
        rows = keep + [{**r, "started_at": started, "finished_at": finished, "code_version": version} for r in runs]
        rows.sort(key=lambda r: (r["source"], r["partition"]))
        run_id = runs[0]["run_id"] if runs else ""
        write_with_identity(root, "ingest_runs", label, pa.Table.from_pylist(rows, schema=S.INGEST_RUNS),
                            [f"path:{r['source']}" for r in rows], run_id)
        oq, _ = read_with_identity(root, "quarantine", label)
        parts = [oq.filter(pc.invert(pc.is_in(oq["source"], pa.array(sorted(sources), pa.string()))))] \
            if oq is not None else []
        for t in quarantine:
            if t is not None and t.num_rows:
                parts.append(t.append_column("run_id", pa.array([run_id] * t.num_rows, pa.string()))
                             .select(S.QUARANTINE.names))
        if parts:
            qt = pa.concat_tables(parts, promote_options="default")
            write_with_identity(root, "quarantine", label, qt, [f"path:{s}" for s in qt["source"].to_pylist()],
                                run_id)
