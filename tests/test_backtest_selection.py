"""What a report selector means: a run id that run; a strategy name its latest run per underlying
and day, so re-runs never add a strategy's trades twice."""
import datetime as dt

import pytest

from backtest.reports.selection import select_runs

D = dt.date


def run(run_id, strategy, underlying, start, end, created):
    return {"run_id": run_id, "strategy": strategy, "underlying": underlying, "start": start, "end": end,
            "created_at": dt.datetime(2025, 11, 10, created, tzinfo=dt.timezone.utc)}


ROWS = [
    run("a1", "a", "NIFTY", D(2025, 11, 3), D(2025, 11, 6), 1),       # Mon-Thu (Wed 5th a holiday)
    run("a2", "a", "NIFTY", D(2025, 11, 4), D(2025, 11, 4), 2),       # Tue again, later
    run("a3", "a", "BANKNIFTY", D(2025, 11, 3), D(2025, 11, 3), 3),
    run("a4", "a", "NIFTY", D(2025, 11, 3), D(2025, 11, 3), 0),       # Mon, earliest: replaced by a1
    run("b1", "b", "NIFTY", D(2025, 11, 3), D(2025, 11, 3), 4),
]


def test_a_strategy_takes_each_underlying_and_day_from_its_latest_run():
    sel = select_runs(ROWS, "a")
    assert [r["run_id"] for r in sel.runs] == ["a1", "a2", "a3"]
    assert sel.days == {"a1": [D(2025, 11, 3), D(2025, 11, 6)], "a2": [D(2025, 11, 4)], "a3": [D(2025, 11, 3)]}
    assert sel.all_days() == [D(2025, 11, 3), D(2025, 11, 4), D(2025, 11, 6)] and sel.by_strategy


def test_a_run_id_is_that_run_whole():
    sel = select_runs(ROWS, "a4")
    assert [r["run_id"] for r in sel.runs] == ["a4"] and sel.days == {"a4": [D(2025, 11, 3)]}
    assert not sel.by_strategy


def test_an_unknown_selector_says_so():
    with pytest.raises(LookupError, match="no backtest run or strategy 'c' in the warehouse"):
        select_runs(ROWS, "c")
