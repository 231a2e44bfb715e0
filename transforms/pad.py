"""Padded 1-second grid per contract-day (pure: ticks in, grid out).

Every session second from a contract's first real row of the day to the close gets a row: real
seconds carry the real values (is_pad false, pad_age_s 0); silent seconds carry the last real
values forward (is_pad true, pad_age_s = seconds since that row, vol_delta 0), up to `max_pad_age_s`;
older than that the values are null. Never padded before the first real row.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.calendar import inside_segments, segment_bounds
from transforms.columns import CONTRACT, contract_starts
from transforms.pad_nb import grid_source_rows
from warehouse.clock import wall_seconds, wall_to_ts_us
from warehouse.schema import OPTION_GRID, SPOT_GRID

DEFAULT_MAX_PAD_AGE_S = 300
KEY_COLUMNS = {"options": ["underlying", "expiry", "opt_type", "strike", "symbol", "date"],
               "spot": ["underlying", "date"]}


def padded_grid(ticks: pa.Table, day: dt.date, kind: str = "options",
                max_pad_age_s: int = DEFAULT_MAX_PAD_AGE_S) -> pa.Table:
    """The padded grid of one partition's real rows (sorted as written by ingest)."""
    schema = OPTION_GRID if kind == "options" else SPOT_GRID
    seg_lo, seg_hi = segment_bounds(day)
    ticks, wall = _session_rows(ticks, seg_lo, seg_hi)
    starts = contract_starts(ticks, CONTRACT[kind])
    secs, srcs, keyrows, pads, ages = [], [], [], [], []
    for a, b in zip(starts[:-1], starts[1:]):
        s, src, pad, age = grid_source_rows(wall[a:b], seg_lo, seg_hi, max_pad_age_s)
        secs.append(s)
        srcs.append(np.where(src >= 0, src + a, -1))
        # keys come from the contract's first row, so they are never null
        keyrows.append(np.full(len(s), a, dtype=np.int64))
        pads.append(pad)
        ages.append(age)
    cat = (lambda xs, dt_: np.concatenate(xs) if xs else np.zeros(0, dt_))
    sec, src, keyrow = cat(secs, np.int64), cat(srcs, np.int64), cat(keyrows, np.int64)
    pad, age = cat(pads, np.bool_), cat(ages, np.int32)
    value_idx = pa.array(np.where(src >= 0, src, 0), mask=src < 0)
    cols = {}
    for f in schema:
        if f.name in KEY_COLUMNS[kind]:
            cols[f.name] = ticks[f.name].take(pa.array(keyrow))
        elif f.name == "ts":
            cols[f.name] = wall_to_ts_us(sec)
        elif f.name == "is_pad":
            cols[f.name] = pa.array(pad)
        elif f.name == "pad_age_s":
            cols[f.name] = pa.array(age, pa.int32())
        elif f.name == "vol_delta":
            vd = ticks[f.name].take(value_idx)
            cols[f.name] = pc.if_else(pa.array(pad), pa.scalar(0, pa.int64()), vd)
        else:
            cols[f.name] = ticks[f.name].take(value_idx)
    return pa.table(cols, schema=schema)


def _session_rows(ticks: pa.Table, seg_lo: np.ndarray, seg_hi: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """The rows inside the day's session segments (pre-open and post-close index rows are stored,
    but never start, fill or count towards the session grid), and their wall seconds."""
    wall = wall_seconds(ticks["ts"]) if ticks.num_rows else np.zeros(0, np.int64)
    inside = inside_segments(wall, seg_lo, seg_hi)
    if inside.all():
        return ticks, wall
    return ticks.filter(pa.array(inside)), wall[inside]


def coverage_rows(ticks: pa.Table, day: dt.date, kind: str = "options") -> list[dict]:
    """Real rows / session seconds per contract-day (the coverage table and asset metadata)."""
    from transforms.calendar import session_seconds

    total = session_seconds(day)
    ticks, _ = _session_rows(ticks, *segment_bounds(day))
    starts = contract_starts(ticks, CONTRACT[kind])
    sym = ticks["symbol"] if "symbol" in ticks.column_names else ticks["underlying"]
    out = []
    for a, b in zip(starts[:-1], starts[1:]):
        n = int(b - a)
        out.append({"symbol": sym[int(a)].as_py(), "instrument": "option" if kind == "options" else kind,
                    "real_rows": n, "session_seconds": total, "coverage": n / total if total else 0.0,
                    "first_ts": ticks["ts"][int(a)].as_py(), "last_ts": ticks["ts"][int(b) - 1].as_py()})
    return out
