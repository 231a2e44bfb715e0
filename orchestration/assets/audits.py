"""Audit assets: every stored backtest run replayed by the independent audit; findings stored."""
import dagster as dg

from backtest.audit import summary
from backtest.audit_runs import audit_runs, errors_of
from orchestration.resources import WarehouseResource


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
