"""Auditing stored runs (the I/O around backtest.audit): replay each run, store its findings in
`audit_findings`. The audit asset and `ticklake audit` / `ticklake report` call these."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from backtest.audit import audit_stored_run
from backtest.audit.batch import audit_many
from warehouse import schema as S
from warehouse.catalog import connect, write_catalog
from warehouse.version import code_version
from warehouse.writer import PartitionManifest, write_partition


def audit_runs(root: Path, run_ids: list[str] | None = None, run_tag: str = "cli",
               sample_per_day: int | None = None, progress=None,
               batched: bool = True) -> list[tuple[dict, int, pa.Table]]:
    """(run row, audited trade legs, findings) per run, in run order; findings are written to
    `audit_findings` (the manifest says when only a sample of each day's trades was audited).
    Batched (backtest.audit.batch): each day's market read once for all its runs; else one run at a
    time (audit_stored_run, the reference the batched path is held to). `progress` gets the runs
    done and the legs replayed."""
    con = connect(root)     # one connection for every run: opening one installs every view (a scan of the folders)
    con.execute("SET parquet_metadata_cache = true")    # the same files' footers are read for every run
    if run_ids is None:
        run_ids = [r[0] for r in con.sql("select run_id from backtest_runs order by 1").fetchall()]
    audited = audit_many(con, run_ids, sample_per_day) if batched else \
        (audit_stored_run(root, run_id, sample_per_day, con) for run_id in run_ids)
    out, legs = [], 0
    for run_id, (row, inp, findings) in zip(run_ids, audited):
        manifest = PartitionManifest("audit_findings", {"run_id": run_id}, 0, run_tag, code_version("backtest"),
                                     extra={"sampled_trades_per_day": sample_per_day})
        write_partition(root, "audit_findings", {"run_id": run_id}, findings, S.AUDIT_FINDINGS, manifest)
        out.append((row, inp.legs.num_rows, findings))
        legs += inp.legs.num_rows
        if progress:
            progress({"files_done": len(out), "files_total": len(run_ids), "rows": legs, "source": run_id})
    con.close()
    write_catalog(root)
    return out


def errors_of(findings: pa.Table) -> int:
    return sum(1 for s in findings["severity"].to_pylist() if s == "error")
