"""Where each warehouse table lives under the root, and how partitions are named (hive style)."""
from __future__ import annotations

import os
from pathlib import Path

from warehouse.store import is_remote, is_url, open_root

# table -> directory under the warehouse root, and its hive partition keys in order
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "options": ("ticks/options", ("underlying", "date")),
    "futures": ("ticks/futures", ("underlying", "date")),
    "spot": ("ticks/spot", ("underlying", "date")),
    "equity": ("ticks/equity", ("underlying", "date")),
    "crypto": ("ticks/crypto", ("symbol", "date")),
    "quarantine": ("quarantine", ("part",)),      # one file per ingest key: every source's rows
    "ingest_runs": ("ingest_runs", ("part",)),    # one entry per source and partition
    "ingest_skipped": ("ingest_skipped", ("run_id", "part")),
    "watermarks": ("ingest_watermarks", ("source",)),
    "gaps": ("gaps", ("underlying", "date")),
    "options_grid": ("grid/options", ("underlying", "date")),
    "spot_grid": ("grid/spot", ("underlying", "date")),
    "coverage": ("coverage", ("underlying", "date")),
    "features_options": ("features/options", ("underlying", "date")),
    "features_spot": ("features/spot", ("underlying", "date")),
    "trade_legs": ("backtests/trade_legs", ("run_id", "underlying", "date")),
    "trade_events": ("backtests/trade_events", ("run_id", "underlying", "date")),
    "backtest_runs": ("backtests/runs", ("run_id",)),
    "audit_findings": ("backtests/audit_findings", ("run_id",)),
}
DEFAULT_ROOT = "warehouse"
DATA_FILE = "part-0.parquet"
MANIFEST_FILE = "_manifest.json"


def warehouse_root(root: str | os.PathLike | None = None) -> Path:
    """The warehouse root: explicit argument, else $TICKLAKE_WAREHOUSE, else ./warehouse. An
    object-store URL (s3://bucket/prefix) gives a UPath over its filesystem (warehouse/store.py)."""
    root = root or os.environ.get("TICKLAKE_WAREHOUSE") or DEFAULT_ROOT
    if is_url(root):
        return open_root(root)
    if is_remote(root):          # already a UPath
        return root
    return Path(root).resolve()


def table_dir(root: Path, table: str) -> Path:
    return root / TABLES[table][0]


def partition_dir(root: Path, table: str, keys: dict[str, object]) -> Path:
    """root/<table dir>/k1=v1/k2=v2 in the table's key order; every key is required."""
    directory, names = TABLES[table]
    missing = [n for n in names if n not in keys]
    if missing:
        raise ValueError(f"{table}: partition keys missing: {missing}")
    path = root / directory
    for name in names:
        value = str(keys[name])
        if not value or "/" in value or value.startswith("."):
            raise ValueError(f"{table}: bad partition value {name}={value!r}")
        path = path / f"{name}={value}"
    return path


def glob(root: Path, table: str) -> str:
    """DuckDB glob of a table's data files (temp files end in .tmp and never match)."""
    return str(table_dir(root, table) / "**" / "*.parquet")
