"""Auditing stored runs (the I/O around backtest.audit): replay each run, store its findings in
`audit_findings`. The audit asset and `ticklake audit` / `ticklake report` call these."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from backtest.audit import audit_stored_run
from warehouse import schema as S
from warehouse.catalog import connect, write_catalog
from warehouse.version import code_version
from warehouse.writer import PartitionManifest, write_partition


def audit_runs(root: Path, run_ids: list[str] | None = None, run_tag: str = "cli",
               sample_per_day: int | None = None) -> list[tuple[dict, int, pa.Table]]:
    """(run row, audited trade legs, findings) per run; findings are written to `audit_findings`
    (the manifest says when only a sample of each day's trades was audited)."""
    con = connect(root)     # one connection for every run: opening one installs every view (a scan of the folders)
    if run_ids is None:
        run_ids = [r[0] for r in con.sql("select run_id from backtest_runs order by 1").fetchall()]
    out = []
    for run_id in run_ids:
        row, inp, findings = audit_stored_run(root, run_id, sample_per_day, con)
        manifest = PartitionManifest("audit_findings", {"run_id": run_id}, 0, run_tag, code_version("backtest"),
                                     extra={"sampled_trades_per_day": sample_per_day})
        write_partition(root, "audit_findings", {"run_id": run_id}, findings, S.AUDIT_FINDINGS, manifest)
        out.append((row, inp.legs.num_rows, findings))
    con.close()
    write_catalog(root)
    return out


def errors_of(findings: pa.Table) -> int:
    return sum(1 for s in findings["severity"].to_pylist() if s == "error")
