"""The live recorder database (MariaDB/MySQL) through SQLAlchemy + PyMySQL.

Tables are discovered in information_schema with bound parameters; every table name read from
there is validated against a strict identifier pattern and backtick-quoted, never interpolated
unchecked. Each table is read with a server-side (unbuffered) cursor in bounded batches, newest
rows only when a high-water mark is given. Speed: the server renders each row as ONE text field of
int64 values already in the recorder's units (paise, 1e-6 %, wall seconds; NULL as a sentinel),
so the driver decodes one string per row and Arrow's C++ CSV reader does the rest.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from ingest.readahead import read_ahead
from ingest.recorder_format import NSE_DB, NULL_INT, OPTION_DBS
from ingest.sqldump import column_kind
from ingest.sqlscan_nb import K_DATETIME, K_DEC2, K_DEC10

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


PAGE_ROWS = 20_000            # rows per page: about 6 MB of text, well under max_allowed_packet
EPOCH = "'1970-01-01 00:00:00'"
SCALE_OF = {K_DEC2: 100.0, K_DEC10: 1e6}   # the dump parser's units (ingest.sqlscan_nb)


def _field(col: str, sql_type: str) -> str:
    """A column as CSV text: datetimes as seconds since the epoch on the server (a zero or invalid
    date becomes NULL there, as in the dump parser), everything else raw; NULL as an empty field."""
    if column_kind(sql_type) == K_DATETIME:
        return f"ifnull(timestampdiff(second, {EPOCH}, {quote(col)}), '')"
    return f"ifnull({quote(col)}, '')"


def page_sql(t: SourceTable, after: int | None, null_stamps: bool = False) -> str:
    """One page of a table: up to PAGE_ROWS rows after `after` (recorder seconds) in timestamp order,
    folded server-side into (rows, last second, newline-joined CSV text of the raw values).

    A page per query instead of a row per packet (PyMySQL decodes packets in Python); decimals are
    sent raw and scaled on the client, which has a core of its own while the server reads the next
    page. Only integers computed here, never outside text, enter the SQL."""
    ts = quote("timestamp")
    line = ", ".join(_field(c, typ) for c, typ in t.columns)
    if null_stamps:
        cond = f"{ts} is null"
    elif after is None:
        cond = f"{ts} is not null"
    else:
        cond = f"{ts} > timestampadd(second, {int(after)}, {EPOCH})"
    inner = (f"select {ts} ts, concat_ws(',', {line}) line from {quote(t.db)}.{quote(t.table)} where {cond}"
             f" order by {ts}" + ("" if null_stamps else f" limit {PAGE_ROWS}"))
    return (f"select count(*), max(timestampdiff(second, {EPOCH}, ts)), "
            f"group_concat(line order by ts separator '\\n') from ({inner}) page")


def parse_page(text: str, columns: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    """CSV text of raw values -> int64 columns in the recorder units, NULL as NULL_INT."""
    names = [c for c, _ in columns]
    kinds = [column_kind(typ) for _, typ in columns]
    types = {n: pa.float64() if k in SCALE_OF else pa.int64() for n, k in zip(names, kinds)}
    table = pacsv.read_csv(io.BytesIO((text + "\n").encode()), read_options=pacsv.ReadOptions(column_names=names),
                           convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True))
    out = {}
    for n, k in zip(names, kinds):
        col = table[n]
        if k in SCALE_OF:
            values = np.round(col.to_numpy(zero_copy_only=False) * SCALE_OF[k])
            col = pa.array(values, mask=np.isnan(values)).cast(pa.int64())
        out[n] = col.fill_null(NULL_INT).to_numpy()
    return out


def _pages(engine: sa.Engine, t: SourceTable, since: int | None) -> Iterator[str]:
    with engine.connect() as con:
        con.exec_driver_sql("set session group_concat_max_len = 1073741824")
        if since is None:
            n, _, text = con.exec_driver_sql(page_sql(t, None, null_stamps=True)).one()
            if n:
                yield text
        after = since
        while True:
            n, last, text = con.exec_driver_sql(page_sql(t, after)).one()
            if not n:
                return
            yield text
            after = int(last)


def read_table(engine: sa.Engine, t: SourceTable, since: int | None = None) -> Iterator[dict[str, np.ndarray]]:
    """Rows newer than `since` (recorder seconds) in timestamp order, one bounded page at a time,
    the next page fetched while this one is parsed (rows without a timestamp come first, on a full
    read only: they have no place in an increment)."""
    for text in read_ahead(_pages(engine, t, since), depth=1):
        yield parse_page(text, t.columns)


def high_water_mark(previous: int | None, timestamps: np.ndarray) -> int | None:
    """The newest real timestamp seen (1970 placeholders and NULLs never move the mark)."""
    real = timestamps[(timestamps != NULL_INT) & (timestamps > 86400)]
    if not len(real):
        return previous
    top = int(real.max())
    return top if previous is None else max(previous, top)
