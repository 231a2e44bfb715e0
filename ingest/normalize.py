"""Recorder rows -> canonical warehouse columns (pure; arrays in, Arrow out).

Steps for one batch of one source table (see PRODUCT.md "Canonical option tick columns"):
- timestamps: naive IST wall seconds -> tz-aware µs; the trading date from the wall time;
- a NULL timestamp, a date without a session -> quarantined with a reason; a second outside the
  session: an option row is quarantined (options have no pre-open), an index, futures or stock row
  is kept and labelled with its session segment (index pre-open, post-close: real prices);
- a '1970-01-01 05:30:00' row is kept aside with its candidate second (its lastTradeTime); whether
  that second is free is only known once the whole partition is assembled (transforms.dedupe);
- zero prices and empty depth levels -> null; the recorder's `close` becomes `prev_close`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ingest.normalize_nb import recorder_values
from ingest.recorder_format import EPOCH_1970_IST, NULL_INT, SCALE
from transforms.calendar import session_segments
from transforms.dedupe import R_1970_OCCUPIED  # noqa: F401 - one of this module's reasons, decided at assembly
from warehouse.clock import DAY_S, IST_OFFSET_S, IST_TS, ORDINAL_1970
from warehouse.schema import PRICE_COLUMNS, QUOTE_FIELDS, RECORDER_TO_CANONICAL


# reasons (stable strings: tests and the quarantine view group by them)
R_NULL_TS = "null timestamp"
R_IMPLAUSIBLE = "timestamp before 2000-01-01"
EARLIEST_S = 946684800  # 2000-01-01 00:00 wall time: anything earlier is a clock glitch, not data
R_NO_SESSION = "no trading session on this date"
R_PREOPEN = "outside session: before open"
R_POSTCLOSE = "outside session: after close"
R_BETWEEN = "outside session: between segments"
R_1970_NO_CONTEXT = "ts 1970-01-01 05:30: lastTradeTime missing or outside the session, cannot place"
# the `session` column of kept rows: inside a segment, before the first, after the last, between two
SESSIONS = ("regular", "pre_open", "post_close", "break")


@dataclass
class Classified:
    """Row indexes of a batch by fate, plus each kept row's placement (trading date, second)."""

    keep: np.ndarray          # indexes of rows that go to a partition
    wall_s: np.ndarray        # wall-time seconds of kept rows (repaired second for 1970 rows)
    day_ord: np.ndarray       # proleptic ordinal of the trading date of kept rows
    repaired: np.ndarray      # bool: kept row is a 1970 row placed at its lastTradeTime
    rejected: np.ndarray      # indexes of rows quarantined now
    reasons: list[str]        # reason per rejected row
    session: np.ndarray       # int8 index into SESSIONS per kept row


_ORD_1970 = ORDINAL_1970


_SESSION_REASONS = ("", R_NO_SESSION, R_PREOPEN, R_POSTCLOSE, R_BETWEEN)


def _session_codes(wall_s: np.ndarray, day_ord: np.ndarray) -> np.ndarray:
    """Per row an index into _SESSION_REASONS (0 = inside the session). Vectorised per distinct day."""
    codes = np.zeros(wall_s.shape, dtype=np.int8)
    sec_of_day = wall_s % DAY_S
    for d in np.unique(day_ord):
        rows = day_ord == d
        segs = session_segments(dt.date.fromordinal(int(d)))
        if not segs:
            codes[rows] = 1
            continue
        inside = np.zeros(wall_s.shape, dtype=bool)
        for s in segs:
            lo = s.start.hour * 3600 + s.start.minute * 60 + s.start.second
            hi = s.end.hour * 3600 + s.end.minute * 60 + s.end.second
            inside |= (sec_of_day >= lo) & (sec_of_day <= hi)
        first = segs[0].start.hour * 3600 + segs[0].start.minute * 60
        last = segs[-1].end.hour * 3600 + segs[-1].end.minute * 60 + segs[-1].end.second
        out = rows & ~inside
        codes[out & (sec_of_day < first)] = 2
        codes[out & (sec_of_day > last)] = 3
        codes[out & (sec_of_day >= first) & (sec_of_day <= last)] = 4
    return codes


def classify(ts: np.ndarray, last_trade: np.ndarray | None, keep_outside: bool = False) -> Classified:
    """Decide each row's fate from its recorder timestamp (and lastTradeTime for 1970 rows).
    keep_outside: rows of a trading date outside its session segments are kept (labelled by
    `session`) instead of quarantined; a 1970 row is still only placed inside the session."""
    n = len(ts)
    reasons = ("", R_NULL_TS, R_IMPLAUSIBLE, R_1970_NO_CONTEXT) + _SESSION_REASONS[1:]
    code = np.zeros(n, dtype=np.int8)                 # index into `reasons`; 0 = keep
    code[ts == NULL_INT] = 1
    is1970 = ts == EPOCH_1970_IST
    code[(ts != NULL_INT) & ~is1970 & (ts < EARLIEST_S)] = 2
    wall = ts.copy()
    ok_ltt = is1970 & (last_trade >= EARLIEST_S) if last_trade is not None else np.zeros(n, dtype=bool)
    wall[ok_ltt] = last_trade[ok_ltt] if last_trade is not None else wall[ok_ltt]
    code[is1970 & ~ok_ltt] = 3
    valid = code == 0
    day_ord = np.zeros(n, dtype=np.int64)
    day_ord[valid] = wall[valid] // DAY_S + _ORD_1970
    sess = _session_codes(wall[valid], day_ord[valid])
    idx_valid = np.flatnonzero(valid)
    # a 1970 row whose lastTradeTime lies outside the session cannot be placed either
    bad = (sess != 0) & (is1970[idx_valid] | (sess == 1) | (not keep_outside))
    code[idx_valid[bad]] = np.where(is1970[idx_valid[bad]], 3, sess[bad] + 3)
    keep = np.flatnonzero(code == 0)
    rejected = np.flatnonzero(code != 0)
    segment = np.zeros(n, dtype=np.int8)
    segment[idx_valid] = np.maximum(sess - 1, 0)        # 2/3/4 (before/after/between) -> 1/2/3
    return Classified(keep=keep, wall_s=wall[keep], day_ord=day_ord[keep], repaired=is1970[keep],
                      rejected=rejected, reasons=[reasons[c] for c in code[rejected]], session=segment[keep])


# the conversion table of quote_columns: recorder column j -> canonical column _NAMES[j]
_SOURCES = tuple(RECORDER_TO_CANONICAL)
_NAMES = tuple(RECORDER_TO_CANONICAL.values())
_SCALE = np.array([SCALE[c] for c in _SOURCES], np.int64)
_SLOT = np.array([int((_SCALE[:j] > 1).sum()) if _SCALE[j] > 1 else int((_SCALE[:j] == 1).sum())
                  for j in range(len(_SOURCES))], np.int64)
_ZERO_IS_NULL = np.array([n in PRICE_COLUMNS for n in _NAMES])
# a depth field is null when its level is empty: the level's price (bp{k} / sp{k}) is 0 or NULL
_LEVEL = np.array([_SOURCES.index(f"{c[0]}p{c[-1]}") if n.startswith(("bid_", "ask_")) else -1
                   for c, n in zip(_SOURCES, _NAMES)], np.int64)
_FLOOR = np.array([EARLIEST_S if n == "last_trade_ts" else NULL_INT + 1 for n in _NAMES], np.int64)


def quote_columns(rows: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, pa.Array]:
    """Canonical quote columns (QUOTE_FIELDS minus vol_delta) for the kept rows of a 46-column batch."""
    cols = tuple(np.ascontiguousarray(rows[c], dtype=np.int64) for c in _SOURCES)
    floats, ints, null = recorder_values(cols, np.ascontiguousarray(keep, dtype=np.int64), _SCALE, _SLOT,
                                         _ZERO_IS_NULL, _LEVEL, _FLOOR, int((_SCALE > 1).sum()),
                                         int((_SCALE == 1).sum()))
    out: dict[str, pa.Array] = {}
    for j, name in enumerate(_NAMES):
        if name == "last_trade_ts":
            us = np.where(null[j], 0, ints[_SLOT[j]] - IST_OFFSET_S) * 1_000_000
            out[name] = pa.array(us, mask=null[j]).cast(IST_TS)
        else:
            out[name] = pa.array(floats[_SLOT[j]] if _SCALE[j] > 1 else ints[_SLOT[j]], mask=null[j])
    return out


QUOTE_NAMES = [n for n, _ in QUOTE_FIELDS]
