"""Hand-built second-by-second paths for engine and strategy scenario tests: contracts whose bid,
ask, LTP, volume and book the test writes, wrapped as the DayData the loader would make, and
configs run through the one position engine (backtest.compile + kernels.position)."""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from backtest.compile import kernel_inputs
from backtest.data import Contracts, DayData, dense_book
from backtest.enums import EVENT_KINDS, EXIT_REASONS, N_QUOTE, Quote
from backtest.simulate import run_engine
from backtest.strategies.base import Exits, Filters, Leg, Order, Plan, PositionRules, Risk, StrategyConfig, Strike
from transforms.expiry import atm_strike, strike_step

OPEN_S = 1_762_247_700  # some day 09:15:00 as wall seconds; only differences and time of day matter
T0 = (OPEN_S // 86400) * 86400 + 9 * 3600 + 15 * 60
DAY = dt.date(2025, 11, 4)
EXPIRY = dt.date(2025, 11, 25)
NO_FILTERS = Filters(blackouts=())


def path(bids, spread=0.10, ltp=None, vol=None, tradable=None, depth=1000.0, levels=5):
    """One contract: bid path, constant spread, LTP (default mid), volume, tradable flags."""
    t, Q, B = book([bids], spread=spread, depth=depth, levels=levels)
    if ltp is not None:
        Q[:, 0, Quote.ltp] = ltp
    if vol is not None:
        Q[:, 0, Quote.vol] = vol
    if tradable is not None:
        Q[:, 0, Quote.tradable] = np.asarray(tradable, float)
    return t, Q, B


def book(bids_per_contract, spread=0.10, depth=1000.0, levels=5, start=T0):
    """Several contracts: one bid path each (a constant spread above it, LTP at the mid, volume 10,
    every second real), 5 levels 0.05 apart with `depth` units each."""
    paths = [np.asarray(b, float) for b in bids_per_contract]
    S, C = len(paths[0]), len(paths)
    Q = np.full((S, C, N_QUOTE), np.nan)
    B = np.full((S, C, 20), np.nan)
    for c, bids in enumerate(paths):
        asks = bids + spread
        Q[:, c, Quote.bid], Q[:, c, Quote.ask], Q[:, c, Quote.ltp] = bids, asks, (bids + asks) / 2
        Q[:, c, Quote.vol], Q[:, c, Quote.tradable], Q[:, c, Quote.slip] = 10, 1, 0.0
        for k in range(levels):
            B[:, c, k], B[:, c, 5 + k] = bids - 0.05 * k, depth
            B[:, c, 10 + k], B[:, c, 15 + k] = asks + 0.05 * k, depth
    return np.arange(S, dtype=np.int64) + start, Q, B


def day_of(Q, B, t=None, strikes=(25000,), opt_types=("CE",), features=None, spot=None, lot=75,
           underlying="NIFTY", expiries=None, date=DAY, listed=None):
    """A DayData of hand-built contracts (one per strike/type pair; opt_type "FUT" is the future),
    as backtest.data.load_day makes it: quotes Q [S, C, N_QUOTE], the book B [S, C, 20], features
    [S, C] by name, spot per second (default: the first strike, so it is the ATM contract)."""
    S, C = Q.shape[:2]
    t = np.arange(S, dtype=np.int64) + T0 if t is None else t
    expiries = list(expiries) if expiries is not None else [EXPIRY] * C
    symbols = [f"{underlying}{e:%y%b%d}{k}{o}".upper() for k, o, e in zip(strikes, opt_types, expiries)]
    lots = np.full(C, lot, np.int64) if np.isscalar(lot) else np.asarray(lot, np.int64)
    contracts = Contracts(symbols, expiries, np.array(opt_types), np.array(strikes, np.int64), lots)
    spot = np.full(S, float(strikes[0])) if spot is None else np.asarray(spot, float)
    book_, book_row = dense_book(B)
    F = {k: np.asarray(v, float).reshape(S, C) for k, v in (features or {}).items()}
    listed = sorted(set(e for e, o in zip(expiries, opt_types) if o != "FUT")) if listed is None else listed
    return DayData(underlying, date, t, contracts, Q, book_, book_row, F, spot, atm_strike(spot, strike_step(underlying)),
                   listed_expiries=listed)


def scalp(exits: Exits | None = None, order: Order | None = None, **risk) -> StrategyConfig:
    """A one-leg strategy whose plan picks the contract and side (the scalps' shape)."""
    cfg = StrategyConfig("scalp", legs=[Leg("scalp", instrument="option", strike=Strike(by="signal"),
                                            order=order or Order("market", "signal"))],
                         exits=exits or Exits(), filters=NO_FILTERS)
    cfg.risk = dataclasses.replace(Risk(entry_windows=[("00:00:00", "23:59:59")]), **risk)
    return cfg


def entries_plan(entries: dict, C: int = 1, exits: dict | None = None, S: int | None = None, order_type=None,
                 limit=None) -> Plan:
    """Candidates {second: side} on contract 0 (or {second: (contract, side)}); `exits` {second: +1/-1}
    on contract 0 as the plan's exit signal; `limit(i)` the limit price of the entry at i."""
    items = sorted((i, *(v if isinstance(v, tuple) else (0, v))) for i, v in entries.items())
    i = np.array([x[0] for x in items], np.int64)
    c = np.array([x[1] for x in items], np.int64)
    d = np.array([x[2] for x in items], np.int8)
    typ = None if order_type is None else np.full(len(i), order_type, np.int8)
    px = None if limit is None else np.array([limit(x) for x in i], float)
    exit_sig = None
    if exits:
        exit_sig = np.zeros((S, C), np.int8)
        for k, s in exits.items():
            exit_sig[k, 0] = s
    return Plan(i, c, d, typ, px, exit_sig)


def engine(day: DayData, cfg: StrategyConfig, plan: Plan, spot: dict | None = None, log: bool = True):
    """The position engine on a hand-built day: (leg records of filled legs, positions, events)."""
    out = run_engine(day, kernel_inputs(cfg, day, plan, spot or {}), log)
    filled = out.legs["entry_i"] >= 0
    return out.legs[filled], out.positions, out.events


def run(t, Q, B, entries: dict, exits: Exits | None = None, signal_exits: dict | None = None, lot=30, order_type=None,
        limit=None, log=True, entry_timeout_s=None, partial_beyond_book=1, session_exit="15:20:00", latency=1,
        **risk):
    """A one-contract scalp over a path: (filled legs, events). `entries` {second: side}; the
    entry's order is market unless `order_type` (with `limit(i)` its price)."""
    from backtest.models import BookFill, ConstantLatency, Execution

    day = day_of(Q, B, t, lot=lot)
    cfg = scalp(exits, Order("market", "signal", timeout_s=entry_timeout_s), **risk)
    cfg.position = PositionRules(session_exit=session_exit)
    cfg.execution = Execution(latency=ConstantLatency(latency),
                              fill=BookFill("partial" if partial_beyond_book else "reject"))
    legs, _, ev = engine(day, cfg, entries_plan(entries, 1, signal_exits, len(t), order_type, limit), log=log)
    return legs, ev


def with_position(cfg: StrategyConfig, **rules) -> StrategyConfig:
    cfg.position = dataclasses.replace(cfg.position if cfg.position else PositionRules(), **rules)
    return cfg


def reason(tr) -> str:
    return EXIT_REASONS[tr["reason"]]


def reasons(legs) -> list[str]:
    return [EXIT_REASONS[r] for r in legs["reason"]]


def event_names(ev) -> list[str]:
    return [EVENT_KINDS[c] for c in ev["code"]]


# the execution costs before issue #18 (no slippage, Rs 20 an order): the strategy scenario tests
# pin prices and P&L worked out by hand for their rules, not for the cost defaults
PRE_18_COSTS = {"slippage": {"atm": 0.0, "otm": 0.0}, "broker": "rs20"}


def pre_18_costs(cfg: StrategyConfig) -> StrategyConfig:
    """`cfg` with the costs its hand-worked numbers assume (PRE_18_COSTS); its queue model kept."""
    cfg.execution = cfg.execution.with_overrides(PRE_18_COSTS)
    return cfg
