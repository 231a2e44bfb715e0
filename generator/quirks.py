"""Real-world recorder defects, injected into a simulated day with exact ground truth.

Pure: (DaySnapshots, a plan, an RNG) -> DaySnapshots changed in place + QuirkLog. Tables that get
feed holes are kept apart from tables that get row defects, so every hole's bounds stay exactly what
the log says after ingest repairs or quarantines the defective rows.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from generator.market import OPEN_S, take
from generator.snapshots import DaySnapshots, Rows
from ingest.recorder_format import EPOCH_1970_IST, OPTION_COLUMN_NAMES

CLOSE_S = 15 * 3600 + 30 * 60
QUIRK_KEYS = ("ts_1970", "duplicate_seconds", "volume_resets", "zero_price", "empty_depth_levels",
              "malformed_rows", "preopen_rows", "postclose_rows", "interleaved_expiries")


@dataclass
class DayPlan:
    """Which archive-level events fall on this day (chosen by the driver from the day's position)."""

    partial_day: bool = False
    missing_day: bool = False


@dataclass
class QuirkLog:
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in QUIRK_KEYS})
    rows: dict[str, list] = field(default_factory=dict)
    holes: list[dict] = field(default_factory=list)

    def add(self, kind: str, n: int = 1, **where) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n
        if where:
            self.rows.setdefault(kind, []).append(where)


def wall(day: dt.date, sod: int) -> int:
    return (dt.datetime.combine(day, dt.time()) - dt.datetime(1970, 1, 1)).days * 86400 + sod


def iso(s: int) -> str:
    return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(s))).isoformat(sep=" ")


def _hole(log: QuirkLog, symbol: str, day: dt.date, start: int, end: int, kind: str) -> None:
    log.holes.append({"symbol": symbol, "date": day.isoformat(), "gap_start": iso(start), "gap_end": iso(end),
                      "kind": kind})


def _cut(rows: Rows, keep: np.ndarray) -> Rows:
    return take(rows, keep)


def _holes(snaps: DaySnapshots, tables: list, rng: np.random.Generator, log: QuirkLog, plan: DayPlan) -> None:
    """late_start, intraday and early_end holes on three different tables."""
    day, open_s, close_s = snaps.date, wall(snaps.date, OPEN_S), wall(snaps.date, CLOSE_S)
    kinds = ["late_start", "intraday"] + ([] if plan.partial_day else ["early_end"])
    for kind, t in zip(kinds, tables):
        ts = t.rows["timestamp"]
        if kind == "late_start":
            keep = ts >= open_s + int(rng.integers(150, 600))
            t.rows = _cut(t.rows, keep)
            _hole(log, t.table, day, open_s, int(t.rows["timestamp"][0]), kind)
        elif kind == "intraday":
            # on a partial day the hole must end before the recorder stops (13:00 at the earliest)
            a = open_s + int(rng.integers(3600, 10800 if plan.partial_day else 18000))
            keep = (ts < a) | (ts > a + int(rng.integers(120, 900)))
            t.rows = _cut(t.rows, keep)
            ts2 = t.rows["timestamp"]
            j = int(np.searchsorted(ts2, a))
            _hole(log, t.table, day, int(ts2[j - 1]), int(ts2[j]), kind)
        else:
            keep = ts <= close_s - int(rng.integers(300, 1800))
            t.rows = _cut(t.rows, keep)
            _hole(log, t.table, day, int(t.rows["timestamp"][-1]), close_s, kind)


def _partial_day(snaps: DaySnapshots, rng: np.random.Generator, log: QuirkLog) -> None:
    """The recorder stopped for the whole underlying early in the afternoon."""
    stop = wall(snaps.date, 13 * 3600 + int(rng.integers(0, 3600)))
    close_s = wall(snaps.date, CLOSE_S)
    snaps.index_rows = _cut(snaps.index_rows, snaps.index_rows["timestamp"] <= stop)
    _hole(log, snaps.index_table, snaps.date, int(snaps.index_rows["timestamp"][-1]), close_s, "partial_day")
    for t in [*snaps.futures, *snaps.options]:
        t.rows = _cut(t.rows, t.rows["timestamp"] <= stop)
        _hole(log, t.table, snaps.date, int(t.rows["timestamp"][-1]), close_s, "partial_day")
    for t in snaps.stocks:     # the stocks stop too; the gaps table does not cover stocks, so no hole is logged
        t.rows = _cut(t.rows, t.rows["timestamp"] <= stop)


def _pick(rows: Rows, rng: np.random.Generator, n: int, where: np.ndarray | None = None) -> np.ndarray:
    """n distinct row indexes away from the first/last rows (optionally among `where`)."""
    m = len(rows["timestamp"])
    cand = np.arange(10, m - 10) if where is None else np.flatnonzero(where[10:m - 10]) + 10
    return np.sort(rng.choice(cand, size=min(n, len(cand)), replace=False))


def _ts_1970(t, rng: np.random.Generator, log: QuirkLog, repairable: bool) -> None:
    """One row's timestamp becomes '1970-01-01 05:30:00'. Repairable when the row had a trade in its
    own second (lastTradeTime == timestamp): ingest can put it back; else its lastTradeTime second
    is held by the earlier trade row and ingest must quarantine it."""
    r = t.rows
    own_trade = r["lastTradeTime"] == r["timestamp"]
    occupied = np.isin(r["lastTradeTime"], r["timestamp"]) & ~own_trade & (r["lastTradeTime"] > 0)
    idx = _pick(r, rng, 1, own_trade if repairable else occupied)
    if not len(idx):
        return
    i = int(idx[0])
    log.add("ts_1970", table=t.table, true_ts=iso(r["timestamp"][i]), last_trade_ts=iso(r["lastTradeTime"][i]),
            repairable=repairable)
    r["timestamp"][i] = EPOCH_1970_IST


def _duplicates(t, rng: np.random.Generator, log: QuirkLog, n: int) -> None:
    """A stale version stays at the row's place, the true row is appended at the end of the day's rows
    (a later statement): REPLACE semantics keep the true one."""
    r = t.rows
    idx = _pick(r, rng, n, r["timestamp"] > EPOCH_1970_IST)
    true_rows = {c: v[idx].copy() for c, v in r.items()}
    r["price"][idx] += 5
    r["bp0"][idx] = np.where(r["bp0"][idx] > 0, r["bp0"][idx] + 5, 0)
    t.rows = {c: np.concatenate([v, true_rows[c]]) for c, v in r.items()}
    for i in idx:
        log.add("duplicate_seconds", table=t.table, ts=iso(r["timestamp"][i]))


def _volume_reset(t, rng: np.random.Generator, log: QuirkLog) -> None:
    r = t.rows
    i = int(_pick(r, rng, 1)[0])
    r["volume"][i:] -= r["volume"][i - 1]
    log.add("volume_resets", table=t.table, ts=iso(r["timestamp"][i]))


def _zero_prices(t, rng: np.random.Generator, log: QuirkLog, n: int) -> None:
    r = t.rows
    for i in _pick(r, rng, n, (r["price"] > 0) & (r["timestamp"] > EPOCH_1970_IST)):
        r["price"][i] = 0
        log.add("zero_price", table=t.table, ts=iso(r["timestamp"][i]))


def _outside_session(t, rng: np.random.Generator, log: QuirkLog, day: dt.date, pre: bool) -> None:
    """Recorder artefacts: option rows stamped before 09:15 or after 15:30 (copies of a real row)."""
    n = int(rng.integers(2, 6))
    lo, hi = (9 * 3600, OPEN_S - 1) if pre else (CLOSE_S + 1, 15 * 3600 + 45 * 60)
    secs = np.sort(rng.choice(np.arange(lo, hi + 1), size=n, replace=False))
    src = 0 if pre else len(t.rows["timestamp"]) - 1
    extra = {c: np.repeat(v[src:src + 1], n) for c, v in t.rows.items()}
    extra["timestamp"] = np.array([wall(day, int(s)) for s in secs], np.int64)
    extra["lastTradeTime"] = np.minimum(extra["lastTradeTime"], extra["timestamp"])
    t.rows = {c: (np.concatenate([extra[c], v]) if pre else np.concatenate([v, extra[c]])) for c, v in t.rows.items()}
    log.add("preopen_rows" if pre else "postclose_rows", n, table=t.table, rows=n)


def empty_depth_levels(rows: Rows) -> int:
    """Depth levels stored as 0 by the recorder (price 0) over both sides."""
    return int(sum(int((rows[f"{s}p{k}"] == 0).sum()) for s in ("b", "s") for k in range(5)))


def inject(snaps: DaySnapshots, rng: np.random.Generator, plan: DayPlan, used_1970: set[str]) -> QuirkLog:
    """Apply this day's quirks. `used_1970`: tables that already have their one 1970 row (a
    MariaDB table keeps at most one, its UNIQUE(timestamp) would collapse a second)."""
    log = QuirkLog()
    if plan.missing_day:
        open_s, close_s = wall(snaps.date, OPEN_S), wall(snaps.date, CLOSE_S)
        empty = {c: np.zeros(0, np.int64) for c in snaps.index_rows}
        snaps.index_rows = empty
        snaps.futures, snaps.options, snaps.stocks = [], [], []
        _hole(log, snaps.index_table, snaps.date, open_s, close_s, "missing_day")
        return log
    order = rng.permutation(len(snaps.options))
    tables = [snaps.options[i] for i in order]
    hole_tables, row_tables = tables[:3], tables[3:]
    _holes(snaps, hole_tables, rng, log, plan)
    if plan.partial_day:       # before the row defects, so none of them is cut away afterwards
        _partial_day(snaps, rng, log)
    fresh = [t for t in row_tables if t.table not in used_1970]
    for t, repairable in zip(fresh[:2], (True, False)):
        _ts_1970(t, rng, log, repairable)
        used_1970.add(t.table)
    if len(row_tables) > 3:
        _duplicates(row_tables[2], rng, log, 3)
        _volume_reset(row_tables[3], rng, log)
        _zero_prices(row_tables[-1], rng, log, 3)
        _outside_session(row_tables[-2], rng, log, snaps.date, pre=True)
        _outside_session(row_tables[-3], rng, log, snaps.date, pre=False)
    by_key = {}
    for t in snaps.options:
        by_key.setdefault((t.contract.strike, t.contract.opt_type), []).append(t.table)
    pairs = [v for v in by_key.values() if len(v) == 2]
    if pairs:
        snaps.interleave.append(tuple(pairs[int(rng.integers(0, len(pairs)))]))
    log.counts["empty_depth_levels"] = sum(empty_depth_levels(t.rows) for t in snaps.options)
    return log


assert OPTION_COLUMN_NAMES[0] == "timestamp"
