"""Feed gaps per instrument-day (pure): where the recorder was silent longer than a threshold.

Kinds: late_start (first row well after the open: gap_start = session open), intraday (between two
real rows), early_end (last row well before the close: gap_end = session close), partial_day (an
early end shared by the whole underlying: its latest row of the day is well before the close),
missing_day (a trading day with no rows at all for the underlying: one row, symbol = index name).
Gaps between session segments (a DR-drill day) are not gaps.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from transforms.calendar import inside_segments, segment_bounds
from transforms.columns import CONTRACT, contract_starts
from warehouse.clock import wall_seconds, wall_to_datetime

DEFAULT_MIN_GAP_S = 60


@dataclass(frozen=True)
class Instrument:
    symbol: str
    instrument: str                # option / futures / spot
    expiry: dt.date | None = None
    opt_type: str | None = None
    strike: int | None = None


def _gap(inst: Instrument, start: int, end: int, kind: str) -> dict:
    return {"symbol": inst.symbol, "instrument": inst.instrument, "expiry": inst.expiry, "opt_type": inst.opt_type,
            "strike": inst.strike, "gap_start_s": int(start), "gap_end_s": int(end), "seconds": int(end - start),
            "kind": kind}


def instrument_gaps(inst: Instrument, real_s: np.ndarray, seg_lo: np.ndarray, seg_hi: np.ndarray,
                    min_gap_s: int, partial_day: bool) -> list[dict]:
    """Gaps of one instrument-day from its sorted unique real-row seconds."""
    out = []
    if not len(real_s):
        return out
    if real_s[0] - seg_lo[0] > min_gap_s:
        out.append(_gap(inst, seg_lo[0], real_s[0], "late_start"))
    diffs = np.diff(real_s)
    for i in np.flatnonzero(diffs > min_gap_s):
        a, b = real_s[i], real_s[i + 1]
        # silence that only spans the break between two segments is not a gap
        between = any(a <= seg_hi[k] and b >= seg_lo[k + 1] and a >= seg_hi[k] - min_gap_s
                      and b <= seg_lo[k + 1] + min_gap_s for k in range(len(seg_lo) - 1))
        if not between:
            out.append(_gap(inst, a, b, "intraday"))
    if seg_hi[-1] - real_s[-1] > min_gap_s:
        out.append(_gap(inst, real_s[-1], seg_hi[-1], "partial_day" if partial_day else "early_end"))
    return out


def day_gaps(underlying: str, day: dt.date, series: list[tuple[Instrument, np.ndarray]],
             index_symbol: str, min_gap_s: int = DEFAULT_MIN_GAP_S) -> list[dict]:
    """All gaps of one underlying-day. `series`: (instrument, sorted unique real-row wall seconds)."""
    seg_lo, seg_hi = segment_bounds(day)
    if not len(seg_lo):
        return []
    present = [(i, s) for i, s in series if len(s)]
    if not present:
        row = _gap(Instrument(index_symbol, "spot"), seg_lo[0], seg_hi[-1], "missing_day")
        return [{**row, "underlying": underlying, "date": day}]
    day_last = max(int(s[-1]) for _, s in present)
    partial = seg_hi[-1] - day_last > min_gap_s
    out = []
    for inst, s in present:
        out += instrument_gaps(inst, s, seg_lo, seg_hi, min_gap_s, partial)
    return [{**g, "underlying": underlying, "date": day} for g in out]


def partition_series(options, futures, spot) -> list[tuple[Instrument, np.ndarray]]:
    """(instrument, sorted unique real wall seconds inside the session) for every instrument in a
    day's tick tables (index and futures rows before the open or after the close are no feed)."""

    out = []
    for table, kind in ((options, "options"), (futures, "futures"), (spot, "spot")):
        if table is None or not table.num_rows:
            continue
        wall = wall_seconds(table["ts"])
        inside = inside_segments(wall, *segment_bounds(table["date"][0].as_py()))
        if not inside.all():
            table, wall = table.filter(pa.array(inside)), wall[inside]
            if not table.num_rows:
                continue
        keys = CONTRACT.get(kind, ["expiry"])
        starts = contract_starts(table, keys)
        for a, b in zip(starts[:-1], starts[1:]):
            a, b = int(a), int(b)
            if kind == "options":
                inst = Instrument(table["symbol"][a].as_py(), "option", table["expiry"][a].as_py(),
                                  table["opt_type"][a].as_py(), table["strike"][a].as_py())
            elif kind == "futures":
                inst = Instrument(table["symbol"][a].as_py(), "futures", table["expiry"][a].as_py())
            else:
                inst = Instrument(table["underlying"][a].as_py(), "spot")
            out.append((inst, np.unique(wall[a:b])))
    return out


def gaps_table(underlying: str, day: dt.date, options, futures, spot, index_symbol: str,
               min_gap_s: int = DEFAULT_MIN_GAP_S):
    """The GAPS rows of one (underlying, date) partition as an Arrow table."""
    from warehouse.schema import GAPS

    rows = day_gaps(underlying, day, partition_series(options, futures, spot), index_symbol, min_gap_s)
    for r in rows:
        r["gap_start"], r["gap_end"] = wall_to_datetime(r.pop("gap_start_s")), wall_to_datetime(r.pop("gap_end_s"))
    return pa.Table.from_pylist(rows, schema=GAPS)
