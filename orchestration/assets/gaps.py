"""Gap assets: feed gaps, the padded 1-second grids and coverage, per (date, underlying)."""
import dagster as dg
import pyarrow as pa

from expectations.suites import DEFAULT_COVERAGE_FLOOR
from ingest.contracts import INDEX_TABLES
from orchestration.partitions import parse_key, tick_partitions
from orchestration.resources import WarehouseResource
from transforms.gaps import gaps_table
from transforms.pad import coverage_rows, padded_grid
from warehouse import schema as S
from warehouse.catalog import write_catalog
from warehouse.version import code_version
from warehouse.writer import PartitionManifest, read_partition, write_partition

INDEX_SYMBOL = {u: t for t, u in INDEX_TABLES.items()}


class GapPolicy(dg.ConfigurableResource):
    """How long a silence is a gap, how long a quote may be carried forward, the coverage floor."""

    min_gap_s: int = 60
    max_pad_age_s: int = 300
    coverage_floor: float = DEFAULT_COVERAGE_FLOOR


def _write(root, table_name, keys, data, schema, run_id) -> None:
    manifest = PartitionManifest(table_name, {k: str(v) for k, v in keys.items()}, 0, run_id,
                                 code_version("transforms", "warehouse"))
    write_partition(root, table_name, keys, data, schema, manifest)


def _ticks(root, kind, underlying, day):
    return read_partition(root, kind, {"underlying": underlying, "date": day})


@dg.asset(group_name="gaps", partitions_def=tick_partitions, deps=["options_ticks", "futures_ticks", "spot_ticks"],
          description="Feed gaps per instrument-day: late_start, intraday, early_end, partial_day, missing_day.")
def gaps(context: dg.AssetExecutionContext, warehouse: WarehouseResource, gap_policy: GapPolicy) -> dg.MaterializeResult:
    day, underlying = parse_key(context)
    root = warehouse.path
    table = gaps_table(underlying, day, _ticks(root, "options", underlying, day), _ticks(root, "futures", underlying, day),
                       _ticks(root, "spot", underlying, day), INDEX_SYMBOL[underlying], gap_policy.min_gap_s)
    keys = {"underlying": underlying, "date": day}
    _write(root, "gaps", keys, table, S.GAPS, context.run.run_id)
    write_catalog(root)
    kinds = table.group_by("kind").aggregate([("seconds", "count"), ("seconds", "sum")]).to_pylist()
    return dg.MaterializeResult(metadata={
        "gaps": table.num_rows,
        "by_kind": dg.MetadataValue.md("\n".join(["| kind | gaps | seconds |", "|---|---|---|"] +
                                                 [f"| {k['kind']} | {k['seconds_count']} | {k['seconds_sum']} |" for k in kinds]))})


def _grid_asset(kind: str):
    name = f"{kind}_grid"
    schema = S.OPTION_GRID if kind == "options" else S.SPOT_GRID

    @dg.asset(name=name, group_name="gaps", partitions_def=tick_partitions, deps=[f"{kind}_ticks"],
              description=f"Padded 1-second grid of {kind} ticks (is_pad, pad_age_s), plus coverage per contract.")
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource, gap_policy: GapPolicy) -> dg.MaterializeResult:
        day, underlying = parse_key(context)
        root = warehouse.path
        keys = {"underlying": underlying, "date": day}
        ticks = _ticks(root, kind, underlying, day)
        if ticks is None:
            ticks = (S.OPTION_TICKS if kind == "options" else S.SPOT_TICKS).empty_table()
        grid = padded_grid(ticks, day, kind, gap_policy.max_pad_age_s)
        _write(root, name, keys, grid, schema, context.run.run_id)
        cov = [{**r, "underlying": underlying, "date": day} for r in coverage_rows(ticks, day, kind)]
        if kind == "options":
            _write(root, "coverage", keys, pa.Table.from_pylist(cov, schema=S.COVERAGE), S.COVERAGE, context.run.run_id)
        write_catalog(root)
        values = [c["coverage"] for c in cov]
        low = sorted((c for c in cov if c["coverage"] < gap_policy.coverage_floor), key=lambda c: c["coverage"])
        return dg.MaterializeResult(metadata={
            "rows": grid.num_rows, "contracts": len(cov),
            "pad_share": round(float(sum(grid["is_pad"].to_pylist()) / max(grid.num_rows, 1)), 4),
            "coverage_min": round(min(values), 4) if values else 0.0,
            "coverage_mean": round(sum(values) / len(values), 4) if values else 0.0,
            "below_floor": dg.MetadataValue.md("\n".join(["| symbol | coverage |", "|---|---|"] +
                                                        [f"| {c['symbol']} | {c['coverage']:.3f} |" for c in low[:30]]))})
    return _asset


options_grid = _grid_asset("options")
spot_grid = _grid_asset("spot")
GAP_ASSETS = [gaps, options_grid, spot_grid]
