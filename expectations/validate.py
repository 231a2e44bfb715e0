"""Run one suite on one validation frame and summarise the result for people and asset checks."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import great_expectations as gx
import pandas as pd
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import (DataContextConfig, InMemoryStoreBackendDefaults,
                                                        ProgressBarsConfig)

from expectations.suites import SUITES, build_suite

EXAMPLES = 5
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")   # nothing leaves the machine


WARNING = "warning"   # GX's FailureSeverity value for a failure that is reported, not an error


@dataclass
class CheckOutcome:
    check: str
    success: bool
    unexpected: int
    examples: list = field(default_factory=list)
    severity: str = "critical"       # the expectation's GX severity: critical, warning or info

    @property
    def is_error(self) -> bool:
        return not self.success and self.severity not in (WARNING, "info")


@dataclass
class SuiteOutcome:
    suite: str
    rows: int
    checks: list[CheckOutcome]

    @property
    def success(self) -> bool:
        return all(c.success for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return sorted(c.check for c in self.checks if not c.success)

    @property
    def errors(self) -> list[str]:
        """Failed checks of error severity (the ones `--strict` and the asset checks fail on)."""
        return sorted(c.check for c in self.checks if c.is_error)

    @property
    def warnings(self) -> list[str]:
        return sorted(c.check for c in self.checks if not c.success and not c.is_error)

    def markdown(self) -> str:
        """Failing checks first, each with a few failing rows as examples."""
        lines = ["| check | ok | failing rows | examples |", "|---|---|---|---|"]
        for c in sorted(self.checks, key=lambda c: (c.success, c.check)):
            ex = "; ".join(", ".join(f"{k}={v}" for k, v in e.items()) for e in c.examples[:3])
            lines.append(f"| {c.check} | {'yes' if c.success else '**NO**'} | {c.unexpected} | {ex} |")
        return "\n".join(lines)


def quiet_context(mode: str = "ephemeral", project_root_dir: str | None = None):
    """A Great Expectations data context without progress bars or usage statistics. The in-memory
    one also has no Data Docs site (GX would otherwise make a temp directory per context)."""
    if mode == "ephemeral":
        config = DataContextConfig(data_docs_sites={},
                                   store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False))
        ctx = gx.get_context(mode="ephemeral", project_config=config)
    else:
        ctx = gx.get_context(mode=mode, project_root_dir=project_root_dir)
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def validation_definition(ctx, suite_name: str, params: dict | None = None):
    """The suite and a whole-dataframe batch definition, (re)registered in `ctx` under the suite's name."""
    source = ctx.data_sources.add_or_update_pandas("warehouse")
    if suite_name in source.get_asset_names():
        source.delete_asset(suite_name)
    batch = source.add_dataframe_asset(suite_name).add_batch_definition_whole_dataframe("partition")
    suite = ctx.suites.add_or_update(build_suite(suite_name, params))
    return ctx.validation_definitions.add_or_update(gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))


def result_format(suite_name: str) -> dict:
    return {"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES,
            "unexpected_index_column_names": list(SUITES[suite_name].examples)}


def outcome(suite_name: str, rows: int, result) -> SuiteOutcome:
    checks = []
    for r in result.results:
        res = r.result or {}
        examples = [{k: str(v) for k, v in e.items()} for e in (res.get("partial_unexpected_index_list") or [])]
        severity = getattr(r.expectation_config.severity, "value", r.expectation_config.severity) or "critical"
        checks.append(CheckOutcome(r.expectation_config.meta["check"], bool(r.success),
                                   int(res.get("unexpected_count") or (0 if r.success else 1)), examples[:EXAMPLES],
                                   str(severity)))
    return SuiteOutcome(suite_name, rows, checks)


def validate(suite_name: str, frame: pd.DataFrame, params: dict | None = None, vd=None,
             label: str | None = None) -> SuiteOutcome:
    """Validate `frame` against the suite. `vd` (from validation_definition) reuses a context, e.g. the
    Data Docs one, and `label` names the batch there; by default a throwaway in-memory context is used."""
    vd = vd or validation_definition(quiet_context(), suite_name, params)
    run_id = RunIdentifier(run_name=label) if label else None
    result = vd.run(batch_parameters={"dataframe": frame}, result_format=result_format(suite_name), run_id=run_id)
    return outcome(suite_name, len(frame), result)
