"""The Dagster entry point (`dagster dev -m orchestration.definitions`, `ticklake ui`)."""
from __future__ import annotations

import dagster as dg

from orchestration.assets.audits import AUDIT_ASSETS
from orchestration.assets.backtests import BACKTEST_ASSETS, backtest_summary
from orchestration.assets.features import FEATURE_ASSETS
from orchestration.assets.gaps import GAP_ASSETS, GapPolicy
from orchestration.assets.ingest import TICK_ASSETS, landed_sources
from orchestration.assets.quality import QUALITY_ASSETS
from orchestration.jobs import JOBS
from orchestration.resources import MariaDBResource, WarehouseResource
from orchestration.sensors import landing_folder_sensor, nightly_mariadb, pending_partitions_sensor

ASSETS = [landed_sources, *TICK_ASSETS, *GAP_ASSETS, *QUALITY_ASSETS, *FEATURE_ASSETS, *BACKTEST_ASSETS, backtest_summary,
          *AUDIT_ASSETS]
RESOURCES = {"warehouse": WarehouseResource(), "mariadb": MariaDBResource(), "gap_policy": GapPolicy()}
LOCATION = "orchestration.definitions"      # the code location name the UI shows (`-m orchestration.definitions`)


def build_definitions(warehouse: WarehouseResource | None = None, executor: dg.ExecutorDefinition | None = None,
                      **resources) -> dg.Definitions:
    """The definitions, optionally bound to one warehouse (the CLI's `--warehouse`), another executor
    (a Dask cluster's: orchestration.cluster_runs) or other resources."""
    return dg.Definitions(
        assets=ASSETS,
        jobs=list(JOBS.values()),
        sensors=[landing_folder_sensor, pending_partitions_sensor],
        schedules=[nightly_mariadb],
        resources={**RESOURCES, "warehouse": warehouse or RESOURCES["warehouse"], **resources},
        executor=executor or dg.multiprocess_executor.configured({"max_concurrent": 2}),
    )


defs = build_definitions()
