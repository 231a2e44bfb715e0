"""One trading day as dense [second, contract] matrices for the engine (pure: Arrow in, arrays out).

Contracts: the nearest expiry only (never a later expiry while the nearer one trades), every strike
present; which of them a strategy may trade at each second (ATM +- k from spot) is a mask built per
strategy. Quotes, the touch and the signals' inputs come from features_options (which carries the
grid's own L1 values row for row); the 5-level book comes from the padded grid when an order first
walks past the touch.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backtest.kernels.dense import gather_column, index_of_second, scatter, scatter_fields
from backtest.enums import N_QUOTE, Quote
from backtest.kernels.fills import LEVELS
from transforms.columns import NO_VALIDITY, float64_values, float_columns, numeric_parts
from transforms.expiry import atm_strike, lot_size, strike_step
from transforms.calendar import segment_bounds
from warehouse.clock import wall_seconds

# load_day writes these five Q fields in one pass, as consecutive fields from Quote.bid
assert (Quote.bid, Quote.ask, Quote.ltp, Quote.vol, Quote.tradable) == tuple(range(Quote.bid, Quote.bid + 5))
BOOK_COLUMNS = [f"{side}_{f}{k}" for side, f in (("bid", "px"), ("bid", "qty"), ("ask", "px"), ("ask", "qty"))
                for k in range(LEVELS)]
TOUCH_COLUMNS = ["bid_px0", "bid_qty0", "ask_px0", "ask_qty0"]     # the same layout, one level


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
    Q: np.ndarray            # [S, C, N_QUOTE] fields: backtest.enums.Quote
    book: np.ndarray         # [4 x levels, rows + 1] the book of each row (kernels.fills), then an all-NaN row
    book_row: np.ndarray     # [S, C] the book row of each cell (the NaN row where the contract has none)
    F: dict                  # feature name -> [S, C]
    spot: np.ndarray         # [S]
    atm: np.ndarray          # [S] ATM strike from spot (NaN without spot)

    slippage_of: object = None         # the slippage model whose matrix Q[:, :, Quote.slip] holds
    depth_source: Callable[[], pa.Table] | None = None   # the day's DEPTH_COLUMNS rows, for a touch-only book

    @property
    def has_depth(self) -> bool:
        return self.book.shape[0] == len(BOOK_COLUMNS)

    def load_depth(self) -> None:
        """Replace a touch-only book by the 5 levels (an order walked past the touch)."""
        if self.depth_source is None:
            raise ValueError(f"{self.underlying} {self.date}: an order walks past the touch and the "
                             f"5-level book has no source")
        grid = self.depth_source()
        if grid is None:
            raise ValueError(f"options_grid {self.underlying} {self.date}: no partition, and an order walks "
                             f"past the touch")
        self.book, self.book_row = depth_book(grid, self)
        self.depth_source = None

    @cached_property
    def tradable(self) -> np.ndarray:
        """[S, C] a real snapshot with a two-sided book and an LTP this second."""
        return self.Q[:, :, Quote.tradable] > 0

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


def touch_book(features: pa.Table, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(book, book_row) holding the touch only (see kernels.fills): features_options carries L1 of
    every grid row, and most orders fill there."""
    n = features.num_rows
    book = np.empty((len(TOUCH_COLUMNS), n + 1))
    for k, name in enumerate(TOUCH_COLUMNS):
        book[k, :n] = _col(features, name)
    book[:, n] = np.nan
    return book, row


def depth_book(grid: pa.Table, day: "DayData") -> tuple[np.ndarray, np.ndarray]:
    """(book, book_row) of the 5 levels from the day's options_grid rows of the nearest expiry
    (DEPTH_COLUMNS): the 20 book columns are 40 % of a day's read and only fills past the touch
    use them, so they are read when the first such order arrives."""
    c = day.contracts
    uniq = c.strike * 2 + (c.opt_type == "PE")
    codes = _contract_codes(grid)
    if not np.isin(codes[_runs(codes)], uniq).all():
        raise ValueError(f"options_grid {day.underlying} {day.date}: contracts that features_options lacks")
    i = _grid_rows(day.t_s, grid, "options_grid", day.underlying, day.date)
    n = grid.num_rows
    book = np.empty((len(BOOK_COLUMNS), n + 1))
    for k, name in enumerate(BOOK_COLUMNS):
        book[k, :n] = _col(grid, name)
    book[:, n] = np.nan
    return book, _row_index(i, _contract_of_rows(codes, uniq), len(day.t_s), len(uniq), n)


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


def _gather(out: np.ndarray, row: np.ndarray, column: pa.ChunkedArray) -> None:
    """out[i, c] = the column's value at row[i, c] as float64 (NaN for null or no row), from
    Arrow's buffers when the column is one numeric chunk (as a day's run of rows is)."""
    parts = numeric_parts(column.chunk(0)) if column.num_chunks == 1 else None
    gather_column(out, row, *(parts or (float64_values(column), NO_VALIDITY, 0)))


def _col(t: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float64, NaN for null."""
    return float64_values(t[name])


KEY_COLUMNS = ["expiry", "opt_type", "strike", "ts"]
DEPTH_COLUMNS = [*KEY_COLUMNS, *BOOK_COLUMNS]
# what the engine reads of features_options besides the features (the strategies' and atr_1m / ema18
# for the exit rules): the contract keys and the grid's own L1 values that every row carries
QUOTE_COLUMNS = ["symbol", *KEY_COLUMNS, "price", "vol_delta", "is_pad", *TOUCH_COLUMNS]


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


def load_day(underlying: str, day: dt.date, features: pa.Table, spot_grid: pa.Table | None,
             feature_names: list[str], depth_source: Callable[[], pa.Table] | None = None) -> DayData:
    """Dense matrices of the nearest-expiry contracts from the partition's features_options rows
    (QUOTE_COLUMNS and the named features); `spot_grid` gives ATM. The book holds the touch;
    `depth_source` reads the 5 levels if an order walks past it."""
    t_s = session_grid(day)
    S = len(t_s)
    features = nearest_expiry_rows(features, day)
    codes = _contract_codes(features)
    starts = _runs(codes)
    uniq, first_run = np.unique(codes[starts], return_index=True)
    first, c_of_row = starts[first_run], _contract_of_rows(codes, uniq)
    C = len(uniq)
    expiry = [features["expiry"][int(r)].as_py() for r in first]
    contracts = Contracts(symbol=[features["symbol"][int(r)].as_py() for r in first], expiry=expiry,
                          opt_type=features["opt_type"].take(first).to_numpy(zero_copy_only=False).astype(str),
                          strike=features["strike"].to_numpy(zero_copy_only=False)[first].astype(np.int64),
                          lot=np.array([lot_size(underlying, e, day) for e in expiry], dtype=np.int64))
    i_of_row = _grid_rows(t_s, features, "features_options", underlying, day)
    Q = np.full((S, C, N_QUOTE), np.nan)
    bid, ask, ltp = _col(features, "bid_px0"), _col(features, "ask_px0"), _col(features, "price")
    is_pad = features["is_pad"].to_numpy(zero_copy_only=False).astype(bool)
    tradable = ~is_pad & ~np.isnan(ltp) & ~np.isnan(bid) & ~np.isnan(ask)
    Q[:, :, Quote.tradable] = 0.0
    scatter_fields(Q, Quote.bid, i_of_row, c_of_row,
                   float_columns([bid, ask, ltp, _col(features, "vol_delta"), tradable]))
    row = _row_index(i_of_row, c_of_row, S, C, features.num_rows)
    book, book_row = touch_book(features, row)
    engine_inputs = {"atr_1m": Quote.atr, "ema18": Quote.ema}     # features the exit rules read from Q
    wanted = list(dict.fromkeys([*feature_names, *(n for n in engine_inputs if n in features.column_names)]))
    dense = np.empty((len(wanted), S, C))
    for k, name in enumerate(wanted):
        _gather(dense[k], row, features[name])
    F = {name: dense[wanted.index(name)] for name in feature_names}
    for name, q in engine_inputs.items():
        if name in wanted:
            Q[:, :, q] = dense[wanted.index(name)]
    spot = np.full(S, np.nan)
    if spot_grid is not None and spot_grid.num_rows:
        si = np.searchsorted(t_s, wall_seconds(spot_grid["ts"]))
        spot[si] = _col(spot_grid, "price")
    step = strike_step(underlying)
    return DayData(underlying, day, t_s, contracts, Q, book, book_row, F, spot, atm_strike(spot, step),
                   depth_source=depth_source)


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
