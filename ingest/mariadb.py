"""The live recorder database (MariaDB/MySQL) through SQLAlchemy + PyMySQL.

Databases: the one the URL names, else the list in `?databases=a,b` (or $TICKLAKE_MARIADB_DATABASES),
else every `das_*` / `aws_das_*` database on the server (the recorder's shipped dasConfig.json
names them aws_das_nse, aws_das_niftyopt, aws_das_bankopt, aws_das_sensexopt). Tables are
discovered in information_schema with bound parameters and routed by ingest.route.table_route: the
recorder's working tables, tables without its columns and names that are not plain identifiers are
listed as skipped, never read. Every name that is read was validated against a strict identifier
pattern and is backtick-quoted, never interpolated unchecked. Each table is read with one query on
a server-side (unbuffered) cursor in bounded batches, only rows newer than a high-water mark (plus
the few rows without a real timestamp, see ingest.mariadb_source) when a mark is given.

Password: in the URL, or (kept out of the process list) $TICKLAKE_MARIADB_PASSWORD, a password
file ($TICKLAKE_MARIADB_PASSWORD_FILE, `ticklake ingest --password-file`: the password on its first
line, or a ~/.my.cnf-style option file's [client] password), or the URL's own
`?read_default_file=~/.my.cnf`. Never logged: sources and errors show the URL without it.

Speed: PyMySQL sends the query and reads the column definitions; the row packets are decoded from
its socket by a Numba kernel (ingest.mysqlwire_nb), with no Python object per row or value. That
reaches into PyMySQL 1.x's connection (`_rfile`, `_next_seq_id`, the cursor's result state), which
is why it is pinned < 2; the mariadb tests and tests/test_mysqlwire.py fail on any drift.
"""
from __future__ import annotations

import configparser
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pymysql
import sqlalchemy as sa

from ingest.mysqlwire_nb import W_BAD_ROW, W_END, W_ERROR, W_FULL, W_NEED_MORE, W_PROTOCOL, parse_rows
from ingest.normalize import EARLIEST_S
from ingest.recorder_format import NULL_INT, RECORDER_DB
from ingest.route import S_UNSAFE, Reject, Route, Skip, table_route
from ingest.sqldump import recorder_kind
from ingest.sqlscan_nb import K_DATETIME

IDENT = re.compile(r"^[A-Za-z0-9_]{1,64}$")
PASSWORD_ENV = "TICKLAKE_MARIADB_PASSWORD"
PASSWORD_FILE_ENV = "TICKLAKE_MARIADB_PASSWORD_FILE"
DATABASES_ENV = "TICKLAKE_MARIADB_DATABASES"


class UnsafeIdentifier(ValueError):
    """A database/table/column name from outside that is not a plain identifier."""


class NoRecorderDatabase(ValueError):
    """The server holds none of the databases asked for (or no das_* / aws_das_* database)."""


@dataclass(frozen=True)
class SourceTable:
    db: str
    table: str
    columns: tuple[tuple[str, str], ...]   # (name, SQL column type)
    route: Route | Reject | None = None

    @property
    def name(self) -> str:
        return f"{self.db}.{self.table}"


def quote(ident: str) -> str:
    if not IDENT.match(ident):
        raise UnsafeIdentifier(f"refusing identifier {ident!r}: not [A-Za-z0-9_]{{1,64}}")
    return f"`{ident}`"


def masked(url: str) -> str:
    u = sa.engine.make_url(url)
    return u.set(query={k: v for k, v in u.query.items() if k != "databases"}).render_as_string(hide_password=True)


def read_password_file(path: str | os.PathLike) -> str:
    """The password of a password file: a ~/.my.cnf-style option file ([client] password=...) or
    a plain file whose first line is the password."""
    text = Path(path).expanduser().read_text()
    if re.search(r"^\s*\[", text, re.M):
        cfg = configparser.ConfigParser(allow_no_value=True, strict=False, interpolation=None)
        cfg.read_string(text)
        for section in ("client", "mysql", "mariadb", "client-mariadb"):
            if cfg.has_option(section, "password"):
                return (cfg.get(section, "password") or "").strip().strip("'\"")
        raise ValueError(f"{path}: option file without a [client] password")
    return text.splitlines()[0] if text else ""


def _password(url: sa.engine.URL) -> str | None:
    if url.password is not None:
        return None                                       # the URL's own
    if os.environ.get(PASSWORD_ENV) is not None:
        return os.environ[PASSWORD_ENV]
    if os.environ.get(PASSWORD_FILE_ENV):
        return read_password_file(os.environ[PASSWORD_FILE_ENV])
    return None


def engine_for(url: str) -> sa.Engine:
    """An engine for the URL (our `databases` parameter stripped); a password from the environment
    or a password file goes to the driver, never into the URL."""
    u = sa.engine.make_url(url)
    u = u.set(query={k: v for k, v in u.query.items() if k != "databases"})
    pw = _password(u)
    return sa.create_engine(u, pool_pre_ping=True, connect_args={"password": pw} if pw is not None else {})


def wanted_databases(url: str) -> tuple[str, ...] | None:
    """The databases a URL asks for (its path, or ?databases=, or $TICKLAKE_MARIADB_DATABASES);
    None = every das_* / aws_das_* database."""
    u = sa.engine.make_url(url)
    listed = u.query.get("databases") or os.environ.get(DATABASES_ENV) or ""
    names = [u.database] if u.database else [d.strip() for d in str(listed).split(",") if d.strip()]
    for n in names:
        quote(n)
    return tuple(names) or None


def databases(engine: sa.Engine, wanted: tuple[str, ...] | None) -> list[str]:
    with engine.connect() as con:
        present = [r[0] for r in con.execute(sa.text("select SCHEMA_NAME from information_schema.SCHEMATA order by 1"))]
    if wanted is None:
        found = [d for d in present if RECORDER_DB.match(d)]
        if not found:
            raise NoRecorderDatabase("no das_* / aws_das_* database on the server; name one in the URL "
                                     "(mysql+pymysql://user@host:3306/aws_das_nse) or list them with ?databases=a,b")
        return found
    missing = [d for d in wanted if d not in present]
    if missing:
        raise NoRecorderDatabase(f"database(s) not on the server: {', '.join(missing)}")
    return list(wanted)


def discover(engine: sa.Engine, dbs: list[str]) -> tuple[list[SourceTable], list[tuple[str, str]]]:
    """The tables to read (routed, columns in order) and the tables skipped with the reason."""
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
    read, skipped = [], []
    for db, t in names:
        columns = tuple(cols.get((db, t), ()))
        route = table_route(db, t, [c for c, _ in columns])
        if not IDENT.match(t):
            route = Skip(S_UNSAFE)                  # never quoted into a query, whatever it holds
        if isinstance(route, Skip):
            skipped.append((f"{db}.{t}", route.reason))
        else:
            read.append(SourceTable(db, t, columns, route))
    return read, skipped


BATCH_ROWS = 500_000          # rows per batch handed to staging (bounded memory, like the dump parser)
SOCKET_READ = 4 << 20         # largest read from the socket at once
EPOCH = "'1970-01-01 00:00:00'"


@dataclass
class BadRow:
    """A row of the result set whose values do not decode as the column types say."""

    ordinal: int
    raw: str


def select_sql(t: SourceTable, after: int | None) -> str:
    """The table's rows, only those after `after` (recorder seconds) when given, plus, always, the
    rows without a real timestamp (NULL, or the recorder's '1970-01-01 05:30:00', which its next
    day's write replaces: a read above the mark alone would never see the new one). In the
    server's own order: sorting costs the server a third of the read, and nothing depends on the
    order (a table's timestamps are UNIQUE; positions name the timestamp). Only integers computed
    here, never outside text, enter the SQL besides validated, quoted identifiers."""
    ts = quote("timestamp")
    cond = "" if after is None else (f" where {ts} > timestampadd(second, {int(after)}, {EPOCH}) or {ts} is null"
                                     f" or {ts} < timestampadd(second, {EARLIEST_S}, {EPOCH})")
    cols = ", ".join(quote(c) for c, _ in t.columns)
    return f"select {cols} from {quote(t.db)}.{quote(t.table)}{cond}"


def read_table(engine: sa.Engine, t: SourceTable, since: int | None = None,
               batch_rows: int = BATCH_ROWS) -> Iterator[dict[str, np.ndarray] | BadRow]:
    """Rows newer than `since` (recorder seconds; all rows when None; see select_sql) as
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
                yield BadRow(ordinal, _row_text(bytes(buf[a:b]), names, kinds))
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


def _row_text(payload: bytes, names: list[str], kinds: np.ndarray | None = None) -> str:
    """A row packet that did not decode, as JSON of its fields' text (for the quarantine); a
    DATETIME that reads as one is rendered as ISO text with the +05:30 zone."""
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
    for k, v in enumerate(values):
        if kinds is not None and k < len(kinds) and kinds[k] == K_DATETIME and v and _WALL.fullmatch(v):
            values[k] = v.replace(" ", "T") + "+05:30"
    return json.dumps(dict(zip(keys, values)), separators=(",", ":"))[:500]


_WALL = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def high_water_mark(previous: int | None, timestamps: np.ndarray) -> int | None:
    """The newest real timestamp seen (1970 placeholders and NULLs never move the mark)."""
    real = timestamps[(timestamps != NULL_INT) & (timestamps > 86400)]
    if not len(real):
        return previous
    top = int(real.max())
    return top if previous is None else max(previous, top)
