"""Feature assets: features_options and features_spot per (date, underlying), computed once."""
import dagster as dg

from features import registry as R
from features.build import GRID_DICTIONARY, GRID_INPUTS, build_option_features
from features.chain import build_spot_features
from expectations.suites import SUITES
from expectations.validate import validate
from orchestration.assets.quality import check_result
from orchestration.partitions import parse_key, tick_partitions
from orchestration.resources import WarehouseResource
from warehouse.catalog import write_catalog
from warehouse.schema import FEATURES_SPOT
from warehouse.version import code_version
from warehouse.writer import PartitionManifest, read_partition, write_partition

FEATURES_VERSION = f"{code_version('features')}-{R.registry_version()}"


class FeatureSelection(dg.Config):
    features: list[str] = []   # empty = every registered feature


def _write(root, name, keys, table, schema, run_id, extra):
    m = PartitionManifest(name, {k: str(v) for k, v in keys.items()}, 0, run_id, FEATURES_VERSION, extra=extra)
    write_partition(root, name, keys, table, schema, m)


@dg.asset(group_name="features", partitions_def=tick_partitions, deps=["options_grid", "spot_grid"],
          code_version=FEATURES_VERSION,
          check_specs=[dg.AssetCheckSpec("features_options_expectations", asset="features_options",
                                         description="Great Expectations suite `features_options` on this partition")],
          description="Per contract per grid second: quote, flow, trend, options (IV/greeks) and state features.")
def features_options(context: dg.AssetExecutionContext, config: FeatureSelection,
                     warehouse: WarehouseResource) -> dg.MaterializeResult:
    day, underlying = parse_key(context)
    root, keys = warehouse.path, {"underlying": underlying, "date": day}
    grid = read_partition(root, "options_grid", keys, columns=GRID_INPUTS, dictionary=GRID_DICTIONARY)
    spot = read_partition(root, "spot_grid", keys)
    feats = R.resolve(config.features or None)
    table = build_option_features(grid, spot, day, [f.name for f in feats]) if grid is not None \
        else R.schema(feats).empty_table()
    _write(root, "features_options", keys, table, R.schema(feats), context.run.run_id,
           {"features": [f.name for f in feats], "registry_version": R.registry_version(feats)})
    write_catalog(root)
    outcome = validate("features_options", SUITES["features_options"].frame(table, day))
    return dg.MaterializeResult(metadata={"rows": table.num_rows, "features": len(feats),
                                          "registry_version": R.registry_version(feats)},
                                check_results=[check_result(outcome)])


@dg.asset(group_name="features", partitions_def=tick_partitions, deps=["spot_grid", "futures_ticks", features_options],
          code_version=FEATURES_VERSION,
          description="Per underlying per second: returns, realised vol, basis, ATM IV, 25-delta skew, straddle, PCR.")
def features_spot(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    day, underlying = parse_key(context)
    root, keys = warehouse.path, {"underlying": underlying, "date": day}
    spot = read_partition(root, "spot_grid", keys)
    table = build_spot_features(underlying, day, spot, read_partition(root, "futures", keys),
                                read_partition(root, "features_options", keys)) if spot is not None \
        else FEATURES_SPOT.empty_table()
    _write(root, "features_spot", keys, table, FEATURES_SPOT, context.run.run_id, {})
    write_catalog(root)
    return dg.MaterializeResult(metadata={"rows": table.num_rows})


FEATURE_ASSETS = [features_options, features_spot]
