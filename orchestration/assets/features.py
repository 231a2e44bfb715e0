"""Feature assets: features_options and features_spot per (date, underlying), computed once.

Each asset carries its column schema (`dagster/column_schema`) with the registry's descriptions, so
the UI documents every column, as the catalog's column comments do for SQL.
"""
import dagster as dg
import pyarrow as pa

from expectations.suites import SUITES
from expectations.validate import validate
from features import registry as R
from features.build import GRID_DICTIONARY, GRID_INPUTS, build_option_features
from features.chain import build_spot_features
from orchestration.assets.quality import check_result, suite_check
from orchestration.partitions import parse_key, tick_partitions
from orchestration.resources import WarehouseResource
from transforms.basket import basket
from warehouse.schema import FEATURES_OPTIONS, FEATURES_SPOT
from warehouse.version import code_version

FEATURES_VERSION = f"{code_version('features')}-{R.registry_version()}"


def _markdown_text(text: str) -> str | None:
    """A description as literal text in the UI's markdown (`bid*askq` must not turn italic)."""
    return text.replace("\\", "\\\\").replace("*", "\\*") or None


def column_schema(schema: pa.Schema) -> dg.TableSchema:
    """The Dagster column schema of an Arrow schema, with each field's "description" metadata."""
    return dg.TableSchema(columns=[
        dg.TableColumn(f.name, str(f.type), description=_markdown_text((f.metadata or {}).get(b"description", b"").decode()))
        for f in schema])


class FeatureSelection(dg.Config):
    features: list[str] = []   # empty = every registered feature


@dg.asset(group_name="features", partitions_def=tick_partitions, deps=["options_grid", "spot_grid"],
          code_version=FEATURES_VERSION, metadata={"dagster/column_schema": column_schema(FEATURES_OPTIONS)},
          check_specs=[suite_check("features_options", "features_options")],
          description="Per option contract per grid second: quote (mid, spread, microprice, imbalance), flow, trend "
                      "(EMAs, ROC, ATR), options (IV from mid and LTP, greeks, moneyness) and state features; "
                      "see the Columns list for each one's definition.")
def features_options(context: dg.AssetExecutionContext, config: FeatureSelection,
                     warehouse: WarehouseResource) -> dg.MaterializeResult:
    day, underlying = parse_key(context)
    keys = {"underlying": underlying, "date": day}
    grid = warehouse.read("options_grid", keys, columns=GRID_INPUTS, dictionary=GRID_DICTIONARY)
    feats = R.resolve(config.features or None)
    schema = R.schema(feats)
    table = build_option_features(grid, warehouse.read("spot_grid", keys), day, [f.name for f in feats]) \
        if grid is not None else schema.empty_table()
    warehouse.write("features_options", keys, table, schema, context.run.run_id, FEATURES_VERSION,
                    {"features": [f.name for f in feats], "registry_version": R.registry_version(feats)})
    outcome = validate("features_options", SUITES["features_options"].frame(table, day))
    return dg.MaterializeResult(metadata={"dagster/row_count": dg.MetadataValue.int(table.num_rows),
                                          "features": len(feats), "registry_version": R.registry_version(feats)},
                                check_results=[check_result(outcome)])


@dg.asset(group_name="features", partitions_def=tick_partitions, deps=["spot_grid", "futures_ticks", features_options],
          code_version=FEATURES_VERSION, metadata={"dagster/column_schema": column_schema(FEATURES_SPOT)},
          description="Per underlying per second: returns, realised vol, futures basis, ATM IV, 25-delta skew, "
                      "ATM straddle, put/call OI ratio; the bank basket's return, beta and divergence (C-20).")
def features_spot(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    day, underlying = parse_key(context)
    keys = {"underlying": underlying, "date": day}
    spot = warehouse.read("spot_grid", keys)
    stocks = {s: warehouse.read("equity", {"underlying": s, "date": day}, columns=["ts", "price"])
              for s, _ in basket(underlying)}          # C-20's bank basket (equity_ticks partitions)
    table = build_spot_features(underlying, day, spot, warehouse.read("futures", keys),
                                warehouse.read("features_options", keys), stocks) if spot is not None \
        else FEATURES_SPOT.empty_table()
    warehouse.write("features_spot", keys, table, FEATURES_SPOT, context.run.run_id, FEATURES_VERSION)
    return dg.MaterializeResult(metadata={"dagster/row_count": dg.MetadataValue.int(table.num_rows)})


FEATURE_ASSETS = [features_options, features_spot]
