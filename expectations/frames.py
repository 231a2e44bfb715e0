"""Validation frames: a stored partition plus the derived columns its expectations read.

Great Expectations validates columns; checks such as "ts strictly increasing per contract" or
"inside today's session" need context (the row before, the calendar), so they are computed here
as plain columns. Pure functions: Arrow table in, pandas frame out.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.calendar import session_segments
from warehouse.clock import IST

TICK = 0.05


def on_tick_grid(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """True where the price is a whole number of 0.05 ticks; None where the price is null."""
    x = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    ticks = x / TICK
    ok = np.abs(ticks - np.round(ticks)) < 1e-6
    return np.where(np.isnan(x), None, ok)


def ts_step_seconds(keys: pa.ChunkedArray | pa.Array | None, ts: pa.ChunkedArray) -> np.ndarray:
    """Seconds since the previous row of the same contract, in stored order (NaN on a first row)."""
    t = pc.cast(ts, pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64) / 1e6
    if keys is None:
        order = np.arange(len(t))
        group = np.zeros(len(t), dtype=np.int64)
    else:
        codes = pc.dictionary_encode(pc.fill_null(keys, "")).combine_chunks().indices
        group = codes.to_numpy(zero_copy_only=False).astype(np.int64)
        order = np.argsort(group, kind="stable")
    step = np.full(len(t), np.nan)
    if len(t) > 1:
        ts_sorted, g_sorted = t[order], group[order]
        same = g_sorted[1:] == g_sorted[:-1]
        step[order[1:][same]] = (ts_sorted[1:] - ts_sorted[:-1])[same]
    return step


def in_session(ts: pa.ChunkedArray, day: dt.date, session: pa.ChunkedArray | None = None) -> np.ndarray:
    """True where the stamp falls inside one of the day's trading segments (calendar table). With
    a `session` column (index, futures, stocks keep pre-open and post-close rows, labelled): True
    where the label agrees with the stamp ('regular' exactly for the rows inside)."""
    t = pc.cast(ts, pa.int64()).to_numpy(zero_copy_only=False)
    ok = np.zeros(len(t), dtype=bool)
    for seg in session_segments(day):
        lo = int(dt.datetime.combine(day, seg.start, IST).timestamp() * 1_000_000)
        hi = int(dt.datetime.combine(day, seg.end, IST).timestamp() * 1_000_000)
        ok |= (t >= lo) & (t <= hi)
    if session is not None:
        return ok == pc.fill_null(pc.equal(session, "regular"), False).to_numpy(zero_copy_only=False)
    return ok


def _session(table: pa.Table) -> pa.ChunkedArray | None:
    return table["session"] if "session" in table.column_names else None


def _frame(table: pa.Table, derived: dict[str, np.ndarray]) -> pd.DataFrame:
    df = table.to_pandas()
    for name, values in derived.items():
        df[name] = values
    return df


def quote_frame(table: pa.Table, day: dt.date, key: str | None) -> pd.DataFrame:
    """Option or futures ticks (key = the contract column) with grid, order and session checks."""
    keys = table[key] if key else None
    return _frame(table, {
        "price_on_tick_grid": on_tick_grid(table["price"]),
        "bid_on_tick_grid": on_tick_grid(table["bid_px0"]),
        "ask_on_tick_grid": on_tick_grid(table["ask_px0"]),
        "ts_step_s": ts_step_seconds(keys, table["ts"]),
        "in_session": in_session(table["ts"], day, _session(table)),
    })


def spot_frame(table: pa.Table, day: dt.date) -> pd.DataFrame:
    """Index ticks: the index has 0.01 precision, so no 0.05 grid check."""
    return _frame(table, {"ts_step_s": ts_step_seconds(None, table["ts"]),
                          "in_session": in_session(table["ts"], day, _session(table))})


def crypto_frame(table: pa.Table, day: dt.date) -> pd.DataFrame:
    """Crypto trades trade around the clock; several trades may share a microsecond."""
    return _frame(table, {"ts_step_s": ts_step_seconds(None, table["ts"])})


def features_frame(table: pa.Table, day: dt.date) -> pd.DataFrame:
    return _frame(table, {"ts_step_s": ts_step_seconds(table["symbol"], table["ts"]),
                          "in_session": in_session(table["ts"], day)})


def plain_frame(table: pa.Table, day: dt.date | None = None) -> pd.DataFrame:
    return table.to_pandas()


def ingest_runs_frame(table: pa.Table, day: dt.date | None = None) -> pd.DataFrame:
    """Adds `accounted` = written + deduped + quarantined, which must equal `source_rows`."""
    accounted = pc.add(pc.add(table["written"], table["deduped"]), table["quarantined"])
    return _frame(table, {"accounted": accounted.to_numpy(zero_copy_only=False)})


def trades_frame(table: pa.Table, day: dt.date | None = None) -> pd.DataFrame:
    """Adds `net_residual` = |gross - fees - net| and the exit-after-entry step in seconds."""
    num = {c: table[c].to_numpy(zero_copy_only=False) for c in ("gross_pnl", "fees", "net_pnl")}
    hold = pc.subtract(pc.cast(table["exit_ts"], pa.int64()), pc.cast(table["entry_ts"], pa.int64()))
    return _frame(table, {"net_residual": np.abs(num["gross_pnl"] - num["fees"] - num["net_pnl"]),
                          "exit_after_entry_s": hold.to_numpy(zero_copy_only=False) / 1e6})
