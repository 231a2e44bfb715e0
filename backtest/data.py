"""One trading day as dense [second, contract] matrices for the engine (pure: Arrow in, arrays out).

Contracts: the expiries the strategies' legs name (nearest weekly, next weekly, current monthly,
next monthly: resolved per day from the listed expiries, `expiry_of`), every strike present, and the
index future when a leg trades it (opt_type "FUT", strike 0, the last contract). Contracts are
ordered by expiry (nearest first), then strike, CE before PE. Which of them a leg may trade each
second is picked per strategy (backtest.selectors). Quotes, the touch and the signals' inputs come
from features_options (which carries the grid's own L1 values row for row) and the future's ticks
(carried forward over its silent seconds, which never trade); the 5-level book comes from the padded
grid when an order first walks past the touch.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backtest.kernels.dense import gather_column, index_of_second, scatter, scatter_fields
from backtest.enums import N_QUOTE, Quote
from backtest.kernels.fills import LEVELS
from transforms.columns import NO_VALIDITY, float64_values, float_columns, numeric_parts
from transforms.expiry import atm_strike, expiry_kind, lot_size, strike_step
from transforms.calendar import segment_bounds
from warehouse.clock import wall_seconds

# load_day writes these five Q fields in one pass, as consecutive fields from Quote.bid
assert (Quote.bid, Quote.ask, Quote.ltp, Quote.vol, Quote.tradable) == tuple(range(Quote.bid, Quote.bid + 5))
BOOK_COLUMNS = [f"{side}_{f}{k}" for side, f in (("bid", "px"), ("bid", "qty"), ("ask", "px"), ("ask", "qty"))
                for k in range(LEVELS)]
TOUCH_COLUMNS = ["bid_px0", "bid_qty0", "ask_px0", "ask_qty0"]     # the same layout, one level
EXPIRY_SLOTS = ("weekly", "next_weekly", "monthly", "next_monthly")
FUTURE = "FUT"


def resolve_expiry(underlying: str, day: dt.date, listed: list[dt.date], slot: str,
                   on_expiry_day: str = "trade") -> dt.date | None:
    """The expiry a leg's slot means on `day` among the listed ones: weekly = the nearest (a monthly
    week's weekly is the monthly), next_weekly = the one after, monthly / next_monthly = the nearest
    monthly expiries. On an expiry day, `roll` skips the contract expiring today."""
    if slot not in EXPIRY_SLOTS:
        raise ValueError(f"expiry {slot!r} is not one of {', '.join(EXPIRY_SLOTS)}")
    live = sorted(e for e in listed if e > day or (e == day and on_expiry_day == "trade"))
    if slot in ("monthly", "next_monthly"):
        live = [e for e in live if expiry_kind(underlying, e) == "monthly"]
    k = 1 if slot.startswith("next") else 0
    return live[k] if len(live) > k else None


@dataclass
class Contracts:
    symbol: list[str]
    expiry: list[dt.date]
    opt_type: np.ndarray     # "CE"/"PE"/"FUT" per contract
    strike: np.ndarray       # int per contract (0 for the future)
    lot: np.ndarray          # units per lot per contract


@dataclass
class DayData:
    underlying: str
    date: dt.date
    t_s: np.ndarray          # [S] wall seconds of the session grid
    contracts: Contracts
    Q: np.ndarray            # [S, C, N_QUOTE] fields: backtest.enums.Quote
    book: np.ndarray         # [4 x levels, rows + 1 + future rows] the book of each row (kernels.fills)
    book_row: np.ndarray     # [S, C] the book row of each cell (the all-NaN row where the contract has none)
    F: dict                  # feature name -> [S, C]
    spot: np.ndarray         # [S]
    atm: np.ndarray          # [S] ATM strike from spot (NaN without spot)

    slippage_of: object = None         # the slippage model whose matrix Q[:, :, Quote.slip] holds
    depth_source: Callable[[], pa.Table] | None = None   # the day's DEPTH_COLUMNS rows, for a touch-only book
    listed_expiries: list = field(default_factory=list)  # every option expiry recorded that day
    future_rows: pa.Table | None = None                  # the loaded future's ticks (its book rows)

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
    def last_real(self) -> np.ndarray:
        """[C] each contract's last tradable second (-1: none): where its data ends."""
        t = self.tradable
        if not t.shape[0]:
            return np.full(t.shape[1], -1, np.int64)
        last = t.shape[0] - 1 - np.argmax(t[::-1], axis=0)
        return np.where(t.any(axis=0), last, -1).astype(np.int64)

    @cached_property
    def strikes_from_atm(self) -> np.ndarray:
        """[S, C] |strike - ATM| in strike steps (NaN without spot; 0 for the future); computed once
        per day, read by every strategy's selection and slippage."""
        out = np.abs(self.contracts.strike[None, :] - self.atm[:, None]) / strike_step(self.underlying)
        out[:, self.contracts.opt_type == FUTURE] = 0.0
        return out

    @property
    def is_expiry_day(self) -> bool:
        """Is the nearest listed expiry today?"""
        return bool(self.listed_expiries) and min(self.listed_expiries) == self.date

    def expiry_of(self, slot: str, on_expiry_day: str = "trade") -> dt.date | None:
        return resolve_expiry(self.underlying, self.date, self.listed_expiries or list(self.contracts.expiry),
                              slot, on_expiry_day)

    def contract_mask(self, instrument: str, slot: str, on_expiry_day: str = "trade") -> np.ndarray:
        """[C] the loaded contracts of an instrument (CE, PE, option = both) and expiry slot."""
        want = self.expiry_of(slot, on_expiry_day)
        types = ("CE", "PE") if instrument == "option" else (instrument,)
        return np.isin(self.contracts.opt_type, types) & np.array([e == want for e in self.contracts.expiry], bool)

    def future_index(self, on_expiry_day: str = "trade") -> int:
        """The loaded future's contract index (-1 without one, or when a roll wants a later one)."""
        fut = np.flatnonzero(self.contracts.opt_type == FUTURE)
        if not len(fut):
            return -1
        c = int(fut[0])
        return -1 if on_expiry_day == "roll" and self.contracts.expiry[c] == self.date else c

    def selectable(self, strikes: int, opt_types: tuple[str, ...], slot: str = "weekly",
                   on_expiry_day: str = "trade") -> np.ndarray:
        """[S, C] mask: contract within ATM +- strikes at that second, of the wanted types and expiry."""
        mask = self.contract_mask("option", slot, on_expiry_day) & np.isin(self.contracts.opt_type, opt_types)
        return (self.strikes_from_atm <= strikes + 1e-9) & mask[None, :]


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


def _with_future(book: np.ndarray, book_row: np.ndarray, fut: pa.Table | None, t_s: np.ndarray,
                 columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The book with the future's rows appended after the all-NaN row, and the future's column of
    book_row (its last contract) pointing at them on its real seconds."""
    if fut is None:
        return book, book_row
    nan_row = book.shape[1] - 1
    i = _future_seconds(t_s, fut)
    on = i >= 0
    rows = np.empty((len(columns), int(on.sum())))
    for k, name in enumerate(columns):
        rows[k] = _col(fut, name)[on]
    book_row[:, -1] = nan_row
    book_row[i[on], -1] = nan_row + 1 + np.arange(rows.shape[1])
    return np.concatenate([book, rows], axis=1), book_row


def depth_book(grid: pa.Table, day: "DayData") -> tuple[np.ndarray, np.ndarray]:
    """(book, book_row) of the 5 levels from the day's options_grid rows of the loaded expiries
    (DEPTH_COLUMNS) and the future's ticks: the 20 book columns are 40 % of a day's read and only
    fills past the touch use them, so they are read when the first such order arrives."""
    c = day.contracts
    has_future = day.future_rows is not None
    n_opt = len(c.symbol) - int(has_future)
    expiries = sorted(set(c.expiry[:n_opt]))
    uniq = _codes(np.array([_days(e) for e in c.expiry[:n_opt]], np.int64), c.strike[:n_opt],
                  c.opt_type[:n_opt] == "PE", expiries)
    grid = grid.filter(pc.is_in(grid["expiry"], pa.array(expiries, pa.date32()))) if grid.num_rows else grid
    codes = _contract_codes(grid, expiries)
    if not np.isin(codes[_runs(codes)], uniq).all():
        raise ValueError(f"options_grid {day.underlying} {day.date}: contracts that features_options lacks")
    i = _grid_rows(day.t_s, grid, "options_grid", day.underlying, day.date)
    n = grid.num_rows
    book = np.empty((len(BOOK_COLUMNS), n + 1))
    for k, name in enumerate(BOOK_COLUMNS):
        book[k, :n] = _col(grid, name)
    book[:, n] = np.nan
    row = _row_index(i, _contract_of_rows(codes, uniq), len(day.t_s), len(c.symbol), n)
    return _with_future(book, row, day.future_rows, day.t_s, BOOK_COLUMNS)


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
# what the engine reads of the future's ticks
FUTURE_COLUMNS = ["symbol", "expiry", "ts", "price", "vol_delta", *BOOK_COLUMNS]


def nearest_expiry(expiries: pa.ChunkedArray | pa.Array, day: dt.date) -> dt.date | None:
    """The nearest expiry on or after `day` among the listed ones."""
    live = pc.filter(expiries, pc.greater_equal(expiries, pa.scalar(day, pa.date32())))
    return pc.min(live).as_py() if len(live) else None


def listed_expiries(expiries: pa.ChunkedArray | pa.Array | None, day: dt.date) -> list[dt.date]:
    """The distinct expiries on or after `day` (what a day's legs may name), nearest first."""
    if expiries is None or not len(expiries):
        return []
    return sorted(e for e in pc.unique(expiries).to_pylist() if e is not None and e >= day)


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _codes(days: np.ndarray, strike: np.ndarray, is_pe: np.ndarray, expiries: list[dt.date]) -> np.ndarray:
    """An integer per (expiry, opt_type, strike): the expiry's rank among `expiries` x 10^7 +
    strike x 2 + (1 for PE), so contracts sort by expiry, then strike, CE before PE."""
    rank = np.searchsorted(np.array([_days(e) for e in expiries], np.int64), days)
    return rank * 10_000_000 + strike.astype(np.int64) * 2 + is_pe.astype(np.int64)


def _contract_codes(t: pa.Table, expiries: list[dt.date]) -> np.ndarray:
    days = t["expiry"].cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    strike = t["strike"].to_numpy(zero_copy_only=False).astype(np.int64)
    return _codes(days, strike, pc.equal(t["opt_type"], "PE").to_numpy(zero_copy_only=False), expiries)


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


def _future_seconds(t_s: np.ndarray, fut: pa.Table) -> np.ndarray:
    """Grid position of each of the future's ticks (-1 off the grid: futures trade a pre-open)."""
    return index_of_second(t_s, wall_seconds(fut["ts"])) if fut.num_rows else np.zeros(0, np.int64)


def _future_quotes(Q: np.ndarray, c: int, t_s: np.ndarray, fut: pa.Table) -> None:
    """The future's quote fields: real ticks on their seconds, carried forward over silent ones
    (marks keep the last real quote; those seconds are not tradable)."""
    i = _future_seconds(t_s, fut)
    on = i >= 0
    i = i[on]
    bid, ask, ltp = (_col(fut, n)[on] for n in ("bid_px0", "ask_px0", "price"))
    S = len(t_s)
    last = np.full(S, -1, np.int64)
    last[i] = np.arange(len(i))
    last = np.maximum.accumulate(last)
    have = last >= 0
    for field_, v in ((Quote.bid, bid), (Quote.ask, ask), (Quote.ltp, ltp)):
        Q[have, c, field_] = v[last[have]]
    Q[:, c, Quote.vol] = 0.0
    Q[i, c, Quote.vol] = _col(fut, "vol_delta")[on]
    Q[:, c, Quote.tradable] = 0.0
    Q[i, c, Quote.tradable] = (~np.isnan(bid) & ~np.isnan(ask) & ~np.isnan(ltp)).astype(float)


def nearest_future(futures: pa.Table | None, day: dt.date, on_expiry_day: str = "trade") -> pa.Table | None:
    """The rows of the future nearest to expiry (on its expiry day, the next with `roll`)."""
    if futures is None or not futures.num_rows:
        return None
    live = [e for e in listed_expiries(futures["expiry"], day) if e > day or on_expiry_day == "trade"]
    if not live:
        return None
    return futures.filter(pc.equal(futures["expiry"], pa.scalar(live[0], pa.date32())))


def load_day(underlying: str, day: dt.date, features: pa.Table, spot_grid: pa.Table | None,
             feature_names: list[str], depth_source: Callable[[], pa.Table] | None = None,
             expiries: list[dt.date] | None = None, future: pa.Table | None = None,
             listed: list[dt.date] | None = None) -> DayData:
    """Dense matrices of the given expiries' contracts (default: the nearest) from the partition's
    features_options rows (QUOTE_COLUMNS and the named features) and, when `future` holds its ticks
    (FUTURE_COLUMNS), the index future as the last contract; `spot_grid` gives ATM. The book holds
    the touch; `depth_source` reads the 5 levels if an order walks past it. `listed`: every expiry
    recorded that day (what the legs' expiry slots resolve against)."""
    t_s = session_grid(day)
    S = len(t_s)
    listed = listed if listed is not None else listed_expiries(features["expiry"], day)
    expiries = sorted(expiries) if expiries is not None else listed[:1]
    if features.num_rows and not set(pc.unique(features["expiry"]).to_pylist()) <= set(expiries):
        features = features.filter(pc.is_in(features["expiry"], pa.array(expiries, pa.date32())))
    codes = _contract_codes(features, expiries)
    starts = _runs(codes)
    uniq, first_run = np.unique(codes[starts], return_index=True)
    first, c_of_row = starts[first_run], _contract_of_rows(codes, uniq)
    n_opt = len(uniq)
    C = n_opt + (future is not None)
    expiry = [features["expiry"][int(r)].as_py() for r in first]
    symbol = [features["symbol"][int(r)].as_py() for r in first]
    opt_type = features["opt_type"].take(first).to_numpy(zero_copy_only=False).astype(str).astype(object)
    strike = features["strike"].to_numpy(zero_copy_only=False)[first].astype(np.int64)
    if future is not None:
        expiry.append(future["expiry"][0].as_py())
        symbol.append(future["symbol"][0].as_py())
        opt_type = np.append(opt_type, FUTURE)
        strike = np.append(strike, 0)
    contracts = Contracts(symbol=symbol, expiry=expiry, opt_type=opt_type.astype(str), strike=strike,
                          lot=np.array([lot_size(underlying, e, day) for e in expiry], dtype=np.int64))
    i_of_row = _grid_rows(t_s, features, "features_options", underlying, day)
    Q = np.full((S, C, N_QUOTE), np.nan)
    bid, ask, ltp = _col(features, "bid_px0"), _col(features, "ask_px0"), _col(features, "price")
    is_pad = features["is_pad"].to_numpy(zero_copy_only=False).astype(bool)
    tradable = ~is_pad & ~np.isnan(ltp) & ~np.isnan(bid) & ~np.isnan(ask)
    Q[:, :, Quote.tradable] = 0.0
    scatter_fields(Q, Quote.bid, i_of_row, c_of_row,
                   float_columns([bid, ask, ltp, _col(features, "vol_delta"), tradable]))
    if future is not None:
        _future_quotes(Q, C - 1, t_s, future)
    row = _row_index(i_of_row, c_of_row, S, C, features.num_rows)
    book, book_row = _with_future(*touch_book(features, row), future, t_s, TOUCH_COLUMNS)
    engine_inputs = {"atr_1m": Quote.atr, "ema18": Quote.ema}     # features the exit rules read from Q
    wanted = list(dict.fromkeys([*feature_names, *(n for n in engine_inputs if n in features.column_names)]))
    dense = np.empty((len(wanted), S, C))
    for k, name in enumerate(wanted):        # rows past the features' end (the future's) read NaN
        _gather(dense[k], book_row, features[name])
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
                   depth_source=depth_source, listed_expiries=listed, future_rows=future)


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
