"""The bank stocks of an underlying's basket (transforms.basket) on its days, as the recorder's stock
tables in das_nse (the option layout, named by the stock): each a price path driven by the index's
efficient path with a beta, its own random walk and a part-time lead of a few seconds over the
index (parameters: generator/data/stock_fit.json, judgement values, not fitted).

Drawn from their own random stream (salt "stocks"), after everything else of the day: the index,
futures and option rows of a day are the same bytes with or without them.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import math
from importlib import resources

import numpy as np

from generator.snapshots import StockTable

FIT_FILE = "data/stock_fit.json"


@functools.lru_cache(maxsize=1)
def stock_fit() -> dict:
    return json.loads(resources.files("generator").joinpath(FIT_FILE).read_text())


def lead_offsets(rng: np.random.Generator, n: int, lead_s: int, share: float) -> np.ndarray:
    """Seconds the stocks run ahead of the index at each second: lead_s in the minutes drawn as
    leading (probability `share` each), else 0."""
    minutes = rng.random(n // 60 + 1) < share
    return np.where(np.repeat(minutes, 60)[:n], lead_s, 0).astype(np.int64)


def stock_paths(rng: np.random.Generator, spot: np.ndarray, symbols: list[str], start: dict[str, float]) -> dict:
    """Rupee price path per stock: start x exp(beta x the (led) index's log return since the day's
    first second + the stock's own random walk)."""
    fit, n = stock_fit(), len(spot)
    lead = lead_offsets(rng, n, int(fit["lead_s"]["value"]), float(fit["lead_share"]["value"]))
    led = spot[np.minimum(np.arange(n) + lead, n - 1)]
    index_ret = np.log(led / spot[0])
    step_sd = fit["idio_day_vol_pct"]["value"] / 100.0 / math.sqrt(n)
    out = {}
    for s in symbols:
        own = np.cumsum(rng.normal(0.0, step_sd, n))
        out[s] = start[s] * np.exp(fit["beta"][s] * index_ret + own)
    return out


def stock_tables(underlying: str, day: dt.date, seed: int, t: np.ndarray, spot: np.ndarray, carry) -> list[StockTable]:
    """The basket's stock tables of one day (none for an underlying without a basket)."""
    from generator import market as M            # (market calls this module; imported late, no cycle at import)
    from transforms.basket import basket

    symbols = [s for s, _ in basket(underlying)]
    if not symbols:
        return []
    fit = stock_fit()
    rng = M.day_rng(seed, underlying, day, "stocks")
    start = {s: carry.level.get(s, fit["start_price"][s]) for s in symbols}
    paths = stock_paths(rng, spot, symbols, start)
    n = len(t)
    bp = M.BookPath(spread=np.full(n, int(fit["spread_ticks"]["value"])), touch_lots=np.full(n, float(fit["touch_qty"]["value"])),
                    trade_p=np.full(n, float(fit["trade_prob"]["value"])), size=np.full(n, float(fit["trade_size"]["value"])),
                    sign_persistence=0.5, empty_p=np.zeros(n), update_p=np.full(n, 0.9))
    out = []
    for s in symbols:
        fair = paths[s]
        carry.level[s] = float(fair[-1])
        prev = carry.prev_close.get(s, int(M.to_paise_grid(np.array([fair[0]]))[0]))
        rows = M.quote_rows(rng, t, fair, 1, bp, prev, 0)
        for c in ("oi", "oiHigh", "oiLow"):          # a stock has no open interest: the recorder writes 0
            rows[c] = np.zeros(n, np.int64)
        carry.prev_close[s] = int(rows["price"][-1])
        out.append(StockTable(s, rows=M.take(rows, M.changed_rows(rows, rng, bp.update_p))))
    return out
