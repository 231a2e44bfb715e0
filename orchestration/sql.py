"""`ticklake sql`: run a query on the warehouse views and render it as a table, CSV or JSON (IST)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from warehouse.catalog import connect
from warehouse.clock import IST


def _cell(v):
    if isinstance(v, dt.datetime):
        v = v.astimezone(IST) if v.tzinfo else v
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return v


def run_sql(root: Path, query: str, fmt: str = "table") -> str:
    con = connect(root)
    try:
        rel = con.sql(query)
        if rel is None:
            return ""
        cols = rel.columns
        rows = rel.fetchall()
    finally:
        con.close()
    rows = [[_cell(v) for v in r] for r in rows]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        w.writerows(rows)
        return buf.getvalue()
    if fmt == "json":
        return json.dumps([dict(zip(cols, r)) for r in rows], default=str, indent=1) + "\n"
    return _table(cols, rows)


def _table(cols: list[str], rows: list[list]) -> str:
    text = [[("NULL" if v is None else str(v)) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in text]) for i, c in enumerate(cols)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    fmt_row = lambda r: "| " + " | ".join(v.ljust(w) for v, w in zip(r, widths)) + " |"  # noqa: E731
    out = [line, fmt_row(cols), line, *map(fmt_row, text), line, f"({len(rows)} rows)"]
    return "\n".join(out) + "\n"
