"""Queue position of a resting LIMIT order in 1-second 5-level snapshots (nopython), after
hftbacktest's queue models (RiskAdverseQueueModel, ProbQueueModel with its probability functions)
adapted to snapshots: per second one trade step (the second's volume when its LTP printed at our
price) and one depth step (the displayed quantity at our price, then and now).

`front` is the quantity ahead of the order (units). The recorded book never holds our order, so the
displayed quantity at our price is all ahead of or behind us, never us.

  placement   front = the displayed quantity at the limit price (0 when the price improves the
              touch or no one rests there; NaN when it lies beyond the 5 displayed levels: set when
              the level is first displayed, and no fill by the queue until then)
  quoted through  the other side quotes at or through the limit (a crossed book cannot hold a
              resting order): the rest fills in full (hftbacktest's best-bid/ask crossing)
  traded through  the LTP printed strictly through the limit with volume: price priority swept
              the level, the rest fills in full (hftbacktest: a trade at a worse price fills)
  traded at   the LTP printed at the limit with volume v: front -= v; the order fills
              min(whole lots of -front, v, rest) and front restarts at 0 (we are at its head)
  depth       risk-averse: front = min(front, displayed) (only a level shrinking below our estimate
              moves us: cancellations never advance us); probability model: the shrink not explained
              by the second's trades, chg = prev - now - v, advances us by (1 - p) x chg where
              p = the probability it happened behind us (ProbFunc), then the same cap
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from backtest.enums import Param, ProbFunc, QueueKind
from backtest.kernels.fills import LEVELS, DepthNeeded

EPS = 1e-9


@nb.njit(cache=True)
def level_qty(book: np.ndarray, side: int, price: float) -> float:
    """Displayed quantity at `price` on the order's own side (bids for a buy): 0 when the price
    improves the touch or falls between displayed levels, NaN beyond the displayed levels of a full
    book; a touch-only book raises DepthNeeded when the price lies behind its touch."""
    levels = book.shape[0] // 4
    p0 = 0 if side > 0 else 2 * levels
    q0 = p0 + levels
    for k in range(levels):
        px = book[p0 + k]
        if math.isnan(px):
            return 0.0                      # the side ends before our price: no one rests there
        if abs(px - price) < EPS:
            q = book[q0 + k]
            return 0.0 if math.isnan(q) else q
        if (side > 0 and px < price - EPS) or (side < 0 and px > price + EPS):
            return 0.0                      # improves this level: nothing displayed at our price
    if levels < LEVELS:
        raise DepthNeeded()
    return np.nan


@nb.njit(cache=True)
def prob_behind(front: float, back: float, func: int, n: float) -> float:
    """hftbacktest's probability functions: the chance a decrease happened behind the order."""
    front = max(front, 0.0)
    back = max(back, 0.0)
    if func == ProbFunc.power:
        a, b = back ** n, front ** n
        p = a / (a + b) if a + b > 0 else 1.0
    elif func == ProbFunc.log:
        a, b = math.log1p(back), math.log1p(front)
        p = a / (a + b) if a + b > 0 else 1.0
    elif func == ProbFunc.power2:
        d = (back + front) ** n
        p = back ** n / d if d > 0 else 1.0
    elif func == ProbFunc.log2:
        d = math.log1p(back + front)
        p = math.log1p(back) / d if d > 0 else 1.0
    else:
        t = front + back
        p = 1.0 - (front / t) ** n if t > 0 else 1.0
    return 1.0 if math.isinf(p) or math.isnan(p) else p


@nb.njit(cache=True)
def depth_step(model: int, func: int, n: float, front: float, prev: float, now: float, traded: float) -> float:
    """The queue ahead after the displayed quantity at our price went from `prev` to `now` in a
    second whose trades at our price were `traded` (already taken off `front`)."""
    if math.isnan(now):
        return front                        # not displayed: nothing learnt
    if math.isnan(front):
        return now                          # first sight of the level: everyone shown is ahead
    if model == QueueKind.prob and not math.isnan(prev):
        chg = prev - now - traded           # the shrink trades do not explain: cancellations
        if chg > 0:
            back = prev - front
            p = prob_behind(front, back, func, n)
            front = front - (1.0 - p) * chg + min(back - p * chg, 0.0)
    return max(min(front, now), 0.0)


@nb.njit(cache=True)
def queue_fill(book: np.ndarray, ltp: float, traded: float, side: int, limit: float, lot: float, rest: float,
               front: float, prev: float, model: int, func: int, n: float) -> tuple:
    """One second of a resting limit order with `rest` units left and `front` ahead of it; `prev`
    the displayed quantity at its price the second before. Returns (units filled now, front, the
    displayed quantity now)."""
    now = level_qty(book, side, limit)
    levels = book.shape[0] // 4
    bid, ask = book[0], book[2 * levels]
    crossed = (side > 0 and not math.isnan(ask) and ask <= limit + EPS) or \
              (side < 0 and not math.isnan(bid) and bid >= limit - EPS)
    through = traded > 0 and not math.isnan(ltp) and ((side > 0 and ltp < limit - EPS) or
                                                      (side < 0 and ltp > limit + EPS))
    if crossed or through:
        return rest, 0.0, now
    filled = 0.0
    at_level = 0.0
    if traded > 0 and not math.isnan(ltp) and abs(ltp - limit) < EPS:
        at_level = traded
        if not math.isnan(front):
            front -= traded
            if front < 0:
                filled = min(math.floor(-front / lot + EPS) * lot, traded, rest)
                front = 0.0
    front = depth_step(model, func, n, front, prev, now, at_level)
    return filled, front, now


@nb.njit(cache=True)
def queue_rank(front: float, order_qty: float) -> float:
    """The order's estimated place in its queue: 1 + the orders ahead, each of `order_qty` units
    (NaN ahead -- the level beyond the displayed book -- ranks last)."""
    if math.isnan(front):
        return np.inf
    return 1.0 + math.ceil(front / order_qty - EPS)


# a resting limit's state, one row per leg (kernels.position keeps it beside the leg's own state)
Q_REST, Q_FRONT, Q_PREV, Q_PLACED, Q_LOT = 0, 1, 2, 3, 4
N_QUEUE_STATE = 5


@nb.njit(cache=True)
def limit_step(qs: np.ndarray, book: np.ndarray, ltp: float, traded: float, side: int, limit: float,
               order_qty: float, lot: float, expiring: bool, P: np.ndarray) -> tuple:
    """One real second of a LIMIT order under a queue model (P[Param.queue_*]); `qs` its state.
    The first second it meets a real book it is placed: marketable there, it takes the touch in
    full (crossing the spread); else it joins the queue (and is cancelled at once when the skip rule
    ranks it too far back; an order `expiring` this second is not queued). Later seconds: queue_fill. Returns (units filled, price, crossed the
    spread, skipped)."""
    if qs[Q_PLACED] == 0:
        levels = book.shape[0] // 4
        bid, ask = book[0], book[2 * levels]
        if side > 0 and not math.isnan(ask) and ask <= limit + EPS:
            return order_qty, ask, True, False
        if side < 0 and not math.isnan(bid) and bid >= limit - EPS:
            return order_qty, bid, True, False
        if expiring:           # cancelled this second anyway (timeout 0): its queue is never read, and
            return 0.0, np.nan, False, False    # a touch-only book needs no deeper levels for it
        front = level_qty(book, side, limit)
        qs[Q_PLACED], qs[Q_FRONT], qs[Q_PREV], qs[Q_REST], qs[Q_LOT] = 1.0, front, front, order_qty, lot
        rank = P[Param.queue_skip_rank]
        if not math.isnan(rank) and queue_rank(front, P[Param.queue_order_lots] * lot) >= rank - EPS:
            return 0.0, np.nan, False, True
        return 0.0, np.nan, False, False
    filled, front, now = queue_fill(book, ltp, traded, side, limit, qs[Q_LOT], qs[Q_REST], qs[Q_FRONT], qs[Q_PREV],
                                    int(P[Param.queue_model]), int(P[Param.queue_func]), P[Param.queue_n])
    qs[Q_FRONT], qs[Q_PREV] = front, now
    qs[Q_REST] -= filled
    return filled, (limit if filled > 0 else np.nan), False, False


@nb.njit(cache=True)
def note_fill(ev, n_ev: int, on: bool, qty: float, qs: np.ndarray) -> None:
    """The units of the event just logged (a fill, or a cancelled rest) and, for a queued limit,
    the queue ahead of it after this second."""
    if on and n_ev > 0:
        ev[n_ev - 1]["qty"] = qty
        if qs.shape[0] > Q_PLACED and qs[Q_PLACED] > 0:
            ev[n_ev - 1]["queue_ahead"] = qs[Q_FRONT]
