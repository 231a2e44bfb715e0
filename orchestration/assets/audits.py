"""Audit assets: every stored backtest run replayed by the independent audit; findings stored."""
from pathlib import Path

import dagster as dg
import pyarrow as pa

from backtest.audit import audit_stored_run, summary
from orchestration.resources import WarehouseResource
from warehouse import schema as S
from warehouse.catalog import connect, write_catalog
from warehouse.version import code_version
from warehouse.writer import PartitionManifest, write_partition


def audit_runs(root: Path, run_ids: list[str] | None = None, run_tag: str = "cli",
               sample_per_day: int | None = None) -> list[tuple[dict, int, pa.Table]]:
    """(run row, audited trade legs, findings) per run; findings are written to `audit_findings`
    (the manifest says when only a sample of each day's trades was audited)."""
    if run_ids is None:
        run_ids = [r[0] for r in connect(root).sql("select run_id from backtest_runs order by 1").fetchall()]
    out = []
    for run_id in run_ids:
        row, inp, findings = audit_stored_run(root, run_id, sample_per_day)
        manifest = PartitionManifest("audit_findings", {"run_id": run_id}, 0, run_tag, code_version("backtest"),
                                     extra={"sampled_trades_per_day": sample_per_day})
        write_partition(root, "audit_findings", {"run_id": run_id}, findings, S.AUDIT_FINDINGS, manifest)
        out.append((row, inp.trades.num_rows, findings))
    write_catalog(root)
    return out


def errors_of(findings: pa.Table) -> int:
    return sum(1 for s in findings["severity"].to_pylist() if s == "error")


@dg.asset(group_name="audits", deps=["backtest_summary"],
          check_specs=[dg.AssetCheckSpec("audit_clean", asset="backtest_audit",
                                         description="no error-severity finding in any run")],
          description="Independent replay audit of every backtest run: audit_findings per run and check.")
def backtest_audit(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    audited = audit_runs(warehouse.path, run_tag=context.run.run_id)
    lines = ["| strategy | run | trades | findings |", "|---|---|---|---|"]
    for row, trades, findings in audited:
        detail = ", ".join(f"{c}/{s}: {n}" for c, s, n in summary(findings)) or "clean"
        lines.append(f"| {row['strategy']} | {row['run_id'][:12]} | {trades} | {detail} |")
    errors = sum(errors_of(f) for _, _, f in audited)
    return dg.MaterializeResult(
        metadata={"runs": len(audited), "error_findings": errors, "audit": dg.MetadataValue.md("\n".join(lines))},
        check_results=[dg.AssetCheckResult(check_name="audit_clean", passed=errors == 0,
                                           metadata={"error_findings": errors})])


AUDIT_ASSETS = [backtest_audit]
