"""The bank stocks of an underlying's basket (transforms.basket) on its days, as the recorder's stock
tables in das_nse (the option layout, named by the stock): each a price path driven by the index's
efficient path with a beta, its own random walk and a part-time lead of a few seconds over the
index (parameters: generator/data/stock_fit.json, judgement values, not fitted). The price paths are
here; generator.market.stock_tables makes them the recorder's rows, drawn from their own random
stream (salt "stocks") after everything else of the day: the index, futures and option rows of a day
are the same bytes with or without them.
"""
from __future__ import annotations

import functools
import json
import math
from importlib import resources

import numpy as np

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
