"""The live recorder database (MariaDB/MySQL) through SQLAlchemy + PyMySQL.

Tables are discovered in information_schema with bound parameters; every table name read from
there is validated against a strict identifier pattern and backtick-quoted, never interpolated
unchecked. Each table is read with one query on a server-side (unbuffered) cursor in bounded
batches, newest rows only when a high-water mark is given. Speed: PyMySQL sends the query and reads
the column definitions; the row packets are decoded from its socket by a Numba kernel
(ingest.mysqlwire_nb), with no Python object per row or value. That reaches into PyMySQL 1.x's
connection (`_rfile`, `_next_seq_id`, the cursor's result state), which is why it is pinned < 2; the
mariadb tests and tests/test_mysqlwire.py fail on any drift.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pymysql
import sqlalchemy as sa

from ingest.mysqlwire_nb import W_BAD_ROW, W_END, W_ERROR, W_FULL, W_NEED_MORE, W_PROTOCOL, parse_rows
from ingest.recorder_format import NSE_DB, NULL_INT, OPTION_DBS
from ingest.sqldump import recorder_kind

IDENT = re.compile(r"^[A-Za-z0-9_]{1,64}$")
RECORDER_DBS = (*OPTION_DBS.values(), NSE_DB)


class UnsafeIdentifier(ValueError):
    """A database/table/column name from outside that is not a plain identifier."""


@dataclass(frozen=True)
class SourceTable:
    db: str
    table: str
    columns: tuple[tuple[str, str], ...]   # (name, SQL column type)

    @property
    def name(self) -> str:
        return f"{self.db}.{self.table}"


def quote(ident: str) -> str:
    if not IDENT.match(ident):
        raise UnsafeIdentifier(f"refusing identifier {ident!r}: not [A-Za-z0-9_]{{1,64}}")
    return f"`{ident}`"


def masked(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def engine_for(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_pre_ping=True)


def discover(engine: sa.Engine, dbs: tuple[str, ...] = RECORDER_DBS) -> tuple[list[SourceTable], list[str]]:
    """Recorder tables and their columns; names that are not safe identifiers come back as rejects."""
    q_tables = sa.text("select TABLE_SCHEMA, TABLE_NAME from information_schema.TABLES "
                       "where TABLE_SCHEMA in :dbs and TABLE_TYPE = 'BASE TABLE' order by 1, 2"
                       ).bindparams(sa.bindparam("dbs", expanding=True))
    q_cols = sa.text("select TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE from information_schema.COLUMNS "
                     "where TABLE_SCHEMA in :dbs order by 1, 2, ORDINAL_POSITION"
                     ).bindparams(sa.bindparam("dbs", expanding=True))
    with engine.connect() as con:
        names = [(r[0], r[1]) for r in con.execute(q_tables, {"dbs": list(dbs)})]
        cols: dict[tuple[str, str], list] = {}
        for db, t, c, typ in con.execute(q_cols, {"dbs": list(dbs)}):
            cols.setdefault((db, t), []).append((c, typ.upper()))
    ok, bad = [], []
    for db, t in names:
        if IDENT.match(db) and IDENT.match(t) and all(IDENT.match(c) for c, _ in cols.get((db, t), [])):
            ok.append(SourceTable(db, t, tuple(cols.get((db, t), ()))))
        else:
            bad.append(f"{db}.{t}")
    return ok, bad


BATCH_ROWS = 500_000          # rows per batch handed to staging (bounded memory, like the dump parser)
SOCKET_READ = 4 << 20         # largest read from the socket at once
EPOCH = "'1970-01-01 00:00:00'"


@dataclass
class BadRow:
    """A row of the result set whose values do not decode as the column types say."""

    ordinal: int
    raw: str


def select_sql(t: SourceTable, after: int | None) -> str:
    """The table's rows in timestamp order (rows without a timestamp first), only those after
    `after` (recorder seconds) when given. Only integers computed here, never outside text, enter
    the SQL besides validated, quoted identifiers."""
    ts = quote("timestamp")
    cond = "" if after is None else f" where {ts} > timestampadd(second, {int(after)}, {EPOCH})"
    cols = ", ".join(quote(c) for c, _ in t.columns)
    return f"select {cols} from {quote(t.db)}.{quote(t.table)}{cond} order by {ts}"


def read_table(engine: sa.Engine, t: SourceTable, since: int | None = None,
               batch_rows: int = BATCH_ROWS) -> Iterator[dict[str, np.ndarray] | BadRow]:
    """Rows newer than `since` (recorder seconds; all rows, NULL timestamps first, when None) as
    int64 columns in the recorder's units, in batches of at most `batch_rows`, with a BadRow in
    place of each row that does not decode. One unbuffered query: the server streams the rows
    while they are decoded (ingest.mysqlwire_nb), so memory is one batch and one socket read."""
    kinds = np.array([recorder_kind(c, typ) for c, typ in t.columns], np.int8)
    names = [c for c, _ in t.columns]
    out = np.empty((len(names), batch_rows), np.int64)
    n = ordinal = 0
    raw = engine.raw_connection()
    done = False
    try:
        con = raw.driver_connection
        cursor = con.cursor(pymysql.cursors.SSCursor)
        cursor.execute(select_sql(t, since))           # PyMySQL reads the column definitions
        if len(cursor.description or ()) != len(names):
            raise RuntimeError(f"{t.name}: result has {len(cursor.description or ())} columns, expected {len(names)}")
        buf, pos, seq = b"", 0, con._next_seq_id
        while True:
            arr = np.frombuffer(buf, np.uint8)
            pos, n2, seq, status, a, b = parse_rows(arr, pos, len(arr), kinds, out, n, seq)
            ordinal += n2 - n
            n = n2
            if status == W_NEED_MORE:
                more = con._rfile.read1(SOCKET_READ)
                if not more:
                    raise RuntimeError(f"{t.name}: connection closed after row {ordinal}")
                buf, pos = buf[pos:] + more, 0
                continue
            if status == W_FULL or (status in (W_BAD_ROW, W_END) and n):
                yield {c: out[i, :n].copy() for i, c in enumerate(names)}
                n = 0
            if status == W_BAD_ROW:
                yield BadRow(ordinal, _row_text(bytes(buf[a:b]), names))
                ordinal += 1
            elif status == W_ERROR:
                pymysql.err.raise_mysql_exception(bytes(buf[a:b]))
            elif status == W_PROTOCOL:
                raise RuntimeError(f"{t.name}: packet out of sequence or over 16 MB after row {ordinal}")
            elif status == W_END:
                if pos != len(buf):
                    raise RuntimeError(f"{t.name}: {len(buf) - pos} bytes after the end of the result")
                con._next_seq_id = seq                 # hand the connection back in PyMySQL's state
                cursor._result.unbuffered_active = False
                cursor._result.connection = None
                done = True
                return
    finally:
        if done:
            raw.close()
        else:                                        # mid-result: the connection cannot be reused
            raw.invalidate()


def _row_text(payload: bytes, names: list[str]) -> str:
    """A row packet that did not decode, as JSON of its fields' text (for the quarantine)."""
    values, p = [], 0
    while p < len(payload) and len(values) <= len(names):
        head = payload[p]
        if head == 0xFB:                                   # NULL
            values.append(None)
            p += 1
            continue
        width = {252: 2, 253: 3, 254: 8}.get(head, 0)      # length-encoded: 1, 3, 4 or 9 header bytes
        size = int.from_bytes(payload[p + 1:p + 1 + width], "little") if width else head
        start = p + 1 + width
        values.append(payload[start:start + size].decode("utf-8", "replace"))
        p = start + size
    keys = names + [f"extra{k}" for k in range(len(values) - len(names))]
    return json.dumps(dict(zip(keys, values)), separators=(",", ":"))[:500]


def high_water_mark(previous: int | None, timestamps: np.ndarray) -> int | None:
    """The newest real timestamp seen (1970 placeholders and NULLs never move the mark)."""
    real = timestamps[(timestamps != NULL_INT) & (timestamps > 86400)]
    if not len(real):
        return previous
    top = int(real.max())
    return top if previous is None else max(previous, top)
