"""Hand-built second-by-second paths for engine and strategy scenario tests."""
from __future__ import annotations

import numpy as np

from backtest.data import dense_book
from backtest.enums import EVENT_KINDS, EXIT_REASONS, N_PARAMS, N_QUOTE, Param, Quote
from backtest.kernels.engine import run_single_leg

OPEN_S = 1_762_247_700  # some day 09:15:00 as wall seconds; only differences and time of day matter
T0 = (OPEN_S // 86400) * 86400 + 9 * 3600 + 15 * 60


def path(bids, spread=0.10, ltp=None, vol=None, tradable=None, depth=1000.0, levels=5):
    """One contract: bid path, constant spread, LTP (default mid), volume, tradable flags."""
    bids = np.asarray(bids, dtype=float)
    S = len(bids)
    Q = np.full((S, 1, N_QUOTE), np.nan)
    B = np.full((S, 1, 20), np.nan)
    asks = bids + spread
    Q[:, 0, Quote.bid], Q[:, 0, Quote.ask] = bids, asks
    Q[:, 0, Quote.ltp] = (bids + asks) / 2 if ltp is None else ltp
    Q[:, 0, Quote.vol] = 10 if vol is None else vol
    Q[:, 0, Quote.tradable] = 1 if tradable is None else np.asarray(tradable, float)
    Q[:, 0, Quote.slip] = 0.0
    for k in range(levels):
        B[:, 0, k], B[:, 0, 5 + k] = bids - 0.05 * k, depth
        B[:, 0, 10 + k], B[:, 0, 15 + k] = asks + 0.05 * k, depth
    return np.arange(S, dtype=np.int64) + T0, Q, B


def params(**kw):
    P = np.full(N_PARAMS, np.nan)
    base = dict(latency_s=1, partial_beyond_book=1, qty_lots=1, entry_start_s=0, entry_end_s=86400, max_open=1,
                session_exit_s=15 * 3600 + 20 * 60, trail_on_ltp=0, cooldown_losers=0, cooldown_s=0)
    for k, v in {**base, **kw}.items():
        P[getattr(Param, k)] = v
    return P


def run(t, Q, B, entries: dict, P, exits: dict | None = None, lot=30, order_type=0, limit=None, log=True):
    S = len(t)
    side = np.zeros((S, 1), np.int8)
    typ = np.full((S, 1), order_type, np.int8)
    px = np.full((S, 1), np.nan)
    ex = np.zeros((S, 1), np.int8)
    for i, s in entries.items():
        side[i, 0] = s
        if limit is not None:
            px[i, 0] = limit(i)
    for i, s in (exits or {}).items():
        ex[i, 0] = s
    tr, ev = run_single_leg(t, Q, *dense_book(B), side, typ, px, ex, np.array([lot]), P, log, 100, 10_000)
    tr = tr[tr["entry_i"] >= 0]
    return tr, ev


def reason(tr) -> str:
    return EXIT_REASONS[tr["reason"]]


def event_names(ev) -> list[str]:
    return [EVENT_KINDS[c] for c in ev["code"]]


def day_of(Q, B, t=None, strikes=(25000,), opt_types=("CE",), features=None, spot=None, lot=75,
           underlying="NIFTY"):
    """A DayData of hand-built contracts (one per strike/type pair), as backtest.data.load_day makes
    it: quotes Q [S, C, N_QUOTE], the book B [S, C, 20], features [S, C] by name, spot per second
    (default: the first strike, so it is the ATM contract)."""
    import datetime as dt

    from backtest.data import Contracts, DayData
    from transforms.expiry import atm_strike, strike_step

    S, C = Q.shape[:2]
    t = np.arange(S, dtype=np.int64) + T0 if t is None else t
    day = dt.date(2025, 11, 4)
    symbols = [f"{underlying}25NOV{k}{o}" for k, o in zip(strikes, opt_types)]
    contracts = Contracts(symbols, [dt.date(2025, 11, 25)] * C, np.array(opt_types), np.array(strikes, np.int64),
                          np.full(C, lot, np.int64))
    spot = np.full(S, float(strikes[0])) if spot is None else np.asarray(spot, float)
    book, book_row = dense_book(B)
    return DayData(underlying, day, t, contracts, Q, book, book_row,
                   {k: np.asarray(v, float).reshape(S, C) for k, v in (features or {}).items()}, spot,
                   atm_strike(spot, strike_step(underlying)))
