"""The self-contained HTML run report (one run, a strategy's runs, or several side by side).

`load_report` reads a selection from the warehouse (shell); everything else is pure: tables in,
HTML text out, charts embedded as data URIs so the file can be mailed or opened offline.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from backtest.reports import charts

METRIC_ROWS = [("trades", "trades (legs)", "{:,.0f}"), ("win_rate", "win rate", "{:.1%}"),
               ("expectancy", "expectancy / trade (Rs)", "{:,.2f}"), ("profit_factor", "profit factor", "{:.2f}"),
               ("net_pnl", "net P&L (Rs)", "{:,.2f}"), ("gross_pnl", "gross P&L (Rs)", "{:,.2f}"),
               ("fees", "fees (Rs)", "{:,.2f}"), ("fee_share_of_gross", "fees / gross", "{:.1%}"),
               ("sharpe", "Sharpe (daily, 252)", "{:.2f}"), ("sortino", "Sortino (daily, 252)", "{:.2f}"),
               ("max_drawdown", "max drawdown (Rs)", "{:,.2f}"), ("max_drawdown_pct", "max drawdown (%)", "{:.2f}"),
               ("trades_per_day", "trades per day", "{:.1f}"), ("time_in_market", "time in market", "{:.1%}")]
TRADE_COLUMNS = ["trade_id", "leg", "date", "symbol", "side", "lots", "qty", "entry_ts", "entry_px", "exit_ts",
                 "exit_px", "exit_reason", "hold_s", "gross_pnl", "fees", "net_pnl", "mfe", "mae"]
MAX_TRADE_ROWS = 2000


@dataclass
class RunReport:
    label: str                   # a run id or a strategy name
    runs: list[dict]             # backtest_runs rows
    trades: pa.Table             # ordered by exit time
    findings: pa.Table | None    # audit_findings of the runs (None: not audited)
    days: list[dt.date]
    metrics: dict
    audit_sample: int | None = None   # the stored audit checked this many random trades per day


def fmt_metric(fmt: str, v) -> str:
    if v is None or (isinstance(v, float) and (np.isnan(v) or np.isinf(v))):
        return "–" if v is None or np.isnan(v) else ("∞" if v > 0 else "-∞")
    return fmt.format(v)


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _table(header: list[str], rows: list[list], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


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


def audit_summary(findings: pa.Table | None, sample: int | None = None) -> str:
    if findings is None:
        return "<p>Not audited yet: run <code>ticklake audit</code>.</p>"
    scope = f"{sample} random trades per day (sampled audit)" if sample else "every trade"
    if not findings.num_rows:
        return (f'<p class="ok">Audit clean: {scope} re-derived from the market data by the independent '
                "replay.</p>")
    counts: dict = {}
    for f in findings.to_pylist():
        counts[(f["check"], f["severity"])] = counts.get((f["check"], f["severity"]), 0) + 1
    rows = [[c, s, n] for (c, s), n in sorted(counts.items())]
    examples = [[f["trade_id"], f["leg"], f["check"], f["detail"]] for f in findings.to_pylist()[:20]]
    return _table(["check", "severity", "findings"], rows, "audit") + _table(["trade", "leg", "check", "detail"], examples)


def _section(r: RunReport) -> str:
    t = r.trades
    parts = [f'<h2 id="{html.escape(r.label)}">{html.escape(r.label)}</h2>',
             f"<p>{len(r.runs)} run(s), {len(r.days)} day(s) {r.days[0] if r.days else ''} – {r.days[-1] if r.days else ''}; "
             f"strategy {html.escape(', '.join(sorted({x['strategy'] for x in r.runs})))}</p>"]
    if t.num_rows:
        b = breakdowns(t)
        parts += [_img(charts.bars_png(*b["daily"], "Daily net P&L", "date"), "daily P&L"),
                  _img(charts.bars_png(*b["hour"], "Net P&L by hour of entry (IST)", "hour"), "P&L by hour"),
                  _img(charts.bars_png(*b["dte"], "Net P&L by calendar days to expiry", "days to expiry"), "P&L by DTE")]
        reasons = group_pnl(t["exit_reason"].to_pylist(), t["net_pnl"].to_numpy(zero_copy_only=False))
        n_by = {k: 0 for k in reasons[0]}
        for x in t["exit_reason"].to_pylist():
            n_by[x] += 1
        parts.append("<h3>Exit reasons</h3>" + _table(["reason", "legs", "net P&L"],
                                                     [[k, n_by[k], f"{v:,.2f}"] for k, v in zip(*reasons)]))
    parts.append("<h3>Audit</h3>" + audit_summary(r.findings, r.audit_sample))
    shown = t.slice(0, MAX_TRADE_ROWS).select(TRADE_COLUMNS).to_pylist()
    rows = [[(f"{v:,.2f}" if isinstance(v, float) else v) for v in row.values()] for row in shown]
    note = f" (first {MAX_TRADE_ROWS} of {t.num_rows})" if t.num_rows > MAX_TRADE_ROWS else ""
    parts.append(f"<h3>Trades{note}</h3>" + _table(TRADE_COLUMNS, rows, "trades"))
    return "\n".join(parts)


CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 16px}
td,th{border:1px solid #ccc;padding:3px 8px;font-size:12px;text-align:right}th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}.ok{color:#2e7d32;font-weight:600}img{display:block;max-width:100%}"""


def render_html(reports: list[RunReport], title: str = "ticklake backtest report") -> str:
    """The whole report: headline metrics side by side, equity and drawdown, then one section per run."""
    header = ["metric", *(r.label for r in reports)]
    rows = [[name, *(fmt_metric(fmt, r.metrics.get(key)) for r in reports)] for key, name, fmt in METRIC_ROWS]
    curves = {r.label: equity_curve(r.trades) for r in reports if r.trades.num_rows}
    body = [f"<h1>{html.escape(title)}</h1>", "<h2>Headline metrics</h2>", _table(header, rows, "metrics")]
    if curves:
        body.append(_img(charts.equity_png(curves), "equity curve and drawdown"))
    body += [_section(r) for r in reports]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>")
