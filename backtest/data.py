"""One trading day as dense [second, contract] matrices for the engine (pure: Arrow in, arrays out).

Contracts: the nearest expiry only (never a later expiry while the nearer one trades), every strike
present; which of them a strategy may trade at each second (ATM +- k from spot) is a mask built per
strategy. Quotes and the 5-level book come from the padded grid, signals' inputs from features.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backtest.kernels.dense import gather_fields, index_of_second, scatter, scatter_fields
from backtest.kernels.engine import NQ, Q_ASK, Q_ATR, Q_BID, Q_EMA, Q_LTP, Q_TRADABLE, Q_VOL
from transforms.columns import float64_values, float_columns
from transforms.expiry import lot_size, strike_step
from transforms.gaps import segment_bounds
from transforms.pad import wall_seconds

# load_day writes these five Q fields in one pass, as consecutive fields from Q_BID
assert (Q_BID, Q_ASK, Q_LTP, Q_VOL, Q_TRADABLE) == tuple(range(Q_BID, Q_BID + 5))
BOOK_COLUMNS = [f"{side}_{f}{k}" for side, f in (("bid", "px"), ("bid", "qty"), ("ask", "px"), ("ask", "qty"))
                for k in range(5)]


@dataclass
class Contracts:
    symbol: list[str]
    expiry: list[dt.date]
    opt_type: np.ndarray     # "CE"/"PE" per contract
    strike: np.ndarray       # int per contract
    lot: np.ndarray          # units per lot per contract


@dataclass
class DayData:
    underlying: str
    date: dt.date
    t_s: np.ndarray          # [S] wall seconds of the session grid
    contracts: Contracts
    Q: np.ndarray            # [S, C, NQ]
    book: np.ndarray         # [20, rows + 1] the 5-level book of each grid row, then an all-NaN row
    book_row: np.ndarray     # [S, C] the book row of each cell (the NaN row where the contract has none)
    F: dict                  # feature name -> [S, C]
    spot: np.ndarray         # [S]
    atm: np.ndarray          # [S] ATM strike from spot (NaN without spot)

    slippage_of: tuple | None = None   # the slippage config whose matrix Q[:, :, Q_SLIP] holds

    @cached_property
    def tradable(self) -> np.ndarray:
        """[S, C] a real snapshot with a two-sided book and an LTP this second."""
        return self.Q[:, :, Q_TRADABLE] > 0

    @cached_property
    def strikes_from_atm(self) -> np.ndarray:
        """[S, C] |strike - ATM| in strike steps (NaN without spot); computed once per day, read by
        every strategy's selection and slippage."""
        return np.abs(self.contracts.strike[None, :] - self.atm[:, None]) / strike_step(self.underlying)

    def selectable(self, strikes: int, opt_types: tuple[str, ...]) -> np.ndarray:
        """[S, C] mask: contract within ATM +- strikes at that second and of the wanted types."""
        return (self.strikes_from_atm <= strikes + 1e-9) & np.isin(self.contracts.opt_type, opt_types)[None, :]


def session_grid(day: dt.date) -> np.ndarray:
    lo, hi = segment_bounds(day)
    return np.concatenate([np.arange(a, b + 1, dtype=np.int64) for a, b in zip(lo, hi)]) if len(lo) else \
        np.zeros(0, np.int64)


def _book(grid: pa.Table, i: np.ndarray, c: np.ndarray, S: int, C: int) -> tuple[np.ndarray, np.ndarray]:
    """The book stays in grid-row order, one contiguous column per field, and cells point at rows:
    only fills read it (a few per contract and day), so a dense [S, C, 20] copy, 150 MB a day
    written cell by cell, bought nothing."""
    n = grid.num_rows
    book = np.empty((len(BOOK_COLUMNS), n + 1))
    for k, name in enumerate(BOOK_COLUMNS):
        book[k, :n] = _col(grid, name)
    book[:, n] = np.nan
    return book, _row_index(i, c, S, C, n)


def _row_index(i: np.ndarray, c: np.ndarray, S: int, C: int, n: int) -> np.ndarray:
    """[S, C] the row of each cell, n (one past the last row) where no row writes it."""
    row = np.full((S, C), n, np.int64)
    scatter(row, i, c, np.arange(n, dtype=np.int64))
    return row


def dense_book(B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(book, book_row) of a book given dense as [S, C, 20] (how scenario tests write paths)."""
    S, C, K = B.shape
    book = np.concatenate([B.reshape(S * C, K), np.full((1, K), np.nan)]).T.copy()
    return book, np.arange(S * C, dtype=np.int64).reshape(S, C)


def _col(t: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float64, NaN for null."""
    return float64_values(t[name])


GRID_COLUMNS = ["symbol", "expiry", "opt_type", "strike", "ts", "price", "vol_delta", "is_pad", *BOOK_COLUMNS]
KEY_COLUMNS = ["expiry", "opt_type", "strike", "ts"]


def nearest_expiry(expiries: pa.ChunkedArray | pa.Array, day: dt.date) -> dt.date | None:
    """The nearest expiry on or after `day` among the listed ones (the contracts the engine trades)."""
    live = pc.filter(expiries, pc.greater_equal(expiries, pa.scalar(day, pa.date32())))
    return pc.min(live).as_py() if len(live) else None


def nearest_expiry_rows(table: pa.Table, day: dt.date) -> pa.Table:
    nearest = nearest_expiry(table["expiry"], day)
    if nearest is None:
        return table.slice(0, 0)
    if pc.min(table["expiry"]).as_py() == nearest == pc.max(table["expiry"]).as_py():
        return table                      # already only the nearest expiry (read with a filter)
    return table.filter(pc.equal(table["expiry"], pa.scalar(nearest, pa.date32())))


def _contract_codes(t: pa.Table) -> np.ndarray:
    """An integer per (opt_type, strike): strike * 2 + (1 for PE)."""
    strike = t["strike"].to_numpy(zero_copy_only=False).astype(np.int64)
    return strike * 2 + pc.equal(t["opt_type"], "PE").to_numpy(zero_copy_only=False).astype(np.int64)


def _runs(codes: np.ndarray) -> np.ndarray:
    """Start offsets of the runs of equal codes (rows come grouped by contract: a few dozen runs)."""
    return np.r_[0, np.flatnonzero(codes[1:] != codes[:-1]) + 1] if len(codes) else np.zeros(0, np.int64)


def _contract_of_rows(codes: np.ndarray, uniq: np.ndarray) -> np.ndarray:
    """Index into `uniq` of each row's code, looked up once per run rather than once per row."""
    starts = _runs(codes)
    return np.repeat(np.searchsorted(uniq, codes[starts]), np.diff(np.r_[starts, len(codes)]))


def _grid_rows(t_s: np.ndarray, table: pa.Table, name: str, underlying: str, day: dt.date) -> np.ndarray:
    """Session-grid position of each row's second; a row off the grid is an upstream defect."""
    i = index_of_second(t_s, wall_seconds(table["ts"])) if table.num_rows else np.zeros(0, np.int64)
    off = np.flatnonzero(i < 0)
    if len(off):
        raise ValueError(f"{name} {underlying} {day}: {len(off)} rows outside the session grid "
                         f"(first at row {off[0]}, ts {table['ts'][int(off[0])]})")
    return i


def load_day(underlying: str, day: dt.date, grid: pa.Table, features: pa.Table, spot_grid: pa.Table | None,
             feature_names: list[str]) -> DayData:
    """Dense matrices of the nearest-expiry contracts. `grid` and `features` are the partition's
    options_grid and features_options (same rows); `spot_grid` gives ATM."""
    t_s = session_grid(day)
    S = len(t_s)
    grid = nearest_expiry_rows(grid, day)
    features = nearest_expiry_rows(features, day)
    codes = _contract_codes(grid)
    starts = _runs(codes)
    uniq, first_run = np.unique(codes[starts], return_index=True)
    first, c_of_row = starts[first_run], _contract_of_rows(codes, uniq)
    C = len(uniq)
    expiry = [grid["expiry"][int(r)].as_py() for r in first]
    contracts = Contracts(symbol=[grid["symbol"][int(r)].as_py() for r in first], expiry=expiry,
                          opt_type=grid["opt_type"].take(first).to_numpy(zero_copy_only=False).astype(str),
                          strike=grid["strike"].to_numpy(zero_copy_only=False)[first].astype(np.int64),
                          lot=np.array([lot_size(underlying, e) for e in expiry], dtype=np.int64))
    i_of_row = _grid_rows(t_s, grid, "options_grid", underlying, day)
    Q = np.full((S, C, NQ), np.nan)
    bid, ask, ltp = _col(grid, "bid_px0"), _col(grid, "ask_px0"), _col(grid, "price")
    is_pad = grid["is_pad"].to_numpy(zero_copy_only=False).astype(bool)
    tradable = ~is_pad & ~np.isnan(ltp) & ~np.isnan(bid) & ~np.isnan(ask)
    Q[:, :, Q_TRADABLE] = 0.0
    scatter_fields(Q, Q_BID, i_of_row, c_of_row, float_columns([bid, ask, ltp, _col(grid, "vol_delta"), tradable]))
    book, book_row = _book(grid, i_of_row, c_of_row, S, C)
    fc = _contract_of_rows(_contract_codes(features), uniq)
    f_row = _row_index(_grid_rows(t_s, features, "features_options", underlying, day), fc, S, C, features.num_rows)
    engine_inputs = {"atr_1m": Q_ATR, "ema18": Q_EMA}     # features the exit rules read from Q
    wanted = list(dict.fromkeys([*feature_names, *(n for n in engine_inputs if n in features.column_names)]))
    dense = np.empty((len(wanted), S, C))
    gather_fields(dense, f_row, float_columns([_col(features, name) for name in wanted]))
    F = {name: dense[wanted.index(name)] for name in feature_names}
    for name, q in engine_inputs.items():
        if name in wanted:
            Q[:, :, q] = dense[wanted.index(name)]
    spot = np.full(S, np.nan)
    if spot_grid is not None and spot_grid.num_rows:
        si = np.searchsorted(t_s, wall_seconds(spot_grid["ts"]))
        spot[si] = _col(spot_grid, "price")
    step = strike_step(underlying)
    return DayData(underlying, day, t_s, contracts, Q, book, book_row, F, spot, np.round(spot / step) * step)


def dense_spot(t_s: np.ndarray, features_spot: pa.Table | None, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per-second underlying features (features_spot) on the session grid; NaN where absent."""
    out = {n: np.full(len(t_s), np.nan) for n in names}
    if features_spot is None or not features_spot.num_rows:
        return out
    i = np.searchsorted(t_s, wall_seconds(features_spot["ts"]))
    ok = (i < len(t_s))
    for n in names:
        out[n][i[ok]] = _col(features_spot, n)[ok]
    return out
