"""Which warehouse table a recorder table feeds, and its canonical rows (pure).

A source batch (one recorder table, int64 rows) becomes per-partition Arrow fragments with the
helper columns `_seq`, `_source`, `_repaired` (see transforms.dedupe), plus the rows rejected now.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pyarrow as pa

from ingest.contracts import FUTURES_TABLES, INDEX_TABLES, Contract, ContractNameError, parse_table_name
from ingest.recorder_format import NSE_DB, NULL_INT, OPTION_DBS, SCALE
from transforms.columns import constant_column
from transforms.expiry import monthly_expiries
from ingest.normalize import EARLIEST_S, Classified, classify, quote_columns
from warehouse.clock import wall_to_ts_us

R_UNKNOWN_TABLE = "unknown table: not an option contract, index or futures name"
R_WRONG_COLUMNS = "table has columns other than the recorder layout"


@dataclass(frozen=True)
class Route:
    kind: str                 # options / futures / spot
    underlying: str
    contract: Contract | None = None


def route_table(db: str | None, table: str) -> Route:
    """Route a recorder table by name; raises ContractNameError for names that fit nothing."""
    if table in INDEX_TABLES and db in (None, NSE_DB):
        return Route("spot", INDEX_TABLES[table])
    if table in FUTURES_TABLES:
        return Route("futures", FUTURES_TABLES[table])
    contract = parse_table_name(table)
    if db is not None and db in OPTION_DBS.values() and OPTION_DBS[contract.underlying] != db:
        raise ContractNameError(f"table {table!r}: {contract.underlying} contract found in database {db}")
    return Route("options", contract.underlying, contract)


@dataclass
class Rejection:
    position: str
    reason: str
    raw: str


@dataclass
class Normalized:
    fragments: dict[tuple[str, str, dt.date], pa.Table] = field(default_factory=dict)
    rejected: dict[tuple[str, str, dt.date | None], list[Rejection]] = field(default_factory=dict)


def raw_row(rows: dict[str, np.ndarray], i: int) -> str:
    """A quarantined row rendered back in the recorder's units (JSON, NULL as null)."""
    out = {}
    for c, v in rows.items():
        x = int(v[i])
        out[c] = None if x == NULL_INT else (x / SCALE.get(c, 1) if SCALE.get(c, 1) != 1 else x)
    return json.dumps(out, separators=(",", ":"))


def _near_month_expiry(underlying: str, day: dt.date) -> dt.date:
    return monthly_expiries(underlying, day, day + dt.timedelta(days=40))[0]


def normalize_batch(route: Route, table: str, rows: dict[str, np.ndarray], position: Callable[[int], str],
                    source: str, seq: np.ndarray) -> Normalized:
    """Classify and convert one batch of recorder table `table` read from `source`.

    Fragments are keyed by (kind, underlying, date); rejections by the same key (date None when
    the row has no usable date).
    """
    out = Normalized()
    ltt = rows.get("lastTradeTime") if route.kind != "spot" else None
    cl: Classified = classify(rows["timestamp"], ltt)
    for i, reason in zip(cl.rejected, cl.reasons):
        ts = int(rows["timestamp"][i])
        day = dt.date(1970, 1, 1) + dt.timedelta(seconds=ts) if ts >= EARLIEST_S else None
        key = (route.kind, route.underlying, day)
        out.rejected.setdefault(key, []).append(Rejection(position(int(i)), reason, raw_row(rows, i)))
    if not len(cl.keep):
        return out
    days = np.unique(cl.day_ord)
    for d in days:
        m = cl.day_ord == d if len(days) > 1 else slice(None)
        day = dt.date.fromordinal(int(d))
        out.fragments[(route.kind, route.underlying, day)] = _fragment(
            route, table, day, rows, source, position, cl.keep[m], cl.wall_s[m], cl.repaired[m], seq[cl.keep[m]])
    return out


def _fragment(route: Route, table: str, day: dt.date, rows: dict[str, np.ndarray], source: str,
              position: Callable[[int], str], keep: np.ndarray, wall_s: np.ndarray, repaired: np.ndarray,
              seq: np.ndarray) -> pa.Table:
    """The kept rows `keep` (all of trading date `day`) as a fragment with the helper columns."""
    n = len(keep)
    frag = {"underlying": constant_column(route.underlying, n)}
    if route.kind == "options":
        c = route.contract
        frag.update(expiry=constant_column(c.expiry, n), opt_type=constant_column(c.opt_type, n),
                    strike=pa.array(np.full(n, c.strike, dtype=np.int32)))
    if route.kind == "futures":
        frag["expiry"] = constant_column(_near_month_expiry(route.underlying, day), n)
    if route.kind != "spot":
        frag["symbol"] = constant_column(table, n)
    frag["ts"] = wall_to_ts_us(wall_s)
    frag["date"] = constant_column(day, n)
    if route.kind == "spot":
        p = rows["price"][keep]
        null = (p == NULL_INT) | (p == 0)
        frag["price"] = pa.array(np.where(null, 0, p) / 100, mask=null)
    else:
        frag.update(quote_columns(rows, keep))
    frag["_seq"] = pa.array(seq, pa.int64())
    frag["_source"] = constant_column(source, n)
    frag["_repaired"] = pa.array(repaired)
    # where a placed 1970 row came from, in case its second turns out to be taken (rare rows)
    rep = np.flatnonzero(repaired)
    if len(rep):
        pos, raw = [None] * n, [None] * n
        for j in rep:
            pos[j], raw[j] = position(int(keep[j])), raw_row(rows, int(keep[j]))
        frag["_pos"], frag["_raw"] = pa.array(pos, pa.string()), pa.array(raw, pa.string())
    else:
        frag["_pos"], frag["_raw"] = pa.nulls(n, pa.string()), pa.nulls(n, pa.string())
    return pa.table(frag)
