"""Quality assets: Great Expectations suites as asset checks on every (date, underlying) partition.

A check's severity comes from its failed expectations (declared in expectations.suites): thin
coverage is a warning, everything else an error, the same as `ticklake quality` prints them.
"""
import dagster as dg

from expectations.docs import heatmap_path
from expectations.heatmap import save_heatmap
from expectations.suites import SUITES
from expectations.validate import SuiteOutcome, validate
from orchestration.assets.gaps import GapPolicy
from orchestration.partitions import parse_key, tick_partitions
from orchestration.resources import WarehouseResource

TICK_SUITES = ("options_ticks", "futures_ticks", "spot_ticks", "coverage")


def check_result(outcome: SuiteOutcome, asset: str | None = None) -> dg.AssetCheckResult:
    """An asset check result listing every expectation with failing-row examples; WARN when only
    warning-severity expectations failed."""
    severity = dg.AssetCheckSeverity.ERROR if outcome.errors or outcome.success else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        check_name=f"{outcome.suite}_expectations", asset_key=asset, passed=outcome.success, severity=severity,
        metadata={"dagster/row_count": dg.MetadataValue.int(outcome.rows), "failed": dg.MetadataValue.json(outcome.failed),
                  "expectations": dg.MetadataValue.md(outcome.markdown())})


def suite_check(asset: str, suite: str) -> dg.AssetCheckSpec:
    """The asset check of one suite, per partition."""
    return dg.AssetCheckSpec(f"{suite}_expectations", asset=asset, partitions_def=tick_partitions,
                             description=f"Great Expectations suite `{suite}` on this partition")


@dg.asset(group_name="quality", partitions_def=tick_partitions,
          deps=["options_ticks", "futures_ticks", "spot_ticks", "options_grid"],
          check_specs=[suite_check("tick_quality", s) for s in TICK_SUITES],
          description="Expectation suites over the partition's option, futures and spot ticks and its coverage "
                      "(failing checks listed with example rows; thin coverage is a warning), and its coverage "
                      "heatmap (PNG beside the Data Docs).")
def tick_quality(context: dg.AssetExecutionContext, warehouse: WarehouseResource, gap_policy: GapPolicy):
    day, underlying = parse_key(context)
    keys = {"underlying": underlying, "date": day}
    params = {"coverage_floor": gap_policy.coverage_floor}
    results, failed = [], {}
    for name in TICK_SUITES:
        table = warehouse.read(SUITES[name].table, keys)
        if table is None:
            results.append(dg.AssetCheckResult(check_name=f"{name}_expectations", passed=True,
                                               metadata={"dagster/row_count": 0}))
            continue
        outcome = validate(name, SUITES[name].frame(table, day), params)
        failed[name] = outcome.failed
        results.append(check_result(outcome))
    ticks = warehouse.read("options", keys)
    png = save_heatmap(ticks, day, f"{underlying} {day}", heatmap_path(warehouse.path, f"{underlying}/{day}")) \
        if ticks is not None else None
    metadata = {"failed": dg.MetadataValue.json(failed)}
    if png:
        metadata["coverage_heatmap"] = dg.MetadataValue.path(str(png))
    return dg.MaterializeResult(metadata=metadata, check_results=results)


QUALITY_ASSETS = [tick_quality]
