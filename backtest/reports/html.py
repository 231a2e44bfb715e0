"""The self-contained HTML run report (one run, a strategy's latest runs, or several side by side).

Pure: a RunReport per selector in, HTML text out, rendered by the Jinja2 templates in
backtest/reports/templates with the charts embedded as data URIs, so the file can be mailed or
opened offline. Headline metrics and charts come first; each report's trade legs are collapsed
at the end.
"""
from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import jinja2
import numpy as np
import pyarrow as pa

from backtest.reports import charts
from backtest.reports.selection import RunSelection
from backtest.reports.tables import metrics_table

LEG_COLUMNS = ["trade_id", "leg", "date", "symbol", "side", "lots", "qty", "entry_ts", "entry_px", "exit_ts",
               "exit_px", "exit_reason", "hold_s", "gross_pnl", "fees", "net_pnl", "mfe", "mae"]
MAX_LEG_ROWS = 2000


@dataclass
class RunReport:
    label: str                   # a run id or a strategy name
    selection: RunSelection      # the runs and days it covers
    legs: pa.Table               # trade_legs rows, ordered by exit time
    findings: pa.Table | None    # audit_findings of the runs (None: not audited)
    days: list[dt.date]
    metrics: dict
    audit_sample: int | None = None   # the stored audit checked this many random trades per day


def group_pnl(keys: list, net: np.ndarray) -> tuple[list[str], list[float]]:
    """Net P&L summed per key, keys in sorted order."""
    out: dict = {}
    for k, x in zip(keys, net):
        out[k] = out.get(k, 0.0) + float(x)
    return [str(k) for k in sorted(out)], [out[k] for k in sorted(out)]


def equity_curve(t: pa.Table) -> tuple[list, np.ndarray]:
    return t["exit_ts"].to_pylist(), np.cumsum(t["net_pnl"].to_numpy(zero_copy_only=False))


def breakdowns(t: pa.Table) -> dict[str, tuple[list[str], list[float]]]:
    """Daily P&L, P&L by hour of entry (IST), P&L by calendar days to expiry."""
    net = t["net_pnl"].to_numpy(zero_copy_only=False)
    dte = [(e - d).days for e, d in zip(t["expiry"].to_pylist(), t["date"].to_pylist())]
    hours = [f"{ts.hour:02d}:00" for ts in t["entry_ts"].to_pylist()]
    return {"daily": group_pnl(t["date"].to_pylist(), net), "hour": group_pnl(hours, net),
            "dte": group_pnl(dte, net)}


def _uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _dates(days: list[dt.date]) -> str:
    if not days:
        return "no days"
    return f"{days[0]}" if len(days) == 1 else f"{days[0]} – {days[-1]} ({len(days)} days)"


def run_rows(r: RunReport) -> list[dict]:
    """One row per run of the report: run id, underlying, the days taken from it, its audit result."""
    by_run: dict[str, dict] = {}
    for f in (r.findings.to_pylist() if r.findings is not None else []):
        counts = by_run.setdefault(f["run_id"], {})
        counts[(f["check"], f["severity"])] = counts.get((f["check"], f["severity"]), 0) + 1
    legs = {}
    for run_id in r.legs["run_id"].to_pylist():
        legs[run_id] = legs.get(run_id, 0) + 1
    rows = []
    for run in r.selection.runs:
        counts = by_run.get(run["run_id"], {})
        audit = ("not audited" if r.findings is None else
                 ", ".join(f"{c} ({s}): {n}" for (c, s), n in sorted(counts.items())) or "clean")
        rows.append({"run_id": run["run_id"], "underlying": run["underlying"],
                     "dates": _dates(r.selection.days[run["run_id"]]), "legs": legs.get(run["run_id"], 0),
                     "audit": audit, "execution": _execution(run)})
    return rows


def _execution(run: dict) -> str:
    """The run's broker, queue, slippage and latency, from its stored config."""
    import json

    from backtest.models import describe_execution

    try:
        return describe_execution(json.loads(run.get("config") or "{}").get("execution", {}))
    except (ValueError, AttributeError):
        return "-"


def _section(r: RunReport) -> dict:
    t = r.legs
    out = {"label": r.label, "runs": run_rows(r), "strategies": ", ".join(sorted({x["strategy"] for x in r.selection.runs})),
           "by_strategy": r.selection.by_strategy, "dates": _dates(r.days), "charts": [], "reasons": [],
           "audit_scope": None if r.findings is None else (
               f"{r.audit_sample} random trades per day (sampled audit)" if r.audit_sample else "every trade"),
           "findings": [], "legs_total": t.num_rows}
    if t.num_rows:
        b = breakdowns(t)
        out["charts"] = [(_uri(charts.bars_png(*b["daily"], "Daily net P&L", "date")), "daily P&L"),
                         (_uri(charts.bars_png(*b["hour"], "Net P&L by hour of entry (IST)", "hour")), "P&L by hour"),
                         (_uri(charts.bars_png(*b["dte"], "Net P&L by calendar days to expiry", "days to expiry")),
                          "P&L by DTE")]
        names, pnl = group_pnl(t["exit_reason"].to_pylist(), t["net_pnl"].to_numpy(zero_copy_only=False))
        n_by = {k: 0 for k in names}
        for x in t["exit_reason"].to_pylist():
            n_by[x] += 1
        out["reasons"] = [(k, n_by[k], f"{v:,.2f}") for k, v in zip(names, pnl)]
    if r.findings is not None:
        out["findings"] = [[f["run_id"], f["trade_id"], f["leg"], f["check"], f["severity"], f["detail"]]
                           for f in r.findings.to_pylist()[:20]]
    shown = t.slice(0, MAX_LEG_ROWS).select(LEG_COLUMNS).to_pylist()
    out["legs"] = [[(f"{v:,.2f}" if isinstance(v, float) else v) for v in row.values()] for row in shown]
    return out


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("backtest.reports", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def render_html(reports: list[RunReport], title: str = "ticklake backtest report") -> str:
    """The whole report: headline metrics side by side, equity and drawdown, each report's charts,
    exit reasons and audit, then each report's trade legs (collapsed)."""
    curves = {r.label: equity_curve(r.legs) for r in reports if r.legs.num_rows}
    return _environment().get_template("report.html.j2").render(
        title=title, metrics=metrics_table([(r.label, r.metrics) for r in reports], by_metric=True),
        equity=_uri(charts.equity_png(curves)) if curves else None, sections=[_section(r) for r in reports],
        leg_columns=LEG_COLUMNS, max_leg_rows=MAX_LEG_ROWS)
