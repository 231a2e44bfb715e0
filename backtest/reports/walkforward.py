"""The walk-forward report (pure): per window the chosen parameters and the metric in and out of
sample, the degradation between them, the stitched out-of-sample equity; as text and as one
self-contained HTML file (the equity chart embedded as a data URI)."""
from __future__ import annotations

import base64

import jinja2
import numpy as np
from tabulate import tabulate

from backtest.reports import charts
from backtest.reports.tables import format_metric, metrics_table
from backtest.walkforward import WalkForward

SUMMARY = ("trades", "win_rate", "net_pnl", "fees", "sharpe", "max_drawdown", "profit_factor")


def _span(days) -> str:
    return f"{days[0]}..{days[-1]} ({len(days)}d)"


def window_rows(wf: WalkForward) -> tuple[list[str], list[list[str]]]:
    """One row per window: days, chosen parameters, the metric in/out of sample, net per day, efficiency."""
    m = wf.metric
    header = ["#", "in sample", "out of sample", "chosen", f"{m} IS", f"{m} OOS", "net/day IS", "net/day OOS",
              "OOS/IS"]
    rows = []
    for k, w in enumerate(wf.windows, 1):
        eff = w.efficiency
        rows.append([str(k), _span(w.window.train), _span(w.window.test), wf.labels[w.chosen],
                     format_metric(m, w.in_sample[m]), format_metric(m, w.out_sample[m]),
                     f"{w.in_sample['net_pnl'] / len(w.window.train):,.2f}",
                     f"{w.out_sample['net_pnl'] / len(w.window.test):,.2f}", "–" if np.isnan(eff) else f"{eff:.2f}"])
    if any(w.capital is not None for w in wf.windows):      # Kelly sizing: the account each OOS block started from
        header.append("OOS capital")
        for row, w in zip(rows, wf.windows):
            row.append("–" if w.capital is None else f"{w.capital:,.2f}")
    return header, rows


def degradation(wf: WalkForward) -> str:
    """In-sample vs out-of-sample net P&L per day over all windows, and their ratio."""
    is_day = float(np.mean([w.in_sample["net_pnl"] / len(w.window.train) for w in wf.windows]))
    oos_day = float(np.mean([w.out_sample["net_pnl"] / len(w.window.test) for w in wf.windows]))
    ratio = f"{oos_day / is_day:.2f}" if is_day > 0 else "– (the in-sample best lost money)"
    return (f"degradation: in-sample net/day {is_day:,.2f} (mean over windows), out-of-sample {oos_day:,.2f}; "
            f"OOS/IS {ratio} (1: no degradation; below 0: what won in sample lost out of sample)")


def text(wf: WalkForward) -> str:
    header, rows = window_rows(wf)
    kind = "anchored" if wf.anchored else "rolling"
    lines = [f"walk-forward ({kind}, {len(wf.windows)} windows, {len(wf.labels)} parameter sets, best by "
             f"{wf.metric} in sample; ties to the first in sweep order)",
             tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True), "",
             degradation(wf), "", "stitched out-of-sample trades:",
             metrics_table([("out of sample", wf.out_sample)], SUMMARY).text(), "",
             tabulate([[str(d), f"{x:,.2f}", f"{c:,.2f}"] for d, x, c in wf.daily()],
                      headers=["test day", "net", "equity"], tablefmt="simple", disable_numparse=True,
                      colalign=("left", "right", "right"))]
    if wf.left_out:
        lines.append(f"not traded: {_span(wf.left_out)} after the last whole window")
    return "\n".join(lines)


_PAGE = jinja2.Template("""<!doctype html><html><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse;margin:.6em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right} td:first-child,th:first-child{text-align:left}</style>
</head><body><h1>{{ title }}</h1><p>{{ intro }}</p>
<h2>Stitched out-of-sample equity</h2><img alt="equity" src="data:image/png;base64,{{ png }}">
<h2>Windows</h2><table class="windows"><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
<p>{{ degradation }}</p><h2>Out of sample</h2><table class="summary"><tr>{% for h in sheader %}<th>{{ h }}</th>
{% endfor %}</tr>{% for r in srows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>
{% for n in notes %}<p><small>{{ n }}</small></p>{% endfor %}</body></html>""", autoescape=True)


def html(wf: WalkForward, title: str) -> str:
    """The report as one self-contained HTML page."""
    header, rows = window_rows(wf)
    daily = wf.daily()
    png = charts.equity_png({"out of sample": ([d for d, _, _ in daily], np.array([c for _, _, c in daily]))})
    summary = metrics_table([("out of sample", wf.out_sample)], SUMMARY)
    kind = "anchored" if wf.anchored else "rolling"
    return _PAGE.render(title=title, header=header, rows=rows, degradation=degradation(wf),
                        png=base64.b64encode(png).decode(), sheader=summary.header, srows=summary.rows,
                        notes=summary.notes,
                        intro=f"{kind} windows; in each, the parameter set with the best {wf.metric} in sample "
                              f"(ties: the first in sweep order) traded on the next days")
