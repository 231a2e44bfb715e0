"""The trader's reports on the materialised one-day archive: HTML in a real browser, trade charts."""
import re
import subprocess
import sys

import pytest

from tests.browser import distinct_colours, rendered_dom, screenshot
from warehouse.catalog import connect


def tl(root, *args):
    return subprocess.run([sys.executable, "-m", "orchestration.cli", "--warehouse", str(root), *args],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def busiest(landed):
    """(root, strategy with the most trades, its trade count, its net P&L) from the warehouse."""
    _, root, _ = landed
    strategy, n, net = connect(root).sql("""select strategy, count(*), sum(net_pnl) from trades
                                            group by all order by 2 desc, 1 limit 1""").fetchall()[0]
    assert n > 0
    return root, strategy, n, net


def test_the_html_report_is_self_contained_and_opens_in_chromium(busiest, chromium, tmp_path):
    root, strategy, n, net = busiest
    out = tmp_path / "report.html"
    r = tl(root, "report", strategy, "--out", str(out))
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert not re.search(r'(src|href)="(https?:)?//', text)                   # nothing loaded from outside
    assert text.count('src="data:image/png;base64,') == 4                    # equity+dd, daily, hour, DTE
    dom = rendered_dom(chromium, out.as_uri())
    assert "Headline metrics" in dom and "Audit clean" in dom
    trades_table = dom.split('<table class="trades">')[1].split("</table>")[0]
    assert trades_table.count("<tr>") == n + 1                                # header + one row per leg
    assert f"{net:,.2f}" in dom                                               # net P&L = sum over the trades
    png = screenshot(chromium, out.as_uri(), tmp_path / "report.png")
    assert distinct_colours(png) > 50


def test_the_report_is_deterministic_and_compares_runs_side_by_side(busiest, tmp_path):
    root, strategy, _, _ = busiest
    other = connect(root).sql(f"select min(strategy) from backtest_runs where strategy != '{strategy}'").fetchall()[0][0]
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    assert tl(root, "report", strategy, other, "--out", str(a)).returncode == 0
    assert tl(root, "report", strategy, other, "--out", str(b)).returncode == 0
    assert a.read_bytes() == b.read_bytes()
    header = a.read_text().split('<table class="metrics">')[1].split("</thead>")[0]
    assert f"<th>{strategy}</th>" in header and f"<th>{other}</th>" in header


def test_a_trade_chart_is_written_for_a_trade_with_stop_moves(busiest, tmp_path):
    root, strategy, _, _ = busiest
    run_id, trade_id = connect(root).sql(f"""select run_id, trade_id from trades where strategy = '{strategy}'
                                            order by hold_s desc, trade_id limit 1""").fetchall()[0]
    out = tmp_path / "trade.png"
    r = tl(root, "trade-chart", run_id, trade_id, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and distinct_colours(out) > 20


def test_unknown_runs_fail_with_one_line(busiest, tmp_path):
    root = busiest[0]
    r = tl(root, "report", "no-such-run", "--out", str(tmp_path / "x.html"))
    assert r.returncode == 1 and "no backtest run or strategy 'no-such-run'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.html").exists()
    r = tl(root, "trade-chart", "no-such-run", "T1", "--out", str(tmp_path / "x.png"))
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1


def test_sampling_audits_n_random_trades_per_day_reproducibly(busiest):
    from backtest.audit import audit_stored_run

    root, strategy, n, _ = busiest
    run_id = connect(root).sql(f"select run_id from trades where strategy = '{strategy}' "
                               "group by all order by count(*) desc limit 1").fetchall()[0][0]
    _, full, _ = audit_stored_run(root, run_id)
    _, inp, findings = audit_stored_run(root, run_id, sample_per_day=2)
    _, again, _ = audit_stored_run(root, run_id, sample_per_day=2)
    ids = set(inp.trades["trade_id"].to_pylist())
    assert len(ids) == min(2, len(set(full.trades["trade_id"].to_pylist())))
    assert ids == set(again.trades["trade_id"].to_pylist()) and findings.num_rows == 0
    assert set(inp.events["trade_id"].to_pylist()) == ids


def test_the_report_says_when_the_stored_audit_was_a_sample(busiest, tmp_path):
    root, strategy, _, _ = busiest
    out = tmp_path / "r.html"
    assert tl(root, "audit", "--sample", "1").returncode == 0
    assert tl(root, "report", strategy, "--out", str(out)).returncode == 0
    assert "Audit clean: 1 random trades per day (sampled audit)" in out.read_text()
    assert tl(root, "audit").returncode == 0
    assert tl(root, "report", strategy, "--out", str(out)).returncode == 0
    assert "Audit clean: every trade re-derived" in out.read_text()
