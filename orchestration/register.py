"""What the warehouse holds, mirrored into its Dagster instance: the warehouse is the truth.

Every stored (date, underlying) becomes a partition, and every stored tick partition that the
instance has not seen (or that an ingest just rewrote) gets a materialisation of `<kind>_ticks`
with its rows and reconciliation totals. So whichever route wrote the
partition (CLI files, CLI MariaDB, the landing sensor, the nightly schedule, Python), the UI shows it
and `ticklake materialize` builds it.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import dagster as dg

from orchestration.instance import instance_for
from orchestration.partitions import TICK_KINDS, Pair, key_of, register_dates, stored_tick_partitions
from orchestration.resources import WarehouseResource
from warehouse.catalog import connect

RECORDED_BY = "ticklake ingest (outside a Dagster run)"
RECONCILES = "source_rows == written + deduped + quarantined, per source"


def ingest_metadata(runs: list[dict], rows: int) -> dict:
    """Materialisation metadata of a tick partition: stored rows and the reconciliation totals."""
    totals = {k: sum(r[k] for r in runs) for k in ("source_rows", "written", "deduped", "quarantined")}
    return {"dagster/row_count": dg.MetadataValue.int(rows), **totals,
            "sources": dg.MetadataValue.json(sorted({r["source"] for r in runs}))}


def reconcile_mismatches(runs: list[dict]) -> list[dict]:
    return [r for r in runs if r["source_rows"] != r["written"] + r["deduped"] + r["quarantined"]]


def _ingest_runs(root: Path) -> dict[tuple[str, str], list[dict]]:
    """ingest_runs rows per (kind, 'UNDERLYING/YYYY-MM-DD')."""
    con = connect(root)
    try:
        rel = con.sql("select target, partition, source, source_rows, written, deduped, quarantined from ingest_runs")
        cols = rel.columns
        out = defaultdict(list)
        for row in rel.fetchall():
            r = dict(zip(cols, row))
            out[(r["target"], r["partition"])].append(r)
        return out
    finally:
        con.close()


def _written(runs: list[dict] | None) -> set[tuple[str, dt.date, str]]:
    out = set()
    for r in runs or []:
        underlying, _, day = str(r.get("partition", "")).partition("/")
        try:
            out.add((r["target"], dt.date.fromisoformat(day), underlying))
        except (KeyError, ValueError):
            continue               # unplaced rows, crypto symbols: no tick partition
    return out


def mirror_ingest(root: Path, runs: list[dict] | None = None, instance: dg.DagsterInstance | None = None) -> list[Pair]:
    """Register the warehouse's partitions in its Dagster instance (see the module docstring);
    `runs` are the ingest_runs rows of an ingest that just ran (their partitions are re-recorded).
    Returns every stored (date, underlying)."""
    instance = instance or instance_for(root)
    stored = stored_tick_partitions(root)
    register_dates(instance, {d for _, d, _ in stored})
    rewritten = _written(runs)
    history = None
    warehouse = WarehouseResource(root=str(root))
    for kind in TICK_KINDS:
        asset = dg.AssetKey(f"{kind}_ticks")
        seen = instance.get_materialized_partitions(asset)
        for k, day, underlying in stored:
            key = str(key_of(day, underlying))
            if k != kind or (key in seen and (kind, day, underlying) not in rewritten):
                continue
            history = _ingest_runs(root) if history is None else history
            mine = history.get((kind, f"{underlying}/{day.isoformat()}"), [])
            rows = warehouse.rows(kind, {"underlying": underlying, "date": day})
            # (no runless `reconciles` check result: Dagster stores one per partition outside a run and
            # could not replace it after a re-ingest; the totals are this materialisation's metadata)
            instance.report_runless_asset_event(dg.AssetMaterialization(
                asset_key=asset, partition=key, description=RECORDED_BY,
                metadata={**ingest_metadata(mine, rows), "recorded_by": RECORDED_BY,
                          "reconciles": not reconcile_mismatches(mine)}))
    return sorted({(d, u) for _, d, u in stored})
