"""Hand-built second-by-second paths for engine and strategy scenario tests."""
from __future__ import annotations

import numpy as np

from backtest.data import dense_book
from backtest.kernels.engine import NQ, Q_ASK, Q_BID, Q_LTP, Q_SLIP, Q_TRADABLE, Q_VOL, run_single_leg
from backtest.kernels.params import EVENTS, EXIT_REASONS, FIELDS, IDX

OPEN_S = 1_762_247_700  # some day 09:15:00 as wall seconds; only differences and time of day matter
T0 = (OPEN_S // 86400) * 86400 + 9 * 3600 + 15 * 60


def path(bids, spread=0.10, ltp=None, vol=None, tradable=None, depth=1000.0, levels=5):
    """One contract: bid path, constant spread, LTP (default mid), volume, tradable flags."""
    bids = np.asarray(bids, dtype=float)
    S = len(bids)
    Q = np.full((S, 1, NQ), np.nan)
    B = np.full((S, 1, 20), np.nan)
    asks = bids + spread
    Q[:, 0, Q_BID], Q[:, 0, Q_ASK] = bids, asks
    Q[:, 0, Q_LTP] = (bids + asks) / 2 if ltp is None else ltp
    Q[:, 0, Q_VOL] = 10 if vol is None else vol
    Q[:, 0, Q_TRADABLE] = 1 if tradable is None else np.asarray(tradable, float)
    Q[:, 0, Q_SLIP] = 0.0
    for k in range(levels):
        B[:, 0, k], B[:, 0, 5 + k] = bids - 0.05 * k, depth
        B[:, 0, 10 + k], B[:, 0, 15 + k] = asks + 0.05 * k, depth
    return np.arange(S, dtype=np.int64) + T0, Q, B


def params(**kw):
    P = np.full(len(FIELDS), np.nan)
    base = dict(latency_s=1, partial_beyond_book=1, qty_lots=1, entry_start_s=0, entry_end_s=86400, max_open=1,
                session_exit_s=15 * 3600 + 20 * 60, trail_on_ltp=0, cooldown_losers=0, cooldown_s=0)
    for k, v in {**base, **kw}.items():
        P[IDX[k]] = v
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
    return [EVENTS[c] for c in ev["code"]]
