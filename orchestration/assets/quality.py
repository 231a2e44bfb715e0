"""Quality assets: Great Expectations suites as asset checks on every (date, underlying) partition."""
import dagster as dg

from expectations.docs import heatmap_path
from expectations.heatmap import save_heatmap
from expectations.suites import SUITES
from expectations.validate import SuiteOutcome, validate
from orchestration.assets.gaps import GapPolicy
from orchestration.partitions import parse_key, tick_partitions
from orchestration.resources import WarehouseResource
from warehouse.writer import read_partition

# suite -> severity of a failure: thin coverage is a warning (the data is real, just sparse)
TICK_SUITES = {"options_ticks": dg.AssetCheckSeverity.ERROR, "futures_ticks": dg.AssetCheckSeverity.ERROR,
               "spot_ticks": dg.AssetCheckSeverity.ERROR, "coverage": dg.AssetCheckSeverity.WARN}


def check_result(outcome: SuiteOutcome, severity=dg.AssetCheckSeverity.ERROR, asset: str | None = None) -> dg.AssetCheckResult:
    """An asset check result whose metadata lists every expectation with failing-row examples."""
    return dg.AssetCheckResult(
        check_name=f"{outcome.suite}_expectations", asset_key=asset, passed=outcome.success, severity=severity,
        metadata={"rows": outcome.rows, "failed": dg.MetadataValue.json(outcome.failed),
                  "expectations": dg.MetadataValue.md(outcome.markdown())})


def validate_partition(root, suite_name: str, keys: dict, params: dict) -> SuiteOutcome | None:
    suite = SUITES[suite_name]
    table = read_partition(root, suite.table, keys)
    return None if table is None else validate(suite_name, suite.frame(table, keys["date"]), params)


@dg.asset(group_name="quality", partitions_def=tick_partitions,
          deps=["options_ticks", "futures_ticks", "spot_ticks", "options_grid"],
          check_specs=[dg.AssetCheckSpec(f"{s}_expectations", asset="tick_quality",
                                         description=f"Great Expectations suite `{s}` on this partition")
                       for s in TICK_SUITES],
          description="Expectation suites over the partition's ticks and coverage, and its coverage heatmap (PNG).")
def tick_quality(context: dg.AssetExecutionContext, warehouse: WarehouseResource, gap_policy: GapPolicy):
    day, underlying = parse_key(context)
    root, keys = warehouse.path, {"underlying": underlying, "date": day}
    params = {"coverage_floor": gap_policy.coverage_floor}
    results, failed = [], {}
    for name, severity in TICK_SUITES.items():
        outcome = validate_partition(root, name, keys, params)
        if outcome is None:
            results.append(dg.AssetCheckResult(check_name=f"{name}_expectations", passed=True, metadata={"rows": 0}))
            continue
        failed[name] = outcome.failed
        results.append(check_result(outcome, severity))
    ticks = read_partition(root, "options", keys)
    png = save_heatmap(ticks, day, f"{underlying} {day}", heatmap_path(root, f"{underlying}/{day}")) \
        if ticks is not None else None
    metadata = {"failed": dg.MetadataValue.json(failed)}
    if png:
        metadata["coverage_heatmap"] = dg.MetadataValue.path(str(png))
    return dg.MaterializeResult(metadata=metadata, check_results=results)


QUALITY_ASSETS = [tick_quality]
