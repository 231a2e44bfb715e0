"""Expiry calendar and lot sizes for NSE index options: one source of truth for ingest, features
and backtests.

Rules are rows of `transforms/data/expiry_rules.csv` (weekday per underlying, kind and period) and
`lot_sizes.csv` (lot keyed by the contract and the trade date: NSE lists new contracts with the
new lot and moves contracts already listed on a stated day). An expiry that falls on a day without
a normal session moves to the previous such day.
"""
from __future__ import annotations

import calendar as _cal
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from transforms.calendar import previous_expiry_day, read_table

WEEKDAYS = {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4}
_SPECS = {r["underlying"]: r for r in read_table("underlyings")}
UNDERLYINGS = tuple(sorted(_SPECS))


def strike_step(underlying: str) -> int:
    """Listed strike interval in index points (the ATM grid)."""
    return int(_SPECS[underlying]["strike_step"])


def tick_size(underlying: str) -> float:
    return float(_SPECS[underlying]["tick_size"])


def atm_strike(spot: np.ndarray | float, step: int) -> np.ndarray | float:
    """The at-the-money strike: spot rounded to the nearest multiple of `step`, a spot exactly
    half-way going UP (24525 with step 50 -> 24550). The one ATM rule: features, the spot chain
    and the backtest all call this (numpy's round would send ties to the even multiple). NaN in,
    NaN out."""
    return np.floor(np.asarray(spot, dtype=np.float64) / step + 0.5) * step
FAR = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class _Rule:
    underlying: str
    kind: str
    first: dt.date
    last: dt.date
    weekday: int


def _month_start(text: str) -> dt.date:
    return dt.date.fromisoformat(text + "-01") if len(text) == 7 else dt.date.fromisoformat(text)


def _month_end(text: str) -> dt.date:
    if not text:
        return FAR
    if len(text) == 7:
        y, m = map(int, text.split("-"))
        return dt.date(y, m, _cal.monthrange(y, m)[1])
    return dt.date.fromisoformat(text)


@lru_cache(maxsize=1)
def _rules() -> tuple[_Rule, ...]:
    return tuple(
        _Rule(r["underlying"], r["kind"], _month_start(r["first"]), _month_end(r["last"]), WEEKDAYS[r["weekday"]])
        for r in read_table("expiry_rules")
    )


def _rule(underlying: str, kind: str, day: dt.date) -> _Rule | None:
    for r in _rules():
        if r.underlying == underlying and r.kind == kind and r.first <= day <= r.last:
            return r
    return None


def monthly_expiry(underlying: str, year: int, month: int) -> dt.date:
    """Final (holiday-shifted) monthly expiry of the contract month."""
    last = dt.date(year, month, _cal.monthrange(year, month)[1])
    rule = _rule(underlying, "monthly", last)
    if rule is None:
        raise ValueError(f"no monthly expiry rule for {underlying} {year}-{month:02d}")
    scheduled = last - dt.timedelta(days=(last.weekday() - rule.weekday) % 7)
    return previous_expiry_day(scheduled)


def weekly_expiries(underlying: str, start: dt.date, end: dt.date) -> list[dt.date]:
    """Final weekly expiries whose scheduled day lies in [start, end] (monthly weeks included)."""
    out = []
    d = start
    while d <= end:
        rule = _rule(underlying, "weekly", d)
        if rule is not None and d.weekday() == rule.weekday:
            out.append(previous_expiry_day(d))
        d += dt.timedelta(days=1)
    return out


def monthly_expiries(underlying: str, start: dt.date, end: dt.date) -> list[dt.date]:
    """Final monthly expiries of the contract months touching [start, end], inside the range."""
    out = []
    y, m = start.year, start.month
    while dt.date(y, m, 1) <= end:
        e = monthly_expiry(underlying, y, m)
        if start <= e <= end:
            out.append(e)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def expiry_kind(underlying: str, expiry: dt.date) -> str:
    """'monthly' when `expiry` is the month's monthly expiry, else 'weekly'."""
    return "monthly" if monthly_expiry(underlying, expiry.year, expiry.month) == expiry else "weekly"


def listed_expiries(underlying: str, day: dt.date, horizon_days: int = 70) -> list[dt.date]:
    """Expiries trading on `day` (weekly and monthly, nearest first) within a horizon."""
    end = day + dt.timedelta(days=horizon_days)
    found = set(weekly_expiries(underlying, day - dt.timedelta(days=7), end + dt.timedelta(days=7)))
    found |= set(monthly_expiries(underlying, day, end + dt.timedelta(days=31)))
    return sorted(e for e in found if day <= e <= end)


def nearest_expiries(underlying: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """(current weekly-or-nearest, current monthly) expiries trading on `day`."""
    listed = listed_expiries(underlying, day)
    monthly = next(e for e in listed if expiry_kind(underlying, e) == "monthly")
    return listed[0], monthly


def resolve_weekly(underlying: str, named: dt.date) -> dt.date:
    """The final expiry of a weekly contract whose symbol names `named` (already final in symbols)."""
    return final_expiry(underlying, previous_expiry_day(named))


@lru_cache(maxsize=1)
def _redates() -> dict[tuple[str, dt.date], dt.date]:
    return {(r["underlying"], dt.date.fromisoformat(r["listed_expiry"])): dt.date.fromisoformat(r["final_expiry"])
            for r in read_table("expiry_redates")}


def final_expiry(underlying: str, listed: dt.date) -> dt.date:
    """The expiry a contract finally had, for one listed under an older rule and re-dated later."""
    return _redates().get((underlying, listed), listed)


@dataclass(frozen=True)
class _Lot:
    underlying: str
    kind: str
    first: dt.date
    last: dt.date
    from_date: dt.date
    to_date: dt.date
    lot: int


@lru_cache(maxsize=1)
def _lots() -> tuple[_Lot, ...]:
    day = lambda text, default: dt.date.fromisoformat(text) if text else default  # noqa: E731
    return tuple(
        _Lot(r["underlying"], r["kind"], dt.date.fromisoformat(r["first_expiry"]), day(r["last_expiry"], FAR),
             day(r["from_date"], dt.date.min), day(r["to_date"], FAR), int(r["lot"]))
        for r in read_table("lot_sizes")
    )


@lru_cache(maxsize=16384)
def lot_size(underlying: str, expiry: dt.date, trade_date: dt.date) -> int:
    """Units per lot of the contract expiring on `expiry` as traded on `trade_date`. Rows are
    revisions in the order NSE made them: the last row that matches the contract (underlying, kind,
    expiry range) and the trade date wins, so a revision that moves contracts already listed is a
    row with the dates it applies from and to."""
    kind = expiry_kind(underlying, expiry)
    lot = None
    for r in _lots():
        if (r.underlying == underlying and r.kind in (kind, "any") and r.first <= expiry <= r.last
                and r.from_date <= trade_date <= r.to_date):
            lot = r.lot
    if lot is None:
        raise ValueError(f"no lot size for {underlying} expiring {expiry} on {trade_date}")
    return lot
