"""The trader's reports on the materialised one-day archive: HTML in a real browser, trade charts."""
import re
import subprocess
import sys

import pytest

from backtest.reports.html import MAX_LEG_ROWS
from tests.browser import distinct_colours, rendered_dom, screenshot
from warehouse.catalog import connect


def tl(root, *args):
    return subprocess.run([sys.executable, "-m", "orchestration.cli", "--warehouse", str(root), *args],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def busiest(landed):
    """(root, strategy with the most trades, its trade count, its net P&L) from the warehouse."""
    _, root, _ = landed
    strategy, n, net = connect(root).sql("""select strategy, count(*), sum(net_pnl) from trade_legs
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
    legs_table = dom.split('<table class="trades">')[1].split("</table>")[0]
    assert legs_table.count("<tr>") == min(n, MAX_LEG_ROWS) + 1               # header + one row per leg shown
    if n > MAX_LEG_ROWS:                                                      # a busy day says what it left out
        assert f"{n} trade legs (the first {MAX_LEG_ROWS} by exit time shown)" in dom
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
    run_id, trade_id = connect(root).sql(f"""select run_id, trade_id from trade_legs where strategy = '{strategy}'
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
    assert "no backtest run 'no-such-run' in the warehouse" in r.stderr     # the run, not the trade, is unknown
    run_id = connect(root).sql("select min(run_id) from backtest_runs").fetchall()[0][0]
    r = tl(root, "trade-chart", run_id, "T1", "--out", str(tmp_path / "x.png"))
    assert r.returncode == 1 and f"no trade 'T1' in run '{run_id}'" in r.stderr


def test_sampling_audits_n_random_trades_per_day_reproducibly(busiest):
    from backtest.audit import audit_stored_run

    root, strategy, n, _ = busiest
    run_id = connect(root).sql(f"select run_id from trade_legs where strategy = '{strategy}' "
                               "group by all order by count(*) desc limit 1").fetchall()[0][0]
    _, full, _ = audit_stored_run(root, run_id)
    _, inp, findings = audit_stored_run(root, run_id, sample_per_day=2)
    _, again, _ = audit_stored_run(root, run_id, sample_per_day=2)
    ids = set(inp.legs["trade_id"].to_pylist())
    assert len(ids) == min(2, len(set(full.legs["trade_id"].to_pylist())))
    assert ids == set(again.legs["trade_id"].to_pylist()) and findings.num_rows == 0
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


@pytest.fixture(scope="module")
def rerun(busiest, tmp_path_factory):
    """A copy of the warehouse where the busiest strategy ran again with another target: (root,
    strategy, the first run's id, the re-run's id)."""
    import shutil

    root, strategy, _, _ = busiest
    copy = tmp_path_factory.mktemp("rerun") / "wh"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".dagster"))
    first = connect(copy).sql(f"select run_id from backtest_runs where strategy = '{strategy}' and underlying = 'NIFTY'"
                              ).fetchall()[0][0]
    config = tmp_path_factory.mktemp("cfg") / "wider.toml"
    config.write_text("[exits]\ntarget = 9.5\n")
    r = tl(copy, "backtest", "--strategy", strategy, "--underlying", "NIFTY", "--config", str(config))
    assert r.returncode == 0, r.stderr
    second = r.stdout.split()[0]
    assert second != first
    return copy, strategy, first, second


def test_a_strategy_name_reports_its_latest_run_per_underlying_and_day(rerun, tmp_path):
    """A re-run replaces the earlier run's days instead of adding its trades a second time; naming
    both run ids compares them."""
    root, strategy, first, second = rerun
    con = connect(root)
    legs = dict(con.sql("select run_id, count(*) from trade_legs group by all").fetchall())
    others = con.sql(f"select count(*) from trade_legs where strategy = '{strategy}' and run_id not in "
                     f"('{first}', '{second}')").fetchall()[0][0]                       # BANKNIFTY's run
    out = tmp_path / "s.html"
    assert tl(root, "report", strategy, "--out", str(out)).returncode == 0
    text = out.read_text()
    shown = text.split('<table class="trades">')[1].split("</table>")[0].count("<tr>") - 1
    assert shown == min(legs[second] + others, MAX_LEG_ROWS)
    assert f"{strategy}: {legs[second] + others} trade legs" in text
    assert f"<td>{second}</td><td>NIFTY</td>" in text and f"<td>{first}</td>" not in text
    assert tl(root, "report", first, second, "--out", str(out)).returncode == 0
    header = out.read_text().split('<table class="metrics">')[1].split("</thead>")[0]
    assert f"<th>{first}</th>" in header and f"<th>{second}</th>" in header


def test_trade_ids_are_unique_across_runs(rerun):
    root, strategy, first, second = rerun
    shared = connect(root).sql("""select trade_id from trade_legs group by trade_id
                                  having count(distinct run_id) > 1""").fetchall()
    assert shared == []
    ids = connect(root).sql(f"select distinct trade_id from trade_legs where run_id = '{second}'").fetchall()
    assert ids and all(i.startswith(f"{second}-") for (i,) in ids)


def test_the_comparison_puts_metrics_and_charts_first_and_collapses_the_trade_legs(busiest, tmp_path):
    root, strategy, _, _ = busiest
    other = connect(root).sql(f"select min(strategy) from backtest_runs where strategy != '{strategy}'").fetchall()[0][0]
    out = tmp_path / "cmp.html"
    assert tl(root, "report", strategy, other, "--out", str(out)).returncode == 0
    text = out.read_text()
    first_legs = text.index('<table class="trades">')
    assert text.index(f'<h2 id="{other}">') < first_legs and text.rindex("<img") < first_legs
    assert text.count('<table class="trades">') == text.count("<details>") == 2 and "<details open" not in text


def test_the_audit_table_names_each_runs_underlying_and_dates(busiest, tmp_path):
    root, strategy, _, _ = busiest
    out = tmp_path / "a.html"
    assert tl(root, "report", strategy, "--out", str(out)).returncode == 0
    audit = out.read_text().split('<table class="audit">')[1].split("</table>")[0]
    runs = connect(root).sql(f"select run_id, underlying, start from backtest_runs where strategy = '{strategy}' "
                             "order by created_at").fetchall()
    assert audit.count("<tr>") == len(runs) + 1
    for run_id, underlying, start in runs:
        assert f"<td>{run_id}</td><td>{underlying}</td><td>{start}</td>" in audit
    r = tl(root, "audit")
    assert r.returncode == 0
    line = next(x for x in r.stdout.splitlines() if runs[0][0] in x)
    assert f" {runs[0][1]} " in line and f"{runs[0][2]}..{runs[0][2]}" in line


def test_the_fee_share_of_gross_is_explained_wherever_it_is_shown(busiest, tmp_path):
    root, strategy, _, _ = busiest
    out = tmp_path / "f.html"
    assert tl(root, "report", strategy, "--out", str(out)).returncode == 0
    assert "fees / gross P&amp;L: the charges as a share of the profit before charges" in out.read_text()
