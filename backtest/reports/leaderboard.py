"""The catalogue's leaderboard (`ticklake report --all`): one row per strategy and underlying (its
latest run), the headline metrics, the share of trades touching a padded second, the trades (positions) a day
against the conversation's expectation (the card's `trades_per_day`), each row linking to the
strategy's own report. Sortable by any column (a click on its header)."""
from __future__ import annotations

import html
import math
from pathlib import Path

COLUMNS = [("strategy", "strategy"), ("card", "card"), ("family", "family"), ("underlying", "underlying"),
           ("days", "days"), ("trades", "trades"), ("net_pnl", "net P&L"), ("trades_per_day", "trades/day"),
           ("expected", "expected/day"), ("win_rate", "win rate"), ("expectancy", "expectancy"),
           ("profit_factor", "profit factor"), ("sharpe", "Sharpe"), ("max_drawdown", "max DD"),
           ("fee_share_of_gross", "fees/gross"), ("time_in_market", "time in market"),
           ("padded_share", "% trades in padded s")]
PERCENT = {"win_rate", "fee_share_of_gross", "time_in_market", "padded_share"}
PADDED_RED_FLAG = 0.005        # > 0.5 % of trades touching a padded second is a red flag (L4724-4746)


def far_off(per_day: float, expected: tuple[float, float] | None) -> bool:
    """Trades a day outside half the low .. twice the high of the conversation's expectation."""
    return expected is not None and not (expected[0] / 2 <= per_day <= expected[1] * 2)


def _cell(key: str, value) -> tuple[str, str]:
    """(text, sort key) of a value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-", ""
    if isinstance(value, float):
        text = f"{100 * value:.1f} %" if key in PERCENT else f"{value:,.2f}"
        return text, repr(value)
    return html.escape(str(value)), html.escape(str(value))


def render(rows: list[dict]) -> str:
    """The leaderboard page; rows carry COLUMNS' keys, `report` (a relative link) and `expected` (lo, hi)."""
    head = "".join(f"<th onclick='sortBy({k})'>{html.escape(label)}</th>" for k, (_, label) in enumerate(COLUMNS))
    body = []
    for r in sorted(rows, key=lambda r: -(r["net_pnl"] if r["net_pnl"] == r["net_pnl"] else -1e18)):
        cells = []
        for key, _ in COLUMNS:
            value = r.get(key)
            if key == "expected":
                value = "" if r["expected"] is None else f"{r['expected'][0]:g}-{r['expected'][1]:g}"
            text, sort = _cell(key, value)
            cls = ""
            if key == "strategy" and r.get("report"):
                text = f"<a href='{html.escape(r['report'])}'>{text}</a>"
            if key == "trades_per_day" and far_off(r["trades_per_day"], r["expected"]):
                cls, text = " class='flag'", text + " (far off)"
            if key == "padded_share" and (r.get("padded_share") or 0) > PADDED_RED_FLAG:
                cls = " class='flag'"
            cells.append(f"<td{cls} data-sort='{sort}'>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>ticklake leaderboard</title>
<style>body{{font-family:sans-serif}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}
th{{cursor:pointer;background:#eee}} .flag{{background:#fdd}}</style></head><body>
<h1>Strategy leaderboard</h1><p>{len(rows)} runs; latest run per strategy and underlying; click a header to sort.
Flagged: trades a day far from the conversation's expectation; more than 0.5 % of trades touching a padded second.</p>
<table id="board"><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>
<script>
let dir = 1;
function sortBy(k) {{
  const tb = document.querySelector('#board tbody');
  const rows = Array.from(tb.rows);
  dir = -dir;
  rows.sort((a, b) => {{
    const x = a.cells[k].dataset.sort, y = b.cells[k].dataset.sort;
    const nx = parseFloat(x), ny = parseFloat(y);
    if (!isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);
    return dir * x.localeCompare(y);
  }});
  rows.forEach(r => tb.appendChild(r));
}}
</script></body></html>"""


LATEST = """select * from backtest_runs
            qualify row_number() over (partition by strategy, underlying order by created_at desc, run_id) = 1"""
PADDED = """select l.run_id, count(distinct l.trade_id) as padded
            from trade_legs l join features_options f
              on f.symbol = l.symbol and f.date = l.date and f.ts between l.entry_ts and l.exit_ts and f.is_pad
            where list_contains(?, l.run_id) group by l.run_id"""
TRADES = "select run_id, count(distinct trade_id) as n from trade_legs where list_contains(?, run_id) group by run_id"


def load_rows(root: Path) -> list[dict]:
    """The latest run of every strategy and underlying with its padded-second share and its card."""
    from backtest.strategies.cards import card_of_strategy
    from warehouse.catalog import connect

    con = connect(root)
    # by strategy and underlying: the board sorts by net P&L, and ties (every zero-trade strategy)
    # otherwise came in the order the query's window happened to emit them, different run to run
    runs = sorted(con.sql(LATEST).to_arrow_table().to_pylist(), key=lambda r: (r["strategy"], r["underlying"]))
    if not runs:
        raise RuntimeError("no backtest runs in the warehouse; run `ticklake backtest --all` first")
    ids = [r["run_id"] for r in runs]
    padded = dict(con.sql(PADDED, params=[ids]).fetchall())
    trades = dict(con.sql(TRADES, params=[ids]).fetchall())
    rows = []
    for r in runs:
        c = card_of_strategy(r["strategy"])
        n = trades.get(r["run_id"], 0)
        # positions, not legs: backtest_runs counts legs (its per-leg metrics), but the conversation's
        # "2-4 straddles a day" counts a two-leg straddle once
        rows.append({**r, "trades": n, "trades_per_day": n / r["days"] if r["days"] else float("nan"),
                     "card": c.id if c else "", "family": c.family if c else "",
                     "expected": c.expected_trades() if c else None,
                     "padded_share": padded.get(r["run_id"], 0) / n if n else float("nan"),
                     "report": f"{r['strategy']}.html"})
    return rows


def write_leaderboard(root: Path, out: Path, reports: bool = True, workers: int | None = None,
                      progress=None) -> Path:
    """The leaderboard next to each strategy's own report (written when `reports`, on `workers`
    processes: backtest.reports.load.write_reports; `progress` gets the reports done)."""
    from backtest.reports.load import write_reports
    from warehouse.files import atomic_write

    rows = load_rows(root)
    if reports:
        write_reports(root, sorted({r["strategy"] for r in rows}), out.parent, workers, progress)
    return atomic_write(out, render(rows).encode())
