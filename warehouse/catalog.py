"""DuckDB access to the warehouse: views over the Parquet partitions, session time zone IST.

`connect()` gives an in-memory DuckDB with every view (no file lock, so many readers can run while
assets write); `write_catalog()` also persists the views into `<root>/catalog.duckdb` for outside
tools. A table with no partitions yet is an empty view with the right columns, never an error.

Timestamps are TIMESTAMPTZ, and DuckDB evaluates `hour(ts)` or `ts::date` in the session time zone:
every view refuses to answer in any zone but Asia/Kolkata (a session opened on `catalog.duckdb`
directly starts in the machine's zone, often UTC, and would silently select other rows). Column
descriptions (a field's "description" metadata, e.g. the feature registry's) become column comments.
Paths are SQL string literals, quoted (a warehouse path may hold an apostrophe).

On an object store the views list the files the partition pointers name (writer.py) when the
connection is made, and DuckDB reads them through the registered fsspec filesystem: a connection
sees the warehouse as it was when it opened (retired files outlive a switch by the grace period).
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse import schema as S
from warehouse.files import temp_name
from warehouse.layout import glob, table_dir
from warehouse.store import is_remote
from warehouse.writer import current_files, current_files_of

# view name -> (warehouse table, Arrow schema): every view of the warehouse, declared here
VIEWS: dict[str, tuple[str, pa.Schema]] = {
    "options_ticks": ("options", S.OPTION_TICKS),
    "futures_ticks": ("futures", S.FUTURES_TICKS),
    "spot_ticks": ("spot", S.SPOT_TICKS),
    "equity_ticks": ("equity", S.EQUITY_TICKS),
    "crypto_trades": ("crypto", S.CRYPTO_TRADES),
    "ingest_runs": ("ingest_runs", S.INGEST_RUNS),
    "quarantine": ("quarantine", S.QUARANTINE),
    "ingest_skipped": ("ingest_skipped", S.INGEST_SKIPPED),
    "gaps": ("gaps", S.GAPS),
    "options_grid": ("options_grid", S.OPTION_GRID),
    "spot_grid": ("spot_grid", S.SPOT_GRID),
    "coverage": ("coverage", S.COVERAGE),
    "trade_legs": ("trade_legs", S.TRADE_LEGS),
    "trade_events": ("trade_events", S.TRADE_EVENTS),
    "backtest_runs": ("backtest_runs", S.BACKTEST_RUNS),
    "audit_findings": ("audit_findings", S.AUDIT_FINDINGS),
    "features_options": ("features_options", S.FEATURES_OPTIONS),
    "features_spot": ("features_spot", S.FEATURES_SPOT),
}
# views computed from other views, installed after them
DERIVED_VIEWS: dict[str, str] = {
    # one row per trade (round trip): its legs summed
    "trades": """SELECT run_id, strategy, trade_id, underlying, date, count(*) AS legs,
                        string_agg(symbol, ' ' ORDER BY leg) AS symbols, min(signal_ts) AS signal_ts,
                        min(entry_ts) AS entry_ts, max(exit_ts) AS exit_ts,
                        string_agg(DISTINCT exit_reason, ',' ORDER BY exit_reason) AS exit_reasons,
                        sum(gross_pnl) AS gross_pnl, sum(fees) AS fees, sum(net_pnl) AS net_pnl
                 FROM trade_legs GROUP BY run_id, strategy, trade_id, underlying, date""",
}
CATALOG_FILE = "catalog.duckdb"
TIME_ZONE = "Asia/Kolkata"
# the IANA zone under both of its names (older systems report the old one)
_IST_NAMES = ("Asia/Kolkata", "Asia/Calcutta")
IST_GUARD = (f"CASE WHEN current_setting('TimeZone') IN {_IST_NAMES} THEN true ELSE error("
             f"'ticklake views are in IST: run SET TimeZone = ''{TIME_ZONE}'' first "
             f"(hour(ts) or ts::date would otherwise use ' || current_setting('TimeZone') || ')') END")


def sql_string(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def duckdb_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    simple = {pa.string(): "VARCHAR", pa.date32(): "DATE", pa.int32(): "INTEGER", pa.int64(): "BIGINT",
              pa.float64(): "DOUBLE", pa.float32(): "FLOAT", pa.bool_(): "BOOLEAN", pa.int8(): "TINYINT",
              pa.int16(): "SMALLINT"}
    return simple[t]


def view_sql(root: Path, view: str, files: list | None = None) -> str:
    """The view over its table's files (on an object store: `files`, what the pointers name now;
    retired versions are kept for a while and must not be read)."""
    table, schema = VIEWS[view]
    if is_remote(root):
        files = current_files(root, table) if files is None else files
        if files:
            listed = "[" + ", ".join(sql_string(str(f)) for f in files) + "]"
            src = f"read_parquet({listed}, hive_partitioning = true, union_by_name = true)"
            return f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {src} WHERE {IST_GUARD}"
    elif any(table_dir(root, table).rglob("*.parquet")):
        # files carry the schema they were written with (a feature selection may store fewer columns)
        src = f"read_parquet({sql_string(glob(root, table))}, hive_partitioning = true, union_by_name = true)"
        return f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {src} WHERE {IST_GUARD}"
    empty = ", ".join(f'CAST(NULL AS {duckdb_type(f.type)}) AS "{f.name}"' for f in schema)
    return f"CREATE OR REPLACE VIEW {view} AS SELECT {empty} WHERE false AND {IST_GUARD}"


def comments_sql(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    """COMMENT ON COLUMN statements for the view's columns that the schema describes."""
    _, schema = VIEWS[view]
    present = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'", [view]).fetchall()}
    out = []
    for f in schema:
        text = (f.metadata or {}).get(b"description")
        if text and f.name in present:
            out.append(f'COMMENT ON COLUMN {view}."{f.name}" IS {sql_string(text.decode())}')
    return out


def _install_views(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    if is_remote(root):     # DuckDB reads s3:// through the same fsspec client (no httpfs needed)
        con.register_filesystem(root.fs)
    con.execute(f"SET TimeZone = {sql_string(TIME_ZONE)}")
    files = current_files_of(root, [t for t, _ in VIEWS.values()]) if is_remote(root) else {}
    for view, (table, _) in VIEWS.items():
        con.execute(view_sql(root, view, files.get(table)))
        for stmt in comments_sql(con, view):
            con.execute(stmt)
    for view, sql in DERIVED_VIEWS.items():
        con.execute(f"CREATE OR REPLACE VIEW {view} AS {sql}")


def connect(root: Path, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB connection with all warehouse views and TimeZone Asia/Kolkata."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    _install_views(con, root)
    return con


def write_catalog(root: Path) -> Path | None:
    """Persist the views into <root>/catalog.duckdb (absolute paths) for outside tools: built in a
    temp file and renamed over the old one, so concurrent writers never fight over DuckDB's file lock
    and a reader holding the old file keeps a consistent one. Not on an object store (None): its
    views need the fsspec filesystem registered, which only `connect` (and so `ticklake sql`) does."""
    if is_remote(root):
        return None
    root.mkdir(parents=True, exist_ok=True)
    path = root / CATALOG_FILE
    tmp = temp_name(path)
    try:
        con = duckdb.connect(str(tmp))
        try:
            _install_views(con, root)
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return path
