"""Stress runs: the same config replayed with seeded index jumps injected (issue #18; the
conversation's 0.6 % gap), reported beside the plain run. Nothing is written.

The model (declared, deterministic by seed): on each day, `jumps` seconds are drawn uniformly from
the session grid with numpy's default generator seeded by (seed, the day's ordinal), each with a
random sign. At a jump second the index gaps by `pct` % of its price there; from that second on
the index carries the sum D of the gaps so far, and every option's quotes (bid, ask, LTP, every
book level, and the bid_px0 / ask_px0 / price features the signals read) shift by its second-order
Taylor move delta x D + 0.5 x gamma x D^2, with delta and gamma of that contract-second
(features_options `delta`, `gamma`), floored at the tick (Rs 0.05). The future moves by D.
Limits, named: features other than those three (EMAs, VWAP, IV, spot features such as roc_60s)
keep their plain values; a contract-second without greeks (no IV) does not move; book quantities
and traded volumes are unchanged.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from backtest.data import FUTURE, DayData
from backtest.enums import Quote
from backtest.kernels.fills import MIN_PRICE as TICK
from transforms.expiry import atm_strike, strike_step

JUMP_PCT = 0.6
GREEKS = ("delta", "gamma")
SHIFTED_FEATURES = ("bid_px0", "ask_px0", "price")


def jump_path(n_seconds: int, spot: np.ndarray, day: dt.date, jumps: int, seed: int, pct: float = JUMP_PCT) -> np.ndarray:
    """[S] the index displacement D carried at each second (rupees): the seeded gaps summed."""
    rng = np.random.default_rng([seed, day.toordinal()])
    k = min(jumps, n_seconds)
    at = np.sort(rng.choice(n_seconds, size=k, replace=False)) if k else np.zeros(0, np.int64)
    sign = rng.choice(np.array([-1.0, 1.0]), size=k)
    level = np.where(np.isnan(spot), np.nanmean(spot) if np.isfinite(spot).any() else 0.0, spot)
    gaps = np.zeros(n_seconds)
    np.add.at(gaps, at, sign * level[at] * pct / 100.0)
    return np.cumsum(gaps)


def option_shift(D: np.ndarray, delta: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """[S, C] each contract's move: delta x D + 0.5 x gamma x D^2 (0 where a greek is missing)."""
    move = delta * D[:, None] + 0.5 * gamma * (D ** 2)[:, None]
    return np.where(np.isfinite(move), move, 0.0)


def _floor(px: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(px), px, np.maximum(px, TICK))


def stress_day(day: DayData, jumps: int, seed: int, pct: float = JUMP_PCT) -> DayData:
    """A copy of `day` with the jumps injected (the 5-level book loaded first, so no later reload
    brings back the plain prices)."""
    if day.depth_source is not None:
        day.load_depth()
    S, C = day.Q.shape[:2]
    D = jump_path(S, day.spot, day.date, jumps, seed, pct)
    shift = option_shift(D, day.F["delta"], day.F["gamma"])
    shift[:, day.contracts.opt_type == FUTURE] = D[:, None]
    Q = day.Q.copy()
    for f in (Quote.bid, Quote.ask, Quote.ltp):
        Q[:, :, f] = _floor(Q[:, :, f] + shift)
    book = day.book.copy()
    levels = book.shape[0] // 4
    none_row = book.shape[1] - 1
    rows, first = np.unique(day.book_row.ravel(), return_index=True)
    keep = rows != none_row
    rows, first = rows[keep], first[keep]
    for r in [*range(levels), *range(2 * levels, 3 * levels)]:          # bid and ask prices
        book[r, rows] = _floor(book[r, rows] + shift.ravel()[first])
    F = dict(day.F)
    for name in SHIFTED_FEATURES:
        if name in F:
            F[name] = _floor(F[name] + shift)
    spot = day.spot + D
    out = dataclasses.replace(day, Q=Q, book=book, F=F, spot=spot, atm=atm_strike(spot, strike_step(day.underlying)),
                              slippage_of=None, depth_source=None)
    return out


def stress_run(root, strategy, cfg, underlying: str, days: list[dt.date], jumps: int, seed: int,
               pct: float = JUMP_PCT) -> dict:
    """The config over `days` with jumps injected: the run's metrics (nothing written)."""
    from backtest.run import Needs, load_inputs
    from backtest.simulate import simulate_day, summarize_run
    from transforms.calendar import session_seconds
    from warehouse import schema as S

    import pyarrow as pa

    base = Needs.of([(strategy, cfg)])
    needs = dataclasses.replace(base, features=tuple(sorted(set(base.features) | set(GREEKS))))
    legs, capital = [], None
    for d in days:
        loaded = load_inputs(root, underlying, d, needs)
        if loaded is None:
            continue
        data, spot = loaded
        res = simulate_day(strategy, cfg, stress_day(data, jumps, seed, pct), "stress", False, spot, None, capital)
        capital = (cfg.risk.capital if capital is None else capital) + res.gross
        legs.append(res.legs)
    table = pa.concat_tables(legs) if legs else S.TRADE_LEGS.empty_table()
    session_s = float(np.mean([session_seconds(d) for d in days])) if days else 0.0
    return summarize_run(table, days, session_s)
