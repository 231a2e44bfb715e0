"""Sensors and schedules: landing folder -> staging run; staged partitions -> assembly runs;
nightly MariaDB pull. Each run is a named job (`ingest`, `nightly`)."""

import dagster as dg

from orchestration.assets.ingest import TICK_ASSETS, landed_sources, ledger, new_landing_files, pending_partition_keys
from orchestration.jobs import JOBS
from orchestration.resources import WarehouseResource

TICK_KEYS = [a.key for a in TICK_ASSETS]


@dg.sensor(job=JOBS["ingest"], minimum_interval_seconds=30,
           description="New .sql/.sql.gz files in the landing folder: stage them")
def landing_folder_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    files = new_landing_files(warehouse.landing, ledger(warehouse.path))
    if not files:
        return dg.SkipReason(f"nothing new in {warehouse.landing}")
    names = [str(p) for p in files]
    return dg.RunRequest(run_key="|".join(f"{p}:{p.stat().st_size}" for p in files), asset_selection=[landed_sources.key],
                         run_config={"ops": {"landed_sources": {"config": {"sources": names}}}})


@dg.sensor(job=JOBS["ingest"], minimum_interval_seconds=30,
           description="Partitions with staged, unassembled rows: assemble each")
def pending_partitions_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    keys = pending_partition_keys(warehouse.path)
    if not keys:
        return dg.SkipReason("no pending partitions")
    return [dg.RunRequest(run_key=f"{k}:{context.cursor or ''}", partition_key=k, asset_selection=TICK_KEYS)
            for k in keys]


nightly_mariadb = dg.ScheduleDefinition(
    name="nightly_mariadb", job=JOBS["nightly"], cron_schedule="30 18 * * 1-5", execution_timezone="Asia/Kolkata",
    description="After the close: read new rows from the recorder's MariaDB (incremental by high-water mark)")
