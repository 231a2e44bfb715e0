"""NSE session calendar: trading days, holidays and session segments.

The one source of truth for "is this a trading day" and "when is the market open". Facts live in
`transforms/data/*.csv` (a rule change is a new row, not an `if` here); this module only loads
and answers. Dates after the last listed holiday year are treated as weekday trading days.
"""
from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterator

import numpy as np

from warehouse.clock import IST, day_start, second_of_day

REGULAR_OPEN = dt.time(9, 15)
REGULAR_CLOSE = dt.time(15, 30)
PREOPEN_OPEN = dt.time(9, 0)
PREOPEN_CLOSE = dt.time(9, 8)


@dataclass(frozen=True)
class Segment:
    """One continuous trading window of a day, both ends inclusive (1-second snapshots)."""

    start: dt.time
    end: dt.time
    kind: str = "regular"

    def seconds(self) -> int:
        return _sec(self.end) - _sec(self.start) + 1


_sec = second_of_day


def read_table(name: str) -> list[dict[str, str]]:
    """Rows of a package data table `transforms/data/<name>.csv`."""
    text = resources.files("transforms").joinpath("data", f"{name}.csv").read_text()
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def holidays() -> frozenset[dt.date]:
    """Weekday dates on which the regular F&O session is closed."""
    return frozenset(dt.date.fromisoformat(r["date"]) for r in read_table("trading_holidays"))


@lru_cache(maxsize=1)
def special_sessions() -> dict[dt.date, tuple[Segment, ...]]:
    """Sessions outside the regular calendar (Saturday budget days, DR drills, muhurat)."""
    out: dict[dt.date, list[Segment]] = {}
    for r in read_table("special_sessions"):
        seg = Segment(dt.time.fromisoformat(r["start"]), dt.time.fromisoformat(r["end"]), r["kind"])
        out.setdefault(dt.date.fromisoformat(r["date"]), []).append(seg)
    return {d: tuple(s) for d, s in out.items()}


def session_segments(day: dt.date) -> tuple[Segment, ...]:
    """Trading windows of `day`; empty on a non-trading day. Special sessions replace the regular one."""
    special = special_sessions().get(day)
    if special:
        return special
    if day.weekday() >= 5 or day in holidays():
        return ()
    return (Segment(REGULAR_OPEN, REGULAR_CLOSE),)


def is_trading_day(day: dt.date) -> bool:
    """True when any session trades that day (a muhurat-only day included)."""
    return bool(session_segments(day))


def is_expiry_eligible(day: dt.date) -> bool:
    """True when a normal (non-muhurat) session trades: only such days can carry an expiry."""
    return any(s.kind != "muhurat" for s in session_segments(day))


def trading_days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Trading days in [start, end]."""
    d = start
    while d <= end:
        if is_trading_day(d):
            yield d
        d += dt.timedelta(days=1)


def next_trading_day(day: dt.date) -> dt.date:
    d = day + dt.timedelta(days=1)
    while not is_trading_day(d):
        d += dt.timedelta(days=1)
    return d


def previous_trading_day(day: dt.date) -> dt.date:
    """The trading day before `day` (whatever `day` is)."""
    d = day - dt.timedelta(days=1)
    while not is_trading_day(d):
        d -= dt.timedelta(days=1)
    return d


def previous_expiry_day(day: dt.date) -> dt.date:
    """`day` itself when it can carry an expiry, else the previous such day (the holiday-shift rule)."""
    d = day
    while not is_expiry_eligible(d):
        d -= dt.timedelta(days=1)
    return d


def session_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """First and last second of the day's trading (IST, tz-aware), or None when closed."""
    segs = session_segments(day)
    if not segs:
        return None
    return (dt.datetime.combine(day, segs[0].start, IST), dt.datetime.combine(day, segs[-1].end, IST))


def session_seconds(day: dt.date) -> int:
    """Number of 1-second snapshots in the day's trading segments (22,501 on a regular day)."""
    return sum(s.seconds() for s in session_segments(day))


def segment_bounds(day: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Session segments of the day as wall-clock epoch seconds (naive IST seconds since 1970)."""
    base = day_start(day)
    segs = session_segments(day)
    lo = np.array([base + s.start.hour * 3600 + s.start.minute * 60 + s.start.second for s in segs], np.int64)
    hi = np.array([base + s.end.hour * 3600 + s.end.minute * 60 + s.end.second for s in segs], np.int64)
    return lo, hi


def inside_segments(wall_s: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """True where a wall second lies in one of the segments [lo[k], hi[k]] (segment_bounds): index,
    futures and stock ticks before the open or after the close are stored, but the session grid,
    gaps and coverage are about the session alone."""
    inside = np.zeros(len(wall_s), dtype=bool)
    for a, b in zip(lo, hi):
        inside |= (wall_s >= a) & (wall_s <= b)
    return inside
