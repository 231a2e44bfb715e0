"""The one formatter of run metrics, for every table that shows them: the HTML report, the Dagster
summary asset (markdown), the demo's summary and the CLI's sweep (text).

`metrics_table()` turns (label, metrics) pairs into a MetricTable: formatted cells (one number
format per metric, "–" for a value that does not exist, with the reason in a note under the table)
that a Jinja template renders as HTML and `text()` renders as plain or markdown text (tabulate).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from tabulate import tabulate


@dataclass(frozen=True)
class Metric:
    key: str        # backtest.metrics.summarize / backtest_runs column
    label: str      # as a row name
    short: str      # as a column header
    fmt: str
    note: str = ""  # what the number means, shown under any table that has it


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("trades", "trade legs", "legs", "{:,.0f}"),
    Metric("win_rate", "win rate (trades)", "win", "{:.1%}"),
    Metric("expectancy", "expectancy / trade (Rs)", "exp/trade", "{:,.2f}"),
    Metric("profit_factor", "profit factor", "PF", "{:.2f}",
           "profit factor: net profit of the winning trades over the net loss of the losing ones, a "
           "trade being its legs together (∞: no losing trade)"),
    Metric("net_pnl", "net P&L (Rs)", "net", "{:,.2f}"),
    Metric("gross_pnl", "gross P&L (Rs)", "gross", "{:,.2f}"),
    Metric("fees", "fees (Rs)", "fees", "{:,.2f}"),
    Metric("fee_share_of_gross", "fees / gross P&L", "fee/gross", "{:.0%}",
           "fees / gross P&L: the charges as a share of the profit before charges; above 100 % the "
           "charges took more than the trades made; – where the gross P&L is zero or a loss (there is "
           "no profit to take a share of)"),
    Metric("sharpe", "Sharpe (daily, 252)", "Sharpe", "{:.2f}"),
    Metric("sortino", "Sortino (daily, 252)", "Sortino", "{:.2f}"),
    Metric("max_drawdown", "max drawdown (Rs)", "max DD", "{:,.2f}"),
    Metric("max_drawdown_pct", "max drawdown (%)", "max DD %", "{:.2f}"),
    Metric("trades_per_day", "trade legs per day", "legs/day", "{:.1f}"),
    Metric("time_in_market", "time in market", "in mkt", "{:.1%}"),
    Metric("end_of_data_exits", "legs closed at the end of data", "EOD", "{:,.0f}",
           "EOD: legs still open when their contract's data ended early, closed at its last real quote "
           "(decided and filled there; the audit flags each)"),
    Metric("trade_count", "trades (legs together)", "trades", "{:,.0f}"),
    Metric("trade_wins", "winning trades", "won", "{:,.0f}"),
    Metric("trade_losses", "losing trades", "lost", "{:,.0f}"),
    Metric("trade_breakevens", "breakeven trades", "b/e", "{:,.0f}",
           "b/e: trades whose net P&L is within ±1 tick x their quantity, counted apart from wins and losses"),
    Metric("sharpe_per_trade", "Sharpe (per trade)", "Sharpe/trade", "{:.3f}",
           "Sharpe/trade: mean over standard deviation of the trades' net P&L, not annualised"),
    Metric("avg_mfe", "MFE / trade (Rs)", "MFE", "{:,.2f}",
           "MFE / MAE: the best / worst open P&L of a trade before its exit, in rupees, averaged over trades "
           "(several legs: the sum of the legs' extremes, a bound)"),
    Metric("avg_mae", "MAE / trade (Rs)", "MAE", "{:,.2f}"),
    Metric("padded_share", "trades touching a padded second", "padded", "{:.2%}",
           "padded: share of trades with a padded (gap-filled) second between entry and exit; above 0.5 % "
           "the fills lean on invented quotes"),
)}
ALL = tuple(METRICS)
MISSING_NOTE = "–: not defined for these trades (no trades, or a single day for a daily ratio)"


def format_metric(key: str, value) -> str:
    """One metric value as the tables show it: its format, "–" when absent, ∞ / -∞ when infinite."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return METRICS[key].fmt.format(value)


@dataclass
class MetricTable:
    header: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    numeric_from: int = 1          # columns from this one on are right-aligned

    def text(self, tablefmt: str = "simple") -> str:
        """The table as text (tabulate's `simple`, `github` for markdown, ...) with its notes below."""
        align = ["left"] * self.numeric_from + ["right"] * (len(self.header) - self.numeric_from)
        table = tabulate(self.rows, headers=self.header, tablefmt=tablefmt, disable_numparse=True,
                         colalign=align)
        sep = "\n\n" if tablefmt == "github" else "\n"
        return table + "".join(f"{sep}{n}" for n in self.notes)


def metrics_table(entries: Sequence[tuple[str, dict]], keys: Sequence[str] = ALL, *, first: str = "run",
                  by_metric: bool = False, extra: dict[str, Sequence[str]] | None = None) -> MetricTable:
    """Metrics of labelled runs: one row per run (columns `first`, the metrics' short names, then
    `extra` columns), or with `by_metric` one row per metric and one column per run. Notes explain
    the metrics shown that need it, and "–" when one appears."""
    cells = [[format_metric(k, m.get(k)) for k in keys] for _, m in entries]
    if by_metric:
        header = ["metric", *(label for label, _ in entries)]
        rows = [[METRICS[k].label, *(c[j] for c in cells)] for j, k in enumerate(keys)]
    else:
        header = [first, *(METRICS[k].short for k in keys), *(extra or {})]
        rows = [[label, *c, *(col[i] for col in (extra or {}).values())] for i, ((label, _), c) in
                enumerate(zip(entries, cells))]
    notes = [METRICS[k].note for k in keys if METRICS[k].note]
    if any(c[j] == "–" for j, k in enumerate(keys) if not METRICS[k].note for c in cells):
        notes.append(MISSING_NOTE)
    return MetricTable(header, rows, notes)
