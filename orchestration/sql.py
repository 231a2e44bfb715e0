"""`ticklake sql`: run a query on the warehouse views; print it as a table, or as CSV / JSON written
by DuckDB's own writers (timestamps in IST, the session's time zone)."""
from __future__ import annotations

import datetime as dt
import decimal
import shutil
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from tabulate import tabulate

from warehouse.catalog import connect, sql_string
from warehouse.clock import IST

RESULT_VIEW = "_ticklake_result"
# DuckDB COPY options per output format: CSV with a header row, JSON as one array of objects
COPY_OPTIONS = {"csv": "FORMAT csv, HEADER true", "json": "FORMAT json, ARRAY true"}


def _cell(v):
    if isinstance(v, dt.datetime):
        v = v.astimezone(IST) if v.tzinfo else v
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return v


def write_sql(root: Path, query: str, fmt: str, out: BinaryIO) -> None:
    """Run `query` and write its result to the binary stream `out` in `fmt` (table, csv, json)."""
    con = connect(root)
    try:
        rel = con.sql(query)
        if rel is None:                      # a statement without a result (SET, CREATE ...)
            return
        if fmt == "table":
            rows = [[_cell(v) for v in r] for r in rel.fetchall()]
            numeric = [all(isinstance(r[i], (int, float, decimal.Decimal)) for r in rows if r[i] is not None)
                       for i in range(len(rel.columns))]
            text = tabulate(rows, headers=rel.columns, tablefmt="psql", missingval="NULL", disable_numparse=True,
                            colalign=["right" if n and rows else "left" for n in numeric])
            out.write(f"{text}\n({len(rows)} rows)\n".encode())
            return
        rel.create_view(RESULT_VIEW)
        with tempfile.TemporaryDirectory(prefix="ticklake-sql-") as tmp:
            path = Path(tmp) / f"result.{fmt}"
            con.execute(f"COPY {RESULT_VIEW} TO {sql_string(str(path))} ({COPY_OPTIONS[fmt]})")
            with open(path, "rb") as f:
                shutil.copyfileobj(f, out)
    finally:
        con.close()


def run_sql(root: Path, query: str, fmt: str = "table") -> str:
    """The result as text (small results: the demo's summary tables, tests)."""
    import io

    buf = io.BytesIO()
    write_sql(root, query, fmt, buf)
    return buf.getvalue().decode()


def print_sql(root: Path, query: str, fmt: str) -> None:
    """Stream the result to stdout (the CLI)."""
    sys.stdout.flush()
    write_sql(root, query, fmt, sys.stdout.buffer)
    sys.stdout.buffer.flush()
