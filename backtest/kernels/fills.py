"""Where fills happen: market, limit and IOC orders against one 1-second snapshot (nopython).

A snapshot's book is a vector of 4 x L values: bid_px0..L-1, bid_qty0..L-1, ask_px0..L-1,
ask_qty0..L-1, NaN for an empty level; L is 5, or 1 for a book loaded with the touch only (most
orders fill at the touch, so the deeper levels are read from the grid only when an order walks
past it: the kernel raises DepthNeeded and the caller loads the 5 levels and runs the day again).
Prices returned are average fill prices per unit before slippage; `slipped` adds it.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from transforms.expiry import UNDERLYINGS, tick_size

LEVELS = 5
# the lowest price an option trades at: one tick (NSE's index options, Rs 0.05); a compile-time constant
MIN_PRICE = min(tick_size(u) for u in UNDERLYINGS)


class DepthNeeded(Exception):
    """An order walked past the touch of a touch-only book: load the 5 levels and run again."""


@nb.njit(cache=True)
def slipped(px: float, side: int, slip: float) -> float:
    """The price of a fill of `side` (+1 buys, -1 sells) at `px` after `slip` rupees of adverse
    slippage. A sale never goes below the minimum price: slippage makes a price worse, and a sale
    of a Rs 0.05 option at -0.25 would book proceeds no exchange pays (nor below `px` itself when
    the book already quotes under the tick)."""
    out = px + side * slip
    floor = min(px, MIN_PRICE)
    return out if out >= floor else floor


@nb.njit(cache=True)
def walk_book(book: np.ndarray, side: int, qty: float, limit: float) -> tuple:
    """Fill `qty` against the opposite side of the book, best level first, not beyond `limit`
    (NaN = no limit). side +1 buys from the asks, -1 sells into the bids.
    Returns (filled quantity, average price)."""
    levels = book.shape[0] // 4
    px0 = 2 * levels if side > 0 else 0
    q0 = px0 + levels
    left = qty
    cost = 0.0
    limited = False
    for k in range(levels):
        px = book[px0 + k]
        avail = book[q0 + k]
        if math.isnan(px) or math.isnan(avail) or avail <= 0 or left <= 0:
            continue
        if not math.isnan(limit) and ((side > 0 and px > limit + 1e-9) or (side < 0 and px < limit - 1e-9)):
            limited = True
            break
        take = min(left, avail)
        cost += take * px
        left -= take
    if left > 0 and not limited and levels < LEVELS:
        raise DepthNeeded()
    filled = qty - left
    return filled, (cost / filled if filled > 0 else np.nan)


@nb.njit(cache=True)
def market_fill(book: np.ndarray, side: int, qty: float, allow_partial: bool) -> tuple:
    """A market order: walks the levels; beyond the book partial or nothing (by the fill model)."""
    filled, px = walk_book(book, side, qty, np.nan)
    if filled < qty and not allow_partial:
        return 0.0, np.nan
    return filled, px


@nb.njit(cache=True)
def limit_fill(book: np.ndarray, ltp: float, traded: float, side: int, limit: float, arriving: bool) -> float:
    """Fill price of a resting (or arriving) limit order in this snapshot, NaN if it does not fill.

    On arrival a marketable limit takes the touch (price improvement up to the limit); a resting
    limit fills at its own price when the touch quotes through it or a trade prints through it."""
    bid, ask = book[0], book[book.shape[0] // 2]
    if side > 0:
        if not math.isnan(ask) and ask <= limit + 1e-9:
            return ask if arriving else limit
        if traded > 0 and not math.isnan(ltp) and ltp < limit - 1e-9:
            return limit
    else:
        if not math.isnan(bid) and bid >= limit - 1e-9:
            return bid if arriving else limit
        if traded > 0 and not math.isnan(ltp) and ltp > limit + 1e-9:
            return limit
    return np.nan
