"""Dagster resources: every piece of I/O configuration (warehouse root, landing folder, MariaDB URL)."""

import os
from pathlib import Path

import dagster as dg

from warehouse.layout import warehouse_root


class WarehouseResource(dg.ConfigurableResource):
    """Where the warehouse and the landing folder are. Defaults follow $TICKLAKE_WAREHOUSE."""

    root: str = ""
    landing_dir: str = ""

    @property
    def path(self) -> Path:
        return warehouse_root(self.root or None)

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir or os.environ.get("TICKLAKE_LANDING") or self.path / "landing")


class MariaDBResource(dg.ConfigurableResource):
    """The live recorder database. The URL (with credentials) comes from the environment only."""

    url: str = ""

    def get_url(self) -> str | None:
        return self.url or os.environ.get("TICKLAKE_MARIADB_URL") or None
