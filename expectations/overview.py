"""The quality overview page: every suite x batch with its failing checks and example rows, the
coverage heatmaps, and links to Great Expectations' own validation pages.

GX's Data Docs index renders its table with jQuery/bootstrap-table from public CDNs, so offline (this
product runs without internet) it shows an empty page; its per-validation pages render server-side
and are linked from here. Self-contained: inline CSS, images referenced beside it."""
from __future__ import annotations

import html
from urllib.parse import quote

from expectations.validate import SuiteOutcome

CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 18px}
td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#f0f0f0}
.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}.warn{color:#b26a00;font-weight:600}img{max-width:100%;display:block;margin:6px 0}"""


def _e(x) -> str:
    return html.escape(str(x))


def render_overview(outcomes: list[tuple[str, SuiteOutcome]], links: dict[tuple[str, str], str],
                    heatmaps: list[str]) -> str:
    """outcomes: (batch label, outcome); links: (suite, batch) -> relative URL of GX's page;
    heatmaps: relative PNG paths."""
    failed = sum(1 for _, o in outcomes if o.errors)
    warned = sum(1 for _, o in outcomes if o.warnings and not o.errors)
    rows = []
    for label, o in outcomes:
        link = links.get((o.suite, label))
        name = f'<a href="{_e(link)}">{_e(label)}</a>' if link else _e(label)
        status = ('<span class="ok">pass</span>' if o.success else '<span class="bad">FAIL</span>' if o.errors
                  else '<span class="warn">WARN</span>')
        bad = "; ".join(f"{c.check}{'' if c.is_error else ' [warning]'} ({c.unexpected} rows"
                        + (": " + ", ".join("/".join(f"{k}={v}" for k, v in e.items()) for e in c.examples[:2])
                           if c.examples else "") + ")"
                        for c in o.checks if not c.success)
        rows.append(f"<tr><td>{_e(o.suite)}</td><td>{name}</td><td>{o.rows:,}</td><td>{len(o.checks)}</td>"
                    f"<td>{status}</td><td>{_e(bad)}</td></tr>")
    head = "<tr><th>suite</th><th>batch</th><th>rows</th><th>expectations</th><th>result</th><th>failing checks</th></tr>"
    maps = "".join(f"<h3>{_e(p.rsplit('/', 1)[-1])}</h3><img alt='coverage heatmap' src='{quote(p)}'>" for p in heatmaps)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>ticklake data quality</title><style>{CSS}"
            f"</style></head><body><h1>Data quality</h1><p>{len(outcomes)} batches validated by Great Expectations, "
            f"<span class='{'bad' if failed else 'ok'}'>{failed} with failing expectations</span>, "
            f"<span class='{'warn' if warned else 'ok'}'>{warned} with warnings only</span> "
            f"(thin coverage is a warning).</p>"
            f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
            f"<h2>Coverage heatmaps</h2>{maps or '<p>none</p>'}</body></html>")
