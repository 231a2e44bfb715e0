"""Gap assets: feed gaps, the padded 1-second grids and coverage, per (date, underlying)."""
import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from expectations.suites import DEFAULT_COVERAGE_FLOOR
from ingest.contracts import INDEX_TABLES
from orchestration.partitions import parse_key, tick_partitions
from orchestration.resources import WarehouseResource
from transforms.gaps import gaps_table
from transforms.pad import coverage_rows, padded_grid
from warehouse import schema as S
from warehouse.version import code_version

INDEX_SYMBOL = {u: t for t, u in INDEX_TABLES.items()}
GAPS_VERSION = code_version("transforms", "warehouse")


class GapPolicy(dg.ConfigurableResource):
    """How long a silence is a gap, how long a quote may be carried forward, the coverage floor."""

    min_gap_s: int = 60
    max_pad_age_s: int = 300
    coverage_floor: float = DEFAULT_COVERAGE_FLOOR


def _md_table(header: list[str], rows: list[list]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return dg.MetadataValue.md("\n".join(lines + ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]))


@dg.asset(group_name="gaps", partitions_def=tick_partitions, deps=["options_ticks", "futures_ticks", "spot_ticks"],
          description="The `gaps` table: feed gaps per instrument-day (silences of at least `min_gap_s`): late_start, intraday, "
                      "early_end, partial_day, missing_day; gap_start/gap_end are the real ticks around each.")
def feed_gaps(context: dg.AssetExecutionContext, warehouse: WarehouseResource, gap_policy: GapPolicy) -> dg.MaterializeResult:
    day, underlying = parse_key(context)
    keys = {"underlying": underlying, "date": day}
    table = gaps_table(underlying, day, warehouse.read("options", keys), warehouse.read("futures", keys),
                       warehouse.read("spot", keys), INDEX_SYMBOL[underlying], gap_policy.min_gap_s)
    warehouse.write("gaps", keys, table, S.GAPS, context.run.run_id, GAPS_VERSION)
    kinds = table.group_by("kind").aggregate([("seconds", "count"), ("seconds", "sum")]).sort_by("kind").to_pylist()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": dg.MetadataValue.int(table.num_rows), "gaps": table.num_rows,
        "gap_seconds": int(pc.sum(table["seconds"]).as_py() or 0),
        "by_kind": _md_table(["kind", "gaps", "seconds"],
                             [[k["kind"], k["seconds_count"], k["seconds_sum"]] for k in kinds])})


def _grid_asset(kind: str):
    name = f"{kind}_grid"
    schema = S.OPTION_GRID if kind == "options" else S.SPOT_GRID
    empty = S.OPTION_TICKS if kind == "options" else S.SPOT_TICKS
    what = "every option contract" if kind == "options" else "the index"

    @dg.asset(name=name, group_name="gaps", partitions_def=tick_partitions, deps=[f"{kind}_ticks"],
              description=f"Padded 1-second grid of {what} over the session: the last quote carried forward at "
                          f"most `max_pad_age_s` (is_pad, pad_age_s)"
                          + (", plus each contract's coverage (share of seconds with a real row)."
                             if kind == "options" else "."))
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource, gap_policy: GapPolicy) -> dg.MaterializeResult:
        day, underlying = parse_key(context)
        keys = {"underlying": underlying, "date": day}
        ticks = warehouse.read(kind, keys)
        ticks = empty.empty_table() if ticks is None else ticks
        grid = padded_grid(ticks, day, kind, gap_policy.max_pad_age_s)
        run_id = context.run.run_id
        warehouse.write(name, keys, grid, schema, run_id, GAPS_VERSION)
        cov = [{**r, "underlying": underlying, "date": day} for r in coverage_rows(ticks, day, kind)]
        if kind == "options":
            warehouse.write("coverage", keys, pa.Table.from_pylist(cov, schema=S.COVERAGE), S.COVERAGE, run_id,
                            GAPS_VERSION)
        values = [c["coverage"] for c in cov]
        low = sorted((c for c in cov if c["coverage"] < gap_policy.coverage_floor), key=lambda c: c["coverage"])
        pads = pc.sum(grid["is_pad"]).as_py() or 0
        return dg.MaterializeResult(metadata={
            "dagster/row_count": dg.MetadataValue.int(grid.num_rows), "contracts": len(cov),
            "pad_share": round(pads / max(grid.num_rows, 1), 4),
            "coverage_min": round(min(values), 4) if values else 0.0,
            "coverage_mean": round(sum(values) / len(values), 4) if values else 0.0,
            "below_floor": _md_table(["symbol", "coverage"], [[c["symbol"], f"{c['coverage']:.3f}"] for c in low[:30]])})
    return _asset


options_grid = _grid_asset("options")
spot_grid = _grid_asset("spot")
GAP_ASSETS = [feed_gaps, options_grid, spot_grid]
