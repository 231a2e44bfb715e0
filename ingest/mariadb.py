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

from ingest.recorder_format import NSE_DB, NULL_INT, OPTION_DBS

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


def _int_expr(col: str, sql_type: str) -> str:
    """A server-side expression giving the column as an int64 in the recorder's unit."""
    q = quote(col)
    t = sql_type.upper()
    if t.startswith(("DATETIME", "TIMESTAMP")):
        e = f"timestampdiff(second, '1970-01-01 00:00:00', {q})"
    elif t.startswith("DECIMAL(60,10)"):
        e = f"cast(round({q} * 1000000) as signed)"
    elif t.startswith("DECIMAL"):
        e = f"cast(round({q} * 100) as signed)"
    else:
        e = f"cast({q} as signed)"
    return f"coalesce({e}, {NULL_INT})"


def select_sql(t: SourceTable, since: int | None) -> str:
    line = ", ".join(_int_expr(c, typ) for c, typ in t.columns)
    where = "" if since is None else f" where {quote('timestamp')} > timestampadd(second, {int(since)}, '1970-01-01 00:00:00')"
    return f"select concat_ws(',', {line}) from {quote(t.db)}.{quote(t.table)}{where} order by {quote('timestamp')}"


def _parse(lines: list[str], names: list[str]) -> dict[str, np.ndarray]:
    data = ("\n".join(lines) + "\n").encode()
    table = pacsv.read_csv(io.BytesIO(data), read_options=pacsv.ReadOptions(column_names=names),
                           convert_options=pacsv.ConvertOptions(column_types={n: pa.int64() for n in names}))
    return {n: table[n].to_numpy() for n in names}


def read_table(engine: sa.Engine, t: SourceTable, since: int | None = None,
               batch_rows: int = 200_000) -> Iterator[dict[str, np.ndarray]]:
    """Rows newer than `since` (recorder seconds) in timestamp order, in bounded batches."""
    names = [c for c, _ in t.columns]
    with engine.connect().execution_options(stream_results=True, max_row_buffer=batch_rows) as con:
        result = con.exec_driver_sql(select_sql(t, since))
        while True:
            rows = result.fetchmany(batch_rows)
            if not rows:
                break
            yield _parse([r[0] for r in rows], names)


def high_water_mark(previous: int | None, timestamps: np.ndarray) -> int | None:
    """The newest real timestamp seen (1970 placeholders and NULLs never move the mark)."""
    real = timestamps[(timestamps != NULL_INT) & (timestamps > 86400)]
    if not len(real):
        return previous
    top = int(real.max())
    return top if previous is None else max(previous, top)
