"""Assemble one partition from its fragments: place 1970 rows, dedupe last-row-wins, sort, vol_delta.

Pure: Arrow tables in, Arrow table + per-source counts + quarantine rows out. Fragments carry three
helper columns: `_seq` (int64, source order: a later row wins, like the recorder's REPLACE),
`_source` (string, the source the row came from), `_repaired` (bool, a 1970 row placed at its
lastTradeTime) and, for repaired rows only, `_pos`/`_raw` (where it came from, for quarantine). Rows already in the warehouse come in with negative `_seq`, so a re-ingest replaces
them and an overlapping dump adds to them (the union).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.volume import vol_delta

# a 1970 row placed at its lastTradeTime whose second a real row already holds
R_1970_OCCUPIED = "ts 1970-01-01 05:30: lastTradeTime second already recorded, cannot place"
HELPERS = ("_seq", "_source", "_repaired", "_pos", "_raw")
EXISTING = "(already in warehouse)"


@dataclass
class SourceCounts:
    written: int = 0
    deduped: int = 0
    quarantined: int = 0
    repaired: int = 0


@dataclass
class Assembled:
    table: pa.Table
    counts: dict[str, SourceCounts] = field(default_factory=dict)
    quarantine: list[dict] = field(default_factory=list)  # {source, position, reason, raw}
    provenance: pa.Table | None = None    # the helper columns of the kept rows, aligned with `table`


def _int_key(col: pa.ChunkedArray) -> np.ndarray:
    """A sortable int64 view of a key column (string, date, timestamp or integer)."""
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return _string_rank(col)
    if pa.types.is_date32(col.type):
        col = col.cast(pa.int32())
    return col.cast(pa.int64()).to_numpy(zero_copy_only=False)


def _string_rank(col: pa.ChunkedArray) -> np.ndarray:
    """Dense lexical rank of a string column (Arrow C++; a Python-level unique is 10x slower)."""
    return pc.rank(col, sort_keys="ascending", tiebreaker="dense").to_numpy(zero_copy_only=False).astype(np.int64)


def assemble(fragments: list[pa.Table], keys: list[str], contract_keys: list[str],
             with_volume: bool) -> Assembled:
    """Merge fragments of one partition into its final rows.

    keys: full sort/dedupe key (e.g. expiry, opt_type, strike, ts); contract_keys: the prefix that
    identifies one instrument (for 1970 placement and vol_delta resets at instrument boundaries).
    """
    # chunked, not combined: combining would copy every column once more before the final gather
    data = pa.concat_tables(fragments, promote_options="default")
    n = data.num_rows
    seq = data["_seq"].to_numpy()
    src_enc = pc.dictionary_encode(data["_source"]).combine_chunks()
    source_names = src_enc.dictionary.to_pylist()
    source = src_enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)   # codes, not 1M Python strings
    repaired = data["_repaired"].to_numpy(zero_copy_only=False).astype(bool)
    cols = [_int_key(data[k]) for k in keys]
    order = np.lexsort([seq, repaired.astype(np.int8) * -1] + cols[::-1]) if n else np.arange(0)
    # within one (instrument, second): real rows sort after repaired ones, then by source order
    sk = [c[order] for c in cols]
    same_as_next = np.ones(max(n - 1, 0), dtype=bool)
    for c in sk:
        same_as_next &= c[1:] == c[:-1]
    last_of_group = np.ones(n, dtype=bool)
    last_of_group[:-1] = ~same_as_next
    rep_sorted = repaired[order]
    group_has_real = np.zeros(n, dtype=bool)
    # a repaired row loses to any real row of the same second: it cannot be placed there
    gid = np.cumsum(np.r_[True, ~same_as_next]) - 1 if n else np.zeros(0, dtype=np.int64)
    real_per_group = np.bincount(gid, weights=~rep_sorted, minlength=gid.max() + 1 if n else 0)
    group_has_real = real_per_group[gid] > 0 if n else group_has_real
    occupied = rep_sorted & group_has_real
    survivors = last_of_group & ~occupied
    deduped = ~last_of_group & ~occupied
    out = Assembled(table=pa.table({}))
    src_sorted = source[order]
    for code in np.unique(src_sorted) if n else []:
        m = src_sorted == code
        out.counts[source_names[code]] = SourceCounts(
            written=int((survivors & m).sum()), deduped=int((deduped & m).sum()),
            quarantined=int((occupied & m).sum()), repaired=int((survivors & m & rep_sorted).sum()))
    lost = order[occupied]
    if len(lost):
        pos, raw = data["_pos"].take(pa.array(lost)).to_pylist(), data["_raw"].take(pa.array(lost)).to_pylist()
        out.quarantine = [{"source": source_names[source[i]], "position": p or "", "reason": R_1970_OCCUPIED,
                           "raw": r or ""} for i, p, r in zip(lost, pos, raw)]
    final = gather(data, order[survivors])
    if with_volume:
        final = _add_vol_delta(final, [c[survivors] for c in sk[: len(contract_keys)]])
    out.provenance = final.select([h for h in HELPERS if h in final.column_names and h != "_seq"])
    out.table = final.drop_columns([h for h in HELPERS if h in final.column_names])
    return out


def gather(table: pa.Table, idx: np.ndarray) -> pa.Table:
    """table.take(idx), with runs of consecutive indices as zero-copy slices: a dump lists each
    contract's seconds in order, so the sorted partition is a few hundred runs, not a million picks."""
    if not len(idx):
        return table.slice(0, 0)
    starts = np.r_[0, np.flatnonzero(np.diff(idx) != 1) + 1]
    if len(starts) * 64 > len(idx):                    # fragmented: one gather is cheaper
        return table.take(pa.array(idx))
    ends = np.r_[starts[1:], len(idx)]
    return pa.concat_tables([table.slice(int(idx[a]), int(b - a)) for a, b in zip(starts, ends)])


def _add_vol_delta(table: pa.Table, contract_cols: list[np.ndarray]) -> pa.Table:
    n = table.num_rows
    start = np.ones(n, dtype=bool)
    if n > 1:
        same = np.ones(n - 1, dtype=bool)
        for c in contract_cols:
            same &= c[1:] == c[:-1]
        start[1:] = ~same
    vol = table["volume"]
    valid = vol.is_valid().to_numpy(zero_copy_only=False)
    v = vol.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    delta, ok = vol_delta(v, valid, start) if n else (v, valid)
    arr = pa.array(delta, type=pa.int64(), mask=~ok)
    if "vol_delta" in table.column_names:
        return table.set_column(table.column_names.index("vol_delta"), "vol_delta", arr)
    return table.append_column("vol_delta", arr)
