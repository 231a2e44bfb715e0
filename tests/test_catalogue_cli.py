"""`ticklake backtest --family/--all` and `ticklake report --all` on the materialised one-day
warehouse: many strategies over the days, each day read once, then the sortable leaderboard whose
rows link to each strategy's report (the page rendered in a real browser)."""
import pytest

from backtest.reports.leaderboard import far_off, render
from backtest.strategies.cards import cards
from orchestration.cli import main


def test_far_off_flags_trade_counts_outside_half_the_low_to_twice_the_high():
    assert not far_off(3.0, (2.0, 4.0)) and not far_off(1.0, (2.0, 4.0)) and not far_off(8.0, (2.0, 4.0))
    assert far_off(0.9, (2.0, 4.0)) and far_off(8.1, (2.0, 4.0)) and not far_off(100.0, None)


def test_render_flags_and_links():
    row = {"strategy": "guarded_straddle", "card": "GSS", "family": "theta", "underlying": "NIFTY", "days": 1,
           "trades": 9, "net_pnl": 10.0, "trades_per_day": 9.0, "expected": (2.0, 4.0), "win_rate": 0.5,
           "expectancy": 1.0, "profit_factor": 1.2, "sharpe": float("nan"), "max_drawdown": 3.0,
           "fee_share_of_gross": 0.1, "time_in_market": 0.2, "padded_share": 0.01, "report": "guarded_straddle.html"}
    page = render([row])
    assert "<a href='guarded_straddle.html'>guarded_straddle</a>" in page
    assert "9.00 (far off)" in page and "<td class='flag' data-sort='0.01'>1.0 %</td>" in page
    assert "2-4" in page


def test_backtest_a_family_then_the_leaderboard(landed, tmp_path, capsys, chromium):
    import shutil

    root = tmp_path / "wh"          # a copy: the session's warehouse holds the daily strategies' runs only
    shutil.copytree(landed[1], root, ignore=shutil.ignore_patterns(".dagster"))
    assert main(["backtest", "--family", "theta", "--underlying", "NIFTY", "--no-events", "--warehouse", str(root)]) == 0
    out = capsys.readouterr().out
    theta = [n for c in cards() if c.family == "theta" for n in c.strategies]
    assert f"{len(theta)} strategies, each day read once" in out
    assert all(f"  {n} " in out for n in theta)
    assert main(["backtest", "--all", "--family", "theta", "--warehouse", str(root)]) == 2
    assert main(["backtest", "--family", "nope", "--warehouse", str(root)]) == 2
    board = tmp_path / "board" / "leaderboard.html"
    assert main(["report", "--all", "--out", str(board), "--warehouse", str(root)]) == 0
    page = board.read_text()
    for n in theta:
        assert f"<a href='{n}.html'>{n}</a>" in page and (board.parent / f"{n}.html").exists()
    from tests.browser import rendered_dom

    dom = rendered_dom(chromium, board.as_uri())
    from backtest.reports.leaderboard import load_rows

    # every strategy x underlying the warehouse ran (the materialised catalogue), one header row
    assert "Strategy leaderboard" in dom and dom.count("<tr>") == len(load_rows(root)) + 1


@pytest.mark.parametrize("argv", [["report"], ["backtest"]])
def test_usage_errors(argv):
    assert main(argv) == 2
