"""DuckDB access to the warehouse: views over the Parquet partitions, session time zone IST.

`connect()` gives an in-memory DuckDB with every view (no file lock, so many readers can run while
assets write); `write_catalog()` also persists the views into `<root>/catalog.duckdb` for outside
tools. A table with no partitions yet is an empty view with the right columns, never an error.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse import schema as S
from warehouse.layout import glob, table_dir

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
    "trades": ("trades", S.TRADES),
    "trade_events": ("trade_events", S.TRADE_EVENTS),
    "backtest_runs": ("backtest_runs", S.BACKTEST_RUNS),
    "audit_findings": ("audit_findings", S.AUDIT_FINDINGS),
    "features_options": ("features_options", S.FEATURES_OPTIONS),
    "features_spot": ("features_spot", S.FEATURES_SPOT),
}
CATALOG_FILE = "catalog.duckdb"


def duckdb_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    simple = {pa.string(): "VARCHAR", pa.date32(): "DATE", pa.int32(): "INTEGER", pa.int64(): "BIGINT",
              pa.float64(): "DOUBLE", pa.float32(): "FLOAT", pa.bool_(): "BOOLEAN", pa.int8(): "TINYINT",
              pa.int16(): "SMALLINT"}
    return simple[t]


def view_sql(root: Path, view: str) -> str:
    table, schema = VIEWS[view]
    if any(table_dir(root, table).rglob("*.parquet")):
        # files carry the schema they were written with (a feature selection may store fewer columns)
        src = f"read_parquet('{glob(root, table)}', hive_partitioning = true, union_by_name = true)"
        return f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {src}"
    empty = ", ".join(f'CAST(NULL AS {duckdb_type(f.type)}) AS "{f.name}"' for f in schema)
    return f"CREATE OR REPLACE VIEW {view} AS SELECT {empty} WHERE false"


def _install_views(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    con.execute("SET TimeZone = 'Asia/Kolkata'")
    for view in VIEWS:
        con.execute(view_sql(root, view))


def connect(root: Path, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB connection with all warehouse views and TimeZone Asia/Kolkata."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    _install_views(con, root)
    return con


def write_catalog(root: Path) -> Path:
    """Persist the views into <root>/catalog.duckdb (absolute paths) for outside tools."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / CATALOG_FILE
    con = duckdb.connect(str(path))
    try:
        _install_views(con, root)
    finally:
        con.close()
    return path
