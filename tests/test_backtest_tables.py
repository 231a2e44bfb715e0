"""The one metric-table formatter: formats, missing values and the notes that explain them."""
import math

from backtest.reports.tables import metrics_table

LOSING = {"trades": 12, "win_rate": 0.25, "net_pnl": -1234.5, "gross_pnl": -800.0, "fees": 434.5,
          "fee_share_of_gross": math.nan, "profit_factor": 0.4}
THIN = {"trades": 3, "win_rate": 1.0, "net_pnl": -15.0, "gross_pnl": 20.0, "fees": 35.0,
        "fee_share_of_gross": 1.75, "profit_factor": math.inf}


def test_rows_per_run_with_the_notes_of_the_metrics_shown():
    t = metrics_table([("a", LOSING), ("b", THIN)], ("trades", "net_pnl", "fee_share_of_gross", "profit_factor"),
                      first="strategy")
    assert t.header == ["strategy", "legs", "net", "fee/gross", "PF"]
    assert t.rows == [["a", "12", "-1,234.50", "–", "0.40"], ["b", "3", "-15.00", "175%", "∞"]]
    assert [n.split(":")[0] for n in t.notes] == ["fees / gross P&L", "profit factor"]
    assert "– where the gross P&L is zero or a loss" in t.notes[0]


def test_a_missing_value_without_its_own_note_gets_the_general_one():
    t = metrics_table([("a", {"sharpe": math.nan, "trades": 0})], ("trades", "sharpe"))
    assert t.rows == [["a", "0", "–"]] and t.notes == [
        "–: not defined for these trades (no trades, or a single day for a daily ratio)"]
    assert metrics_table([("a", {"sharpe": 1.5})], ("sharpe",)).notes == []


def test_by_metric_runs_are_columns_and_text_renders_markdown():
    t = metrics_table([("a", LOSING), ("b", THIN)], ("win_rate", "fees"), by_metric=True)
    assert t.header == ["metric", "a", "b"]
    assert t.rows == [["win rate (trades)", "25.0%", "100.0%"], ["fees (Rs)", "434.50", "35.00"]]
    assert t.text("github").splitlines() == ["| metric            |      a |      b |",
                                              "|-------------------|--------|--------|",
                                              "| win rate (trades) |  25.0% | 100.0% |",
                                              "| fees (Rs)         | 434.50 |  35.00 |"]


def test_extra_columns_follow_the_metrics():
    t = metrics_table([("x=1", {"trades": 1}), ("x=2", {"trades": 2})], ("trades",), first="combination",
                      extra={"run": ["r1", "r2"]})
    assert t.header == ["combination", "legs", "run"] and t.rows == [["x=1", "1", "r1"], ["x=2", "2", "r2"]]
