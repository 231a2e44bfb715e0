"""Ingest assets: stage what landed (or the recorder's MariaDB), then assemble each (date, underlying)
partition."""

import time
from pathlib import Path

import dagster as dg

from ingest import staging
from ingest.finalize import finalize_partition
from ingest.pipeline import new_run_id, stage_source
from orchestration.partitions import TICK_KINDS, key_of, parse_key, register_dates, tick_partitions
from orchestration.register import RECONCILES, ingest_metadata, reconcile_mismatches
from orchestration.resources import MariaDBResource, WarehouseResource
from transforms.expiry import UNDERLYINGS
from warehouse.files import atomic_write_json, read_json

SOURCE_SUFFIXES = (".sql", ".sql.gz")
LEDGER = "ingest_ledger.json"


class LandedSourcesConfig(dg.Config):
    sources: list[str] = []      # explicit files / URLs; empty = every new file in the landing folder
    include_mariadb: bool = False  # also read new rows from the MariaDB resource


def ledger(root: Path) -> dict[str, str]:
    return read_json(root / LEDGER, {})


def new_landing_files(landing: Path, seen: dict[str, str]) -> list[Path]:
    """Files in the landing folder not yet ingested (by path and size+mtime signature)."""
    if not landing.exists():
        return []
    files = sorted(p for p in landing.iterdir() if p.name.endswith(SOURCE_SUFFIXES) and p.is_file())
    return [p for p in files if seen.get(str(p)) != _signature(p)]


def _signature(p: Path) -> str:
    st = p.stat()
    return f"{st.st_size}:{int(st.st_mtime)}"


@dg.asset(group_name="ingest",
          description="Parse newly landed recorder dumps (`<warehouse>/landing`, or $TICKLAKE_LANDING) and, on the "
                      "nightly schedule, new MariaDB rows into the pending area; registers their trading dates.")
def landed_sources(context: dg.AssetExecutionContext, config: LandedSourcesConfig,
                   warehouse: WarehouseResource, mariadb: MariaDBResource) -> dg.MaterializeResult:
    root = warehouse.path
    seen = ledger(root)
    specs = list(config.sources) or [str(p) for p in new_landing_files(warehouse.landing, seen)]
    if config.include_mariadb and mariadb.get_url():
        specs.append(mariadb.get_url())
    run_id = new_run_id()
    t0, rows, size, dates = time.perf_counter(), 0, 0, set()
    for i, spec in enumerate(specs):
        result = stage_source(spec, root, run_id, i)
        rows, size = rows + result.rows_in, size + result.bytes_in
        dates |= {k[2] for k in result.keys if k[2] is not None}
        if Path(spec).exists():
            seen[spec] = _signature(Path(spec))
        context.log.info(f"staged {result.source}: {result.rows_in:,} rows in {result.seconds:.1f}s")
    register_dates(context.instance, dates)
    # rows that belong to no partition (unknown tables, unplaceable timestamps) are recorded now, and so
    # are keys outside the (date x underlying) tick partitions: stocks, indices other than UNDERLYINGS
    unplaced = [k for k in staging.pending_keys(staging.pending_root(root)) if not _tick_partition(k)]
    quarantined = sum(r["quarantined"] for k in unplaced for r in finalize_partition(root, k))
    warehouse.wrote()
    atomic_write_json(root / LEDGER, seen)
    el = max(time.perf_counter() - t0, 1e-9)
    return dg.MaterializeResult(metadata={
        "sources": len(specs), "source_rows": rows, "unplaced_quarantined": quarantined,
        "dates": dg.MetadataValue.json(sorted(d.isoformat() for d in dates)),
        "rows_per_s": round(rows / el), "mb_per_s": round(size / el / 1e6, 2)})


def _tick_asset(kind: str, description: str):
    @dg.asset(name=f"{kind}_ticks", group_name="ingest", partitions_def=tick_partitions, deps=[landed_sources],
              description=description,
              check_specs=[dg.AssetCheckSpec("reconciles", asset=f"{kind}_ticks", description=RECONCILES,
                                             partitions_def=tick_partitions)])
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        day, underlying = parse_key(context)
        t0 = time.perf_counter()
        runs = finalize_partition(warehouse.path, (kind, underlying, day))
        if runs:
            warehouse.wrote()
        el = max(time.perf_counter() - t0, 1e-9)
        bad = reconcile_mismatches(runs)
        rows = warehouse.rows(kind, {"underlying": underlying, "date": day})
        return dg.MaterializeResult(
            metadata={**ingest_metadata(runs, rows), "rows_per_s": round(sum(r["source_rows"] for r in runs) / el)},
            check_results=[dg.AssetCheckResult(check_name="reconciles", passed=not bad,
                                               metadata={"mismatches": dg.MetadataValue.json(bad[:20])})])
    return _asset


DESCRIPTIONS = {
    "options": "1-second option snapshots with 5-level depth, one file per (date, underlying): deduplicated "
               "(last row of a second wins), 1970 stamps repaired, zero prices and empty levels null, "
               "reset-aware vol_delta.",
    "futures": "Index futures snapshots per (date, underlying), same cleaning as the options.",
    "spot": "The index (spot) 1-second series per (date, underlying).",
}
TICK_ASSETS = [_tick_asset(kind, DESCRIPTIONS[kind]) for kind in TICK_KINDS]


def _tick_partition(key: staging.PartKey) -> bool:
    return key[2] is not None and key[0] in TICK_KINDS and key[1] in UNDERLYINGS


def pending_partition_keys(root: Path) -> list[dg.MultiPartitionKey]:
    """Partitions with staged, not yet assembled tick rows."""
    keys = staging.pending_keys(staging.pending_root(root))
    return sorted({key_of(k[2], k[1]) for k in keys if _tick_partition(k)}, key=str)
