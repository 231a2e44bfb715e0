"""Which warehouse table a recorder table feeds, and its canonical rows (pure).

`table_route(db, table, columns)` is the one routing decision every reader makes: the live-MariaDB
reader when it lists a table (a skipped one is never queried), staging for every batch of a dump or
JSON source (ingest.stage.stage_batches). The dump parser should ask it too when it meets a table, so
that a skipped table's text values (dailytable's tradingsymbol) are not parsed into
"malformed tuple" rejections first:

- a `Route` (options / futures / spot / equity) for an instrument table;
- a `Skip` for a table that is not instrument data: the recorder's working tables (`dailytable`,
  `backupsuccesstables`), tables without the recorder's columns, unsupported underlyings. A reader
  does not read a skipped table's rows; it lists the table once per run with the reason;
- a `Reject` for a table with the recorder's columns whose name names no instrument (an unknown or
  non-ASCII look-alike contract name): its rows are quarantined with the reason.

A source batch (one recorder table, int64 rows) then becomes per-partition Arrow fragments with
the helper columns `_seq`, `_source`, `_repaired` (see transforms.dedupe), plus the rows rejected now.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa

from ingest.contracts import FUTURES_TABLES, INDEX_TABLES, Contract, ContractNameError, canonical_symbol, parse_table_name
from ingest.normalize import EARLIEST_S, SESSIONS, Classified, classify, quote_columns
from ingest.recorder_format import (DATETIME_COLUMNS, INDEX_COLUMNS, NULL_INT, OPTION_COLUMN_NAMES, SCALE,
                                    WORKING_TABLES, db_role)
from transforms.columns import constant_column
from transforms.expiry import UNDERLYINGS, monthly_expiries
from warehouse.clock import EPOCH, wall_to_ts_us

R_UNKNOWN_TABLE = "unknown table: not an option contract, index or futures name"
R_NOT_ASCII = "table name is not ASCII: a look-alike of an instrument name is not read as one"
S_WORKING = "the recorder's working table, not an instrument table"
S_COLUMNS = "not the recorder's columns"
S_UNSAFE = "unsafe name, not read: not [A-Za-z0-9_]{1,64}"
INDEX_NAMES = tuple(c for c, _ in INDEX_COLUMNS)
_LAYOUTS = {frozenset(OPTION_COLUMN_NAMES): "quote", frozenset(INDEX_NAMES): "index"}
_IDENT = re.compile(r"[A-Za-z0-9_]{1,64}", re.ASCII)


@dataclass(frozen=True)
class Route:
    kind: str                 # options / futures / spot / equity
    underlying: str           # the index, or the stock itself for equity
    contract: Contract | None = None
    symbol: str = ""          # canonical upper-case name (contract, futures table, index, stock)


@dataclass(frozen=True)
class Skip:
    """Not instrument data: not read, listed once per run with the reason."""

    reason: str


@dataclass(frozen=True)
class Reject:
    """Recorder columns but no instrument of that name: every row quarantined with the reason."""

    reason: str
    kind: str = "options"
    underlying: str = "unknown"


def table_route(db: str | None, table: str, columns: Sequence[str]) -> Route | Skip | Reject:
    """Route one table of a recorder database by its database, name and column names."""
    if table.lower() in WORKING_TABLES:
        return Skip(S_WORKING)
    layout = _LAYOUTS.get(frozenset(columns))
    if layout is None:
        shown = ", ".join(columns)
        return Skip(f"{S_COLUMNS} ({shown[:120]}{'...' if len(shown) > 120 else ''})")
    role, db_underlying = db_role(db)
    if db is not None and not _IDENT.fullmatch(db):         # (a recorder database has a plain name)
        return Reject(f"{R_UNKNOWN_TABLE} (database {db[:80]!r}: not a plain identifier)")
    if not table.isascii():
        return Reject(R_NOT_ASCII, "options", db_underlying if db_underlying in UNDERLYINGS else "unknown")
    if not _IDENT.fullmatch(table):
        return Reject(f"{R_UNKNOWN_TABLE} (table {table[:80]!r}: not a plain identifier)", "options",
                      db_underlying if db_underlying in UNDERLYINGS else "unknown")
    if role == "options":
        if db_underlying not in UNDERLYINGS:
            return Skip(f"{db_underlying} options: no expiry calendar for {db_underlying}")
        return _option_route(table, db_underlying, layout, db)
    try:                                    # a contract name is one wherever it is found
        return _option_route(table, None, layout, db)
    except _NotOption:
        pass
    upper = table.upper()
    if layout == "index":
        underlying = INDEX_TABLES.get(upper, upper)
        return Route("spot", underlying, symbol=underlying)
    if upper.endswith("FUT") and upper[:-3].isalpha():
        if upper in FUTURES_TABLES:
            return Route("futures", FUTURES_TABLES[upper], symbol=upper)
        return Skip(f"{upper[:-3]} futures: no expiry calendar for {upper[:-3]}")
    return Route("equity", upper, symbol=upper)


class _NotOption(Exception):
    pass


def _option_route(table: str, db_underlying: str | None, layout: str, db: str | None) -> Route | Reject:
    try:
        contract = parse_table_name(table)
    except ContractNameError as exc:
        if db_underlying is None:
            raise _NotOption() from None
        return Reject(f"{R_UNKNOWN_TABLE} ({exc})", "options", db_underlying)
    if db_underlying is not None and contract.underlying != db_underlying:
        return Reject(f"{R_UNKNOWN_TABLE} (table {table!r}: {contract.underlying} contract found in database {db})",
                      "options", db_underlying)
    if layout != "quote":
        return Reject(f"{R_UNKNOWN_TABLE} (table {table!r}: an option contract with the index layout)",
                      "options", contract.underlying)
    return Route("options", contract.underlying, contract, canonical_symbol(table))


@dataclass
class Rejection:
    position: str
    reason: str
    raw: str


@dataclass
class Normalized:
    fragments: dict[tuple[str, str, dt.date], pa.Table] = field(default_factory=dict)
    rejected: dict[tuple[str, str, dt.date | None], list[Rejection]] = field(default_factory=dict)


def iso_wall(wall_s: int) -> str:
    """A recorder DATETIME (naive IST wall seconds) as ISO text with its zone, which no reader can
    take for an epoch or for UTC: 1762141500 -> '2025-11-03T09:15:00+05:30'."""
    return (EPOCH + dt.timedelta(seconds=int(wall_s))).isoformat() + "+05:30"


def raw_row(rows: dict[str, np.ndarray], i: int) -> str:
    """A quarantined row rendered back in the recorder's units (JSON, NULL as null, times as ISO
    text with the +05:30 zone)."""
    out = {}
    for c, v in rows.items():
        x = int(v[i])
        if x == NULL_INT:
            out[c] = None
        elif c in DATETIME_COLUMNS:
            out[c] = iso_wall(x)
        else:
            out[c] = x / SCALE.get(c, 1) if SCALE.get(c, 1) != 1 else x
    return json.dumps(out, separators=(",", ":"))


def _near_month_expiry(underlying: str, day: dt.date) -> dt.date:
    return monthly_expiries(underlying, day, day + dt.timedelta(days=40))[0]


KEEPS_OUTSIDE_SESSION = ("spot", "futures", "equity")   # real prices before the open / after the close


def normalize_batch(route: Route, table: str, rows: dict[str, np.ndarray], position: Callable[[int], str],
                    source: str, seq: np.ndarray) -> Normalized:
    """Classify and convert one batch of recorder table `table` read from `source`.

    Fragments are keyed by (kind, underlying, date); rejections by the same key (date None when
    the row has no usable date).
    """
    out = Normalized()
    cl = classify_rows(route, rows)
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
            route, table, day, rows, source, position, cl.keep[m], cl.wall_s[m], cl.repaired[m], seq[cl.keep[m]],
            cl.session[m])
    return out


def classify_rows(route: Route, rows: dict[str, np.ndarray]) -> Classified:
    """Each row's fate for this route (spot has no lastTradeTime to place a 1970 row with)."""
    ltt = rows.get("lastTradeTime") if route.kind != "spot" else None
    return classify(rows["timestamp"], ltt, keep_outside=route.kind in KEEPS_OUTSIDE_SESSION)


def _session_column(codes: np.ndarray) -> pa.Array:
    n = len(codes)
    if n and (codes == 0).all():
        return constant_column(SESSIONS[0], n)
    return pa.array(np.array(SESSIONS, dtype=object)[codes], pa.string())


def _fragment(route: Route, table: str, day: dt.date, rows: dict[str, np.ndarray], source: str,
              position: Callable[[int], str], keep: np.ndarray, wall_s: np.ndarray, repaired: np.ndarray,
              seq: np.ndarray, session: np.ndarray) -> pa.Table:
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
        frag["symbol"] = constant_column(route.symbol or canonical_symbol(table), n)
    frag["source_table"] = constant_column(table, n)
    frag["ts"] = wall_to_ts_us(wall_s)
    frag["date"] = constant_column(day, n)
    if route.kind in KEEPS_OUTSIDE_SESSION:
        frag["session"] = _session_column(session)
    if route.kind == "spot":
        p = rows["price"][keep]
        null = (p == NULL_INT) | (p == 0)
        frag["price"] = pa.array(np.where(null, 0, p) / 100, mask=null)
    else:
        frag.update(quote_columns(rows, keep))
        frag["ts_repaired"] = pa.array(repaired)
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
