"""Hand-built recorder rows for tests (the recorder's int64 form, see ingest.recorder_format)."""
from __future__ import annotations

import datetime as dt

import numpy as np

from ingest.recorder_format import OPTION_COLUMN_NAMES


def wall(day: dt.date, hhmmss: str) -> int:
    """Recorder seconds of a naive IST wall time."""
    t = dt.time.fromisoformat(hhmmss)
    return int((dt.datetime.combine(day, t) - dt.datetime(1970, 1, 1)).total_seconds())


def option_rows(ts: list[int], price: list[int], volume: list[int], last_trade: list[int] | None = None) -> dict:
    """Rows with the given timestamps, LTP (paise) and cumulative volume; a simple 5-level book."""
    n = len(ts)
    rows = {c: np.zeros(n, dtype=np.int64) for c in OPTION_COLUMN_NAMES}
    rows["timestamp"] = np.array(ts, dtype=np.int64)
    rows["price"] = np.array(price, dtype=np.int64)
    rows["volume"] = np.array(volume, dtype=np.int64)
    rows["lastTradeTime"] = np.array(last_trade if last_trade is not None else ts, dtype=np.int64)
    rows["qty"][:] = 15
    for k in range(5):
        rows[f"bp{k}"] = rows["price"] - 5 * (k + 1)
        rows[f"sp{k}"] = rows["price"] + 5 * (k + 1)
        rows[f"bq{k}"][:] = 150
        rows[f"sq{k}"][:] = 150
        rows[f"bo{k}"][:] = 3
        rows[f"so{k}"][:] = 3
    return rows
