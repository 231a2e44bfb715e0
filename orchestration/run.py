"""In-process materialisation (`ticklake materialize`, the demo): the same assets the UI runs,
recorded in the warehouse's Dagster instance so the UI shows them afterwards."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import dagster as dg

from orchestration.instance import dagster_home

GROUP_ORDER = ("ingest", "gaps", "quality", "features", "backtests", "audits")


def _instance(root: Path) -> dg.DagsterInstance:
    os.environ["DAGSTER_HOME"] = str(dagster_home(root))
    os.environ["TICKLAKE_WAREHOUSE"] = str(root)
    return dg.DagsterInstance.get()


def _say(quiet: bool, msg: str) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _run(assets, instance, resources, quiet: bool, run_config: dict | None = None, **kw) -> dg.ExecuteInProcessResult:
    """One in-process run; Dagster's own console logging kept to warnings (progress is ours)."""
    config = {**QUIET_LOGS, **(run_config or {})}
    result = dg.materialize(assets, instance=instance, resources=resources, raise_on_error=True, run_config=config, **kw)
    failed = [c for c in result.get_asset_check_evaluations()
              if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    if failed:
        names = ", ".join(f"{c.asset_key.to_user_string()}:{c.check_name}" for c in failed)
        raise RuntimeError(f"asset checks failed: {names}")
    return result


def _known_partitions(instance: dg.DagsterInstance) -> list[str]:
    """Every (date, underlying) key over the dates staging has seen."""
    from orchestration.partitions import tick_partitions

    return list(tick_partitions.get_partition_keys(dynamic_partitions_store=instance))


def materialize_groups(root: Path, groups: list[str] | None = None, partitions: list[str] | None = None,
                       quiet: bool = False, run_config: dict | None = None) -> str:
    """Materialise the asset groups in dependency order; partitioned groups over every known
    partition (ingest: the partitions with pending rows) unless `partitions` is given."""
    from orchestration.assets.backtests import BACKTEST_ASSETS, backtest_summary
    from orchestration.assets.features import FEATURE_ASSETS
    from orchestration.assets.gaps import GAP_ASSETS
    from orchestration.assets.ingest import TICK_ASSETS, landed_sources, pending_partition_keys
    from orchestration.assets.quality import QUALITY_ASSETS
    from orchestration.definitions import RESOURCES

    instance = _instance(root)
    wanted = [g for g in GROUP_ORDER if not groups or g in groups]
    unknown = set(groups or []) - set(GROUP_ORDER)
    if unknown:
        raise ValueError(f"unknown asset group(s): {', '.join(sorted(unknown))}; known: {', '.join(GROUP_ORDER)}")
    lines = []
    t0 = time.perf_counter()
    if "ingest" in wanted:
        _say(quiet, "materialize: landed_sources")
        _run([landed_sources], instance, RESOURCES, quiet, run_config=run_config)
        keys = partitions or [str(k) for k in pending_partition_keys(root)]
        for i, key in enumerate(keys):
            _say(quiet, f"materialize: ingest partition {key} ({i + 1}/{len(keys)})")
            _run(TICK_ASSETS, instance, RESOURCES, quiet, partition_key=key)
        lines.append(f"ingest: {len(keys)} partitions")
    for group, assets in (("gaps", GAP_ASSETS), ("quality", QUALITY_ASSETS), ("features", FEATURE_ASSETS), ("backtests", BACKTEST_ASSETS)):
        if group not in wanted:
            continue
        keys = partitions or _known_partitions(instance)
        for i, key in enumerate(keys):
            _say(quiet, f"materialize: {group} partition {key} ({i + 1}/{len(keys)})")
            _run(assets, instance, RESOURCES, quiet, partition_key=key)
        lines.append(f"{group}: {len(keys)} partitions")
    if "backtests" in wanted:
        _run([backtest_summary], instance, RESOURCES, quiet)
    if "audits" in wanted:
        from orchestration.assets.audits import AUDIT_ASSETS
        _say(quiet, "materialize: audits (every backtest run)")
        _run(AUDIT_ASSETS, instance, RESOURCES, quiet)
        lines.append("audits: every backtest run")
    lines.append(f"materialized in {time.perf_counter() - t0:,.1f}s; Dagster home {dagster_home(root)}")
    return "\n".join(lines)
