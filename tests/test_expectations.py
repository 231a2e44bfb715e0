"""Great Expectations suites on generated data: clean partitions pass, each defect fails exactly its check."""
import datetime as dt
import json
import shutil
from urllib.parse import unquote

import pyarrow as pa
import pytest

from expectations.docs import batches, run_quality
from expectations.suites import SUITES
from expectations.validate import validate
from tests.browser import distinct_colours, rendered_dom, screenshot
from transforms.calendar import session_seconds
from transforms.pad import coverage_rows


def failed(suite: str, table: pa.Table, day: dt.date, params: dict | None = None) -> list[str]:
    return validate(suite, SUITES[suite].frame(table, day), params).failed


@pytest.fixture(scope="module")
def nifty_day(warehouse):
    """The first NIFTY option partition of the generated archive (every row-level quirk ingested)."""
    label, table, day = next(b for b in batches(warehouse, "options") if b[0].startswith("NIFTY/"))
    return table, day


def test_every_ingested_partition_of_the_quirky_archive_passes_its_suite(warehouse):
    seen = 0
    for suite, kind in (("options_ticks", "options"), ("futures_ticks", "futures"), ("spot_ticks", "spot")):
        for label, table, day in batches(warehouse, kind):
            assert failed(suite, table, day) == [], (suite, label)
            seen += 1
    assert seen == 15   # 3 kinds x (2 underlyings x 3 days - the missing NIFTY day)


def _set(table: pa.Table, column: str, row: int, value) -> pa.Table:
    values = table[column].to_pylist()
    values[row] = value
    return table.set_column(table.column_names.index(column), column, pa.array(values, table.schema.field(column).type))


def _last_row(table: pa.Table) -> int:
    return table.num_rows - 1          # the last second of the last contract in sort order


def _duplicate_second(t: pa.Table) -> pa.Table:
    ts = t["ts"].to_pylist()
    return _set(t, "ts", 11, ts[10])    # rows 10 and 11 belong to the first contract


def _outside_session(t: pa.Table) -> pa.Table:
    ts = t["ts"][_last_row(t)].as_py()
    return _set(t, "ts", _last_row(t), ts.replace(hour=15, minute=45, second=0))


DEFECTS = {
    "bid_le_ask": lambda t: _set(t, "bid_px0", 5, t["ask_px0"][5].as_py() + 1.0),
    "price_on_tick_grid": lambda t: _set(t, "price", 7, 100.03),
    "bid_on_tick_grid": lambda t: _set(t, "bid_px0", 9, 12.34),
    "price_positive": lambda t: _set(t, "price", 3, 0.0),
    "ts_strictly_increasing": _duplicate_second,
    "ts_in_session": _outside_session,
    "expiry_not_before_date": lambda t: _set(t, "expiry", 2, t["date"][2].as_py() - dt.timedelta(days=1)),
    "vol_delta_not_negative": lambda t: _set(t, "vol_delta", 4, -25),
    "symbol_not_null": lambda t: _set(t, "symbol", 6, None),
    "opt_type_ce_pe": lambda t: _set(t, "opt_type", 8, "XX"),
    "schema": lambda t: t.append_column("stray", pa.array([1] * t.num_rows)),
}


@pytest.mark.parametrize("check", sorted(DEFECTS))
def test_each_injected_defect_fails_exactly_its_expectation(nifty_day, check):
    table, day = nifty_day
    assert failed("options_ticks", DEFECTS[check](table), day) == [check]


def test_failing_rows_are_named_in_the_examples(nifty_day):
    table, day = nifty_day
    broken = DEFECTS["bid_le_ask"](table)
    outcome = validate("options_ticks", SUITES["options_ticks"].frame(broken, day))
    bad = next(c for c in outcome.checks if c.check == "bid_le_ask")
    assert bad.unexpected == 1
    assert bad.examples[0]["symbol"] == table["symbol"][5].as_py()
    assert "bid_le_ask | **NO** | 1 |" in outcome.markdown()


def test_coverage_floor_fails_exactly_the_contracts_below_it(warehouse, archive):
    """Independent reference: distinct real seconds / session seconds, counted here in plain Python."""
    manifest = json.loads((archive / "manifest.json").read_text())
    partial = {(h["date"]) for h in manifest["holes"] if h["kind"] == "partial_day"}
    failing_days = set()
    for label, ticks, day in batches(warehouse, "options"):
        cov = pa.Table.from_pylist(coverage_rows(ticks, day, "options"))
        seconds = {}
        for sym, ts in zip(ticks["symbol"].to_pylist(), ticks["ts"].to_pylist()):
            seconds.setdefault(sym, set()).add(ts)
        below = sum(len(s) / session_seconds(day) < 0.8 for s in seconds.values())
        outcome = validate("coverage", SUITES["coverage"].frame(cov, day), {"coverage_floor": 0.8})
        check = next(c for c in outcome.checks if c.check == "coverage_above_floor")
        assert check.unexpected == below, label
        if below:
            failing_days.add(day.isoformat())
    assert failing_days == partial


def test_ingest_counts_reconcile_and_a_broken_count_fails(warehouse):
    (_, runs, _), = batches(warehouse, "ingest_runs")
    assert failed("ingest_runs", runs, None) == []
    broken = _set(runs, "written", 0, runs["written"][0].as_py() + 1)
    assert failed("ingest_runs", broken, None) == ["reconciles"]


def test_data_docs_open_in_a_real_browser_with_the_suite_results(warehouse, chromium, tmp_path):
    root = tmp_path / "wh"
    shutil.copytree(warehouse, root)
    report = run_quality(root, {"coverage_floor": 0.8})
    assert report.docs_index.exists()
    suites_run = {o.suite for _, o in report.outcomes}
    assert {"options_ticks", "futures_ticks", "spot_ticks", "ingest_runs"} <= suites_run
    assert {s for s, _, _ in report.failures} == {"coverage"} or report.failures == []
    dom = rendered_dom(chromium, report.docs_index.as_uri())
    for suite in ("options_ticks", "futures_ticks", "spot_ticks", "ingest_runs"):
        assert f"<td>{suite}</td>" in dom, suite
    assert dom.count("<tr><td>") == len(report.outcomes) and dom.count("coverage heatmap") == len(report.heatmaps)
    png = screenshot(chromium, report.docs_index.as_uri(), tmp_path / "docs.png")
    assert png.stat().st_size > 10_000 and distinct_colours(png) > 20
    # every batch links GX's own validation page, which renders without network access
    link = dom.split('<a href="')[1].split('"')[0]
    page = rendered_dom(chromium, (report.docs_index.parent / unquote(link)).as_uri())
    assert "Expectation Validation Result" in page and "Succeeded" in page
    assert len(report.heatmaps) == 5 and all(distinct_colours(p) > 20 for p in report.heatmaps)


def test_crypto_trades_pass_and_a_repeated_trade_id_fails(tmp_path):
    from generator.binance import write_binance
    from ingest.pipeline import run_ingest

    files = write_binance(tmp_path / "src", dt.date(2025, 10, 20), 2, seed=4, trades_per_day=300)
    run_ingest(sorted(str(tmp_path / "src" / f) for f in files), tmp_path / "w")
    days = list(batches(tmp_path / "w", "crypto"))
    assert len(days) == 2 and all(failed("crypto_trades", t, d) == [] for _, t, d in days)
    _, t, d = days[0]
    assert failed("crypto_trades", _set(t, "trade_id", 1, t["trade_id"][0].as_py()), d) == ["trade_id_unique"]
    assert failed("crypto_trades", _set(t, "qty", 2, 0.0), d) == ["qty_positive"]
