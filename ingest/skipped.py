"""Tables a run did not read (ingest.route.Skip): listed once per run with the reason, in the
`ingest_skipped` table and the run's report; never quarantined, never counted as source rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from warehouse import schema as S
from warehouse.version import code_version
from warehouse.writer import PartitionManifest, write_partition


@dataclass
class Skipped:
    """Per table: the reason and the rows seen (0 when the table was not read at all)."""

    tables: dict[str, list] = field(default_factory=dict)

    def add(self, table: str, reason: str, rows: int = 0) -> None:
        entry = self.tables.setdefault(table, [reason, 0])
        entry[1] += rows

    def rows(self) -> list[dict]:
        return [{"table_name": t, "reason": r, "rows": n} for t, (r, n) in sorted(self.tables.items())]


def run_of(stage_id: str) -> str:
    """The run id of a stage id '<run>-sNNN[...]' (the convention of ingest.pipeline)."""
    return stage_id.rsplit("-s", 1)[0]


def record_skipped(root: Path, stage_id: str, source: str, skipped: Skipped) -> None:
    """One ingest_skipped partition per stage (replaced if the stage runs again)."""
    if not skipped.tables:
        return
    run_id = run_of(stage_id)
    rows = [{"run_id": run_id, "source": source, **r} for r in skipped.rows()]
    part = stage_id[len(run_id) + 1:] or "s"
    version = code_version("ingest", "transforms", "warehouse")
    write_partition(root, "ingest_skipped", {"run_id": run_id, "part": part}, pa.Table.from_pylist(rows),
                    S.INGEST_SKIPPED, PartitionManifest("ingest_skipped", {"run_id": run_id}, 0, run_id, version))


def summary_lines(results) -> list[str]:
    """What a run read and skipped, for the run's report: `read DB: N tables` per database of a
    live source, then one line per skipped table with the reason."""
    out = []
    for r in results:
        tables = r.extra.get("tables")
        if isinstance(tables, dict):
            out.append("read " + ", ".join(f"{db}: {n} table{'s' if n != 1 else ''}" for db, n in tables.items())
                       + f" ({r.source})")
        for x in r.extra.get("skipped", ()):
            out.append(f"skipped {x['table_name']}: {x['reason']}" + (f" ({x['rows']:,} rows)" if x["rows"] else ""))
    return out
