"""Calendar filters on entries: weekdays, the expiry day, and the blackout rules of
`backtest/data/entry_blackouts.csv` (RBI policy days and budget days: the first 5 minutes; an
expiry day of the nearest expiry: after 14:30). They depend on the calendar only, so they are
applied to a plan's entry candidates in numpy before the engine runs.

The blackout table is data with dates (dated rows: that day only; undated rows: every day their
condition holds between effective_from and effective_to). The RBI and budget dates were entered
from the public calendars; a missing or moved date is a new row, not a code change.
"""
from __future__ import annotations

import csv
import datetime as dt
from functools import lru_cache
from importlib import resources

import numpy as np

from backtest.strategies.base import Filters, hhmm

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
DAY_S = 86400


@lru_cache(maxsize=1)
def blackout_rules() -> tuple[dict, ...]:
    text = resources.files("backtest").joinpath("data", "entry_blackouts.csv").read_text()
    rows = []
    for r in csv.DictReader(text.splitlines()):
        rows.append({"rule": r["rule"], "date": dt.date.fromisoformat(r["date"]) if r["date"] else None,
                     "from": dt.date.fromisoformat(r["effective_from"]) if r["effective_from"] else dt.date.min,
                     "to": dt.date.fromisoformat(r["effective_to"]) if r["effective_to"] else dt.date.max,
                     "avoid_from": hhmm(r["avoid_from"]), "avoid_to": hhmm(r["avoid_to"])})
    return tuple(rows)


def entry_allowed(filters: Filters, day: dt.date, t_s: np.ndarray, expiry_day: bool) -> np.ndarray:
    """[S] True where an entry may be decided (`expiry_day`: the nearest expiry is today)."""
    known = {r["rule"] for r in blackout_rules()}
    unknown = sorted(set(filters.blackouts) - known)
    if unknown:
        raise ValueError(f"filters.blackouts: unknown rules {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    bad = sorted(set(filters.weekdays) - set(WEEKDAYS))
    if bad or filters.expiry_day not in ("any", "skip", "only"):
        raise ValueError(f"filters: weekdays {bad} not in {WEEKDAYS}, or expiry_day {filters.expiry_day!r} "
                         f"not any/skip/only")
    ok = np.ones(len(t_s), bool)
    if WEEKDAYS[day.weekday()] not in filters.weekdays or \
            (filters.expiry_day == "skip" and expiry_day) or (filters.expiry_day == "only" and not expiry_day):
        return ~ok
    sod = t_s % DAY_S
    for r in blackout_rules():
        if r["rule"] not in filters.blackouts:
            continue
        applies = r["date"] == day if r["date"] is not None else (
            r["from"] <= day <= r["to"] and (r["rule"] != "weekly_expiry" or expiry_day))
        if applies:
            ok &= ~((sod >= r["avoid_from"]) & (sod < r["avoid_to"]))
    return ok
