"""Where fills happen: market, limit and IOC orders against one 1-second snapshot (nopython).

Book layout per snapshot (row of the B array): bid_px0..4, bid_qty0..4, ask_px0..4, ask_qty0..4,
NaN for an empty level. Prices returned are average fill prices per unit before slippage.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

BID_PX, BID_QTY, ASK_PX, ASK_QTY = 0, 5, 10, 15


@nb.njit(cache=True)
def walk_book(book: np.ndarray, side: int, qty: float, limit: float) -> tuple:
    """Fill `qty` against the opposite side of the book, best level first, not beyond `limit`
    (NaN = no limit). side +1 buys from the asks, -1 sells into the bids.
    Returns (filled quantity, average price)."""
    px0 = ASK_PX if side > 0 else BID_PX
    q0 = ASK_QTY if side > 0 else BID_QTY
    left = qty
    cost = 0.0
    for k in range(5):
        px = book[px0 + k]
        avail = book[q0 + k]
        if math.isnan(px) or math.isnan(avail) or avail <= 0 or left <= 0:
            continue
        if not math.isnan(limit) and ((side > 0 and px > limit + 1e-9) or (side < 0 and px < limit - 1e-9)):
            break
        take = min(left, avail)
        cost += take * px
        left -= take
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
    bid, ask = book[BID_PX], book[ASK_PX]
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
