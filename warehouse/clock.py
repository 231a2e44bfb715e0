"""The clock every layer shares: NSE time is IST (UTC + 5:30, no daylight saving).

Inside the kernels and transforms a moment is a *wall second*: naive IST wall-clock seconds since
1970-01-01 00:00 (what the recorder's DATETIME columns hold). In the warehouse it is a
timestamp[us, tz=Asia/Kolkata] (a UTC instant). These functions are the only conversions.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

IST = ZoneInfo("Asia/Kolkata")
IST_TS = pa.timestamp("us", tz="Asia/Kolkata")
IST_OFFSET_S = 19800           # IST wall seconds - IST_OFFSET_S = UTC epoch seconds
DAY_S = 86400
EPOCH = dt.datetime(1970, 1, 1)
ORDINAL_1970 = dt.date(1970, 1, 1).toordinal()


def wall_to_ts_us(wall_s: np.ndarray) -> pa.Array:
    """Naive IST wall seconds -> timestamp[us, Asia/Kolkata] (stored as UTC instants)."""
    return pa.array((np.asarray(wall_s, np.int64) - IST_OFFSET_S) * 1_000_000, type=pa.int64()).cast(IST_TS)


def wall_seconds(ts: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """timestamp[us, IST] -> naive IST wall seconds since 1970 (int64)."""
    return ts.cast(pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000 + IST_OFFSET_S


def wall_to_datetime(wall_s: int) -> dt.datetime:
    """One wall second as an aware IST datetime."""
    return (EPOCH + dt.timedelta(seconds=int(wall_s))).replace(tzinfo=IST)


def day_start(day: dt.date) -> int:
    """Wall second of the day's midnight."""
    return (day.toordinal() - ORDINAL_1970) * DAY_S


def second_of_day(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def date_of(wall_s: int) -> dt.date:
    return dt.date.fromordinal(int(wall_s) // DAY_S + ORDINAL_1970)
