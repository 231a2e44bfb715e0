"""The Dagster UI as a trader sees it after `ticklake materialize`: `ticklake ui` over the session's
materialised warehouse, read by a real headless Chromium (a fresh profile: every visit is a first
visit). Screenshots are kept beside the test's tmp dir and asserted on."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.browser import distinct_colours
from tests.cdp import Page
from warehouse import schema as S


@pytest.fixture(scope="module")
def ui(landed):
    """`ticklake ui` on a free port over the `landed` warehouse; its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "--warehouse", str(landed[1]), "ui", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(f"{base}/server_info", timeout=2).read()
                break
            except OSError:
                time.sleep(1)
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture
def page(chromium):
    with Page(chromium) as p:
        yield p


def test_the_first_visit_opens_no_pop_up_and_the_timeline_shows_the_named_runs(ui, page, tmp_path):
    page.goto(f"{ui}/overview/activity/timeline")
    text = page.wait_for("orchestration.definitions")
    for job in ("ingest", "gaps", "quality", "features", "backtests", "audits"):
        assert f"\n{job}\n" in text, job
    assert "No runs" not in text and "__ephemeral_asset_job__" not in text
    assert "Join the Dagster community" not in page.text()      # the sign-up pop-up over every first visit
    png = page.screenshot(tmp_path / "timeline.png")
    assert distinct_colours(png) > 20


def metadata(text: str, key: str) -> str:
    """The value the partition pane shows for one metadata key ("key / tab / value" in its innerText)."""
    m = re.search(rf"\n{re.escape(key)}\n\t\n([^\n]*)\n", text)
    assert m, f"no metadata {key!r} in:\n{text[-2000:]}"
    return m.group(1)


def test_tick_partitions_show_status_and_row_counts(ui, page, landed, tmp_path):
    import pyarrow.parquet as pq

    from warehouse.layout import DATA_FILE, partition_dir

    rows = pq.read_metadata(partition_dir(landed[1], "options", {"underlying": "NIFTY", "date": "2025-11-03"})
                            / DATA_FILE).num_rows
    page.goto(f"{ui}/assets/options_ticks?view=partitions")
    text = page.wait_for("Materialized (2)", "NIFTY")
    assert "Missing (0)" in text and "Failed (0)" in text
    page.click_text("NIFTY")
    text = page.wait_for("dagster/row_count", "quarantined")
    assert metadata(text, "dagster/row_count") == str(rows)
    assert int(metadata(text, "written")) + int(metadata(text, "deduped")) + int(metadata(text, "quarantined")) == \
        int(metadata(text, "source_rows"))
    page.screenshot(tmp_path / "options_ticks.png")


def test_gap_counts_and_the_description_are_on_the_asset_page(ui, page, landed):
    from warehouse.catalog import connect

    con = connect(landed[1])
    n, secs = con.sql("select count(*), sum(seconds) from gaps where underlying = 'NIFTY'").fetchall()[0]
    page.goto(f"{ui}/assets/feed_gaps?view=partitions")
    page.wait_for("Materialized (2)", "NIFTY")
    page.click_text("NIFTY")
    text = page.wait_for("gap_seconds", "by_kind")
    assert (metadata(text, "gaps"), metadata(text, "gap_seconds")) == (str(n), str(secs))
    page.goto(f"{ui}/assets/feed_gaps")
    text = page.wait_for("feed gaps per instrument-day")
    assert re.search(r"Row count\n[\d,]+\n", text), text


def test_quality_checks_name_their_partition(ui, page, tmp_path):
    page.goto(f"{ui}/assets/tick_quality?view=checks")
    text = page.wait_for("spot_ticks_expectations\nspot_ticks_expectations\nSucceeded", re.compile(r"\nPartition\n\d"))
    for suite in ("coverage", "options_ticks", "futures_ticks", "spot_ticks"):
        assert f"{suite}_expectations\n{suite}_expectations\nSucceeded" in text, text
    assert re.search(r"\nPartition\n2025-11-03\|(NIFTY|BANKNIFTY)\n", text), text   # before: no partition at all
    page.screenshot(tmp_path / "checks.png")


def test_feature_columns_carry_the_registry_descriptions(ui, page):
    described = [c for c in S.FEATURE_COLUMNS if c.table == "features_options"]
    page.goto(f"{ui}/assets/features_options")
    text = page.wait_for("Column name", "Per option contract per grid second", f"{described[-1].name}\n")
    missing = [c.name for c in described if f"{c.name}\n" not in text or c.description not in text]
    assert missing == [], text
    assert re.search(r"Row count\n[\d,]+\n", text)


def test_the_backtest_summary_shows_its_metrics_and_equity_plot(ui, page, tmp_path):
    page.goto(f"{ui}/assets/backtest_summary")
    page.wait_for("equity_curve", "Every strategy over every backtested day")
    page.click_in_row("equity_curve", "[Show Markdown]")
    deadline = time.time() + 30
    while time.time() < deadline and not [i for i in page.images() if i["src"].startswith("data:image/png")]:
        time.sleep(0.5)
    plots = [i for i in page.images() if i["src"].startswith("data:image/png")]
    assert plots and plots[0]["width"] > 400 and plots[0]["height"] > 200     # decoded: a real picture
    assert distinct_colours(page.screenshot(tmp_path / "equity.png")) > 50
