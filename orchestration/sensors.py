"""Sensors and schedules: landing folder -> staging run; committed pending keys -> partition runs;
nightly MariaDB pull."""

import dagster as dg

from orchestration.assets.ingest import TICK_ASSETS, ledger, new_landing_files, pending_partition_keys
from orchestration.resources import WarehouseResource

stage_job = dg.define_asset_job("stage_landed_sources", selection=["landed_sources"])
ticks_job = dg.define_asset_job("assemble_tick_partitions", selection=[a.key for a in TICK_ASSETS])


@dg.sensor(job=stage_job, minimum_interval_seconds=30, description="New .sql/.sql.gz files in the landing folder")
def landing_folder_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    files = new_landing_files(warehouse.landing, ledger(warehouse.path))
    if not files:
        return dg.SkipReason(f"nothing new in {warehouse.landing}")
    names = [str(p) for p in files]
    return dg.RunRequest(run_key="|".join(f"{p}:{p.stat().st_size}" for p in files),
                         run_config={"ops": {"landed_sources": {"config": {"sources": names}}}})


@dg.sensor(job=ticks_job, minimum_interval_seconds=30, description="Partitions with staged, unassembled rows")
def pending_partitions_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    keys = pending_partition_keys(warehouse.path)
    if not keys:
        return dg.SkipReason("no pending partitions")
    return [dg.RunRequest(run_key=f"{k}:{context.cursor or ''}", partition_key=k) for k in keys]


nightly_mariadb = dg.ScheduleDefinition(
    name="nightly_mariadb", job=stage_job, cron_schedule="30 18 * * 1-5", execution_timezone="Asia/Kolkata",
    run_config={"ops": {"landed_sources": {"config": {"include_mariadb": True}}}},
    description="After the close: read new rows from the recorder's MariaDB (incremental by high-water mark)")
