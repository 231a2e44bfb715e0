"""Dagster resources: every piece of I/O (warehouse reads and writes, the landing folder, MariaDB URL).

Assets read and write partitions only through `WarehouseResource`: it builds each partition's
manifest, and refreshes `catalog.duckdb` once when the step that wrote is done.
"""
from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import PrivateAttr

from warehouse.catalog import write_catalog
from warehouse.layout import warehouse_root
from warehouse.store import fs_path, scratch_dir
from warehouse.writer import PartitionManifest, data_file, read_partition, write_partition


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse (default `$TICKLAKE_WAREHOUSE`, else ./warehouse) and its landing folder."""

    root: str = ""
    landing_dir: str = ""
    _written: bool = PrivateAttr(default=False)

    @property
    def path(self) -> Path:
        return warehouse_root(self.root or None)

    @property
    def landing(self) -> Path:
        # a local folder (files are dropped there); for an object-store warehouse, in its scratch dir
        return Path(self.landing_dir or os.environ.get("TICKLAKE_LANDING") or scratch_dir(self.path) / "landing")

    def read(self, table: str, keys: dict, columns: list[str] | None = None,
             dictionary: tuple[str, ...] = ()) -> pa.Table | None:
        """One stored partition (None when there is none)."""
        return read_partition(self.path, table, keys, columns=columns, dictionary=dictionary)

    def rows(self, table: str, keys: dict) -> int:
        """Rows stored in one partition (from the Parquet footer; 0 when absent)."""
        path = data_file(self.path, table, keys)
        if path is None:
            return 0
        fs, where = fs_path(path)
        return pq.ParquetFile(where, filesystem=fs).metadata.num_rows

    def write(self, table: str, keys: dict, data: pa.Table, schema: pa.Schema, run_id: str, code_version: str,
              extra: dict | None = None) -> int:
        """Replace one partition atomically, with its manifest; returns the rows written."""
        manifest = PartitionManifest(table, {k: str(v) for k, v in keys.items()}, 0, run_id, code_version,
                                     extra=extra or {})
        write_partition(self.path, table, keys, data, schema, manifest)
        self._written = True
        return manifest.rows

    def wrote(self) -> None:
        """Say that a layer function wrote partitions itself (ingest, backtests), so the catalog is refreshed."""
        self._written = True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        # once per step (in-process: once per run), not once per partition written
        if self._written:
            write_catalog(self.path)
            self._written = False


class MariaDBResource(dg.ConfigurableResource):
    """The live recorder database. The URL (with credentials) comes from the environment only."""

    url: str = ""

    def get_url(self) -> str | None:
        return self.url or os.environ.get("TICKLAKE_MARIADB_URL") or None
