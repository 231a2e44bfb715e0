"""Small helpers every engine step uses: the latency arrival and the event log (nopython)."""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def arrival(t_s, i: int, delay_s: float) -> int:
    """First grid index at or after t_s[i] + delay (latency is in seconds, not rows); a delay of 0
    is the decision second itself."""
    target = t_s[i] + delay_s
    j = i
    while j < t_s.shape[0] and t_s[j] < target:
        j += 1
    return j


@nb.njit(cache=True)
def log_event(ev, n_ev: int, on: bool, record: int, i: int, code: int, price: float, stop: float, target: float,
              bid: float, ask: float) -> int:
    """Append one event (when logging is on and the buffer has room); returns the new count.
    Nothing reads events back, so logging on or off changes no trade."""
    if on and n_ev < ev.shape[0]:
        e = ev[n_ev]
        e["record"], e["i"], e["code"], e["price"] = record, i, code, price
        e["stop"], e["target"], e["bid"], e["ask"] = stop, target, bid, ask
        e["qty"], e["queue_ahead"] = np.nan, np.nan          # a fill's own (kernels.queue.note_fill)
        return n_ev + 1
    return n_ev
