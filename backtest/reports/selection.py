"""Which stored runs a report selector means.

A run id means that run. A strategy name means its latest run per underlying and day: a re-run
(or a longer run covering the same days) replaces the earlier one day by day, so repeating a
backtest never doubles a strategy's trades. Comparing runs is explicit: name their run ids.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from transforms.calendar import trading_days


@dataclass
class RunSelection:
    selector: str                       # what the user typed: a run id or a strategy name
    runs: list[dict]                    # backtest_runs rows that contribute, oldest first
    days: dict[str, list[dt.date]]      # run id -> the trading days taken from that run

    @property
    def by_strategy(self) -> bool:
        return not (len(self.runs) == 1 and self.runs[0]["run_id"] == self.selector)

    def all_days(self) -> list[dt.date]:
        return sorted({d for days in self.days.values() for d in days})


def _run_days(run: dict) -> list[dt.date]:
    return list(trading_days(run["start"], run["end"])) if run["start"] is not None else []


def select_runs(rows: list[dict], selector: str) -> RunSelection:
    """The selection of `selector` among backtest_runs rows (pure)."""
    exact = [r for r in rows if r["run_id"] == selector]
    if exact:
        return RunSelection(selector, exact, {selector: _run_days(exact[0])})
    mine = sorted((r for r in rows if r["strategy"] == selector), key=lambda r: (r["created_at"], r["run_id"]))
    if not mine:
        raise LookupError(f"no backtest run or strategy {selector!r} in the warehouse")
    owner: dict[tuple[str, dt.date], str] = {}
    for r in mine:                       # later runs take each (underlying, day) over
        for d in _run_days(r):
            owner[(r["underlying"], d)] = r["run_id"]
    days: dict[str, list[dt.date]] = {}
    for (_, d), run_id in sorted(owner.items()):
        days.setdefault(run_id, []).append(d)
    runs = [r for r in mine if r["run_id"] in days]
    return RunSelection(selector, runs, {r["run_id"]: days[r["run_id"]] for r in runs})


def resolve(con, selector: str) -> RunSelection:
    """select_runs over the warehouse's backtest_runs."""
    rows = con.sql("select * from backtest_runs where run_id = ? or strategy = ?",
                   params=[selector, selector]).to_arrow_table().to_pylist()
    return select_runs(rows, selector)
