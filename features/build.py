"""Build features_options for one (underlying, date) from the padded grids (pure: Arrow in, Arrow out).

One pass per contract over its 1-second grid for the time-window families (quote, flow, trend,
state); the options family (IV and greeks) is vectorised over the whole partition at once.
"""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features import registry as R
from features.kernels import book, families, rolling
from transforms.columns import float64_values
from transforms.columns import contract_starts
from warehouse.clock import wall_seconds

RATE = 0.065          # risk-free rate for forwards and Black-Scholes (annual, continuous)
MARGIN_PCT = 0.12     # short-option margin proxy as a fraction of spot (theta_score)
YEAR_S = 365.0 * 86400.0
EXPIRY_CLOSE = dt.time(15, 30)
_FIELDS = [f"{s}_{f}{k}" for s in ("bid", "ask") for f in ("px", "qty", "orders") for k in range(5)]
# the options_grid columns a build reads (reading the other dozen would only cost time)
GRID_INPUTS = list(dict.fromkeys([name for name, _ in R.BASE_COLUMNS] + _FIELDS))
# ...and those best read dictionary-encoded: a few distinct strings per partition, and decoding one
# per row cost a sixth of the read; build_option_features writes them back as plain strings
GRID_DICTIONARY = ("underlying", "symbol", "opt_type")


def _f64(table: pa.Table, name: str) -> np.ndarray:
    """A column as float64 with NaN for null."""
    return float64_values(table[name])


def quote_family(g: pa.Table, first: np.ndarray, touch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`touch`: bid_px0, ask_px0, mid and spread, already computed for the options family. The
    depth columns are read in place (book.depth_sum and quote_changes take Arrow columns)."""
    def levels(side: str, field: str) -> list[pa.ChunkedArray]:
        return [g[f"{side}_{field}{k}"] for k in range(5)]

    bid0, ask0, mid, spread = touch["bid_px0"], touch["ask_px0"], touch["mid"], touch["spread"]
    bq0, aq0 = _f64(g, "bid_qty0"), _f64(g, "ask_qty0")
    d_bid, d_ask = book.depth_sum(levels("bid", "qty")), book.depth_sum(levels("ask", "qty"))
    is_pad = g["is_pad"].to_numpy(zero_copy_only=False)
    return {"mid": mid, "spread": spread, "microprice": book.microprice(bid0, ask0, bq0, aq0),
            "imb_l1": book.imbalance(bq0, aq0), "depth_bid5": d_bid, "depth_ask5": d_ask,
            "depth_ratio5": book.ratio(d_bid, d_ask),
            "orders_bid5": book.depth_sum(levels("bid", "orders")),
            "orders_ask5": book.depth_sum(levels("ask", "orders")),
            "quote_changes": book.quote_changes([g[c] for c in _FIELDS], is_pad, first)}


def _per_contract(t: np.ndarray, starts: np.ndarray, fn) -> dict[str, np.ndarray]:
    """Run fn(t_slice, slice) per contract and stitch the outputs back together."""
    out: dict[str, np.ndarray] = {}
    for a, b in zip(starts[:-1], starts[1:]):
        for k, v in fn(t[a:b], slice(a, b)).items():
            if k not in out:
                out[k] = np.empty(t.shape[0], v.dtype)
            out[k][a:b] = v
    return out


def windows(columns: tuple[str, ...]) -> np.ndarray:
    """Each column's window in seconds as the registry declares it (0 where it has none): the
    family kernels take them from here, never as literals."""
    return np.array([R.REGISTRY[c].window_s or 0 for c in columns], np.int64)


def flow_family(t, starts, price, vol, is_pad):
    values, streaks = families.flow_by_contract(t, starts, price, vol, is_pad, windows(families.FLOW_COLUMNS))
    return {**dict(zip(families.FLOW_COLUMNS, values)), **dict(zip(families.STREAK_COLUMNS, streaks))}


def _open_s(day: dt.date) -> int:
    return int((dt.datetime.combine(day, dt.time(9, 15)) - dt.datetime(1970, 1, 1)).total_seconds())


def trend_family(t, starts, price, day: dt.date):
    return dict(zip(families.TREND_COLUMNS, families.trend_by_contract(t, starts, price, _open_s(day),
                                                                       windows(families.TREND_COLUMNS))))


VALID_COLUMNS = ("vol_10s_ok", "vol_30s_ok", "vol_60s_ok", "vol_5m_ok", "sigma_15m_ok")


def state_family(t, starts, is_pad, day: dt.date):
    valid_windows = windows(VALID_COLUMNS).tolist()

    def one(ts, s):
        run = rolling.pad_run_length(is_pad[s])
        out = {name: rolling.window_valid(ts, run, w) for name, w in zip(VALID_COLUMNS, valid_windows)}
        out["secs_since_open"] = (ts - _open_s(day)).astype(np.int32)
        return out
    return _per_contract(t, starts, one)


def spot_at(t: np.ndarray, spot_grid: pa.Table | None) -> np.ndarray:
    """Index level at each second (the padded spot grid's value at that second, else NaN)."""
    if spot_grid is None or not spot_grid.num_rows:
        return np.full(t.shape[0], np.nan)
    st, sp = wall_seconds(spot_grid["ts"]), _f64(spot_grid, "price")
    # the last spot row at or before each second, looked up per second of the day's span rather
    # than binary-searched per row (a million rows, some 22 thousand distinct seconds)
    lo = min(int(st[0]), int(t.min()))
    last = np.searchsorted(st, np.arange(lo, max(int(st[-1]), int(t.max())) + 1), side="right") - 1
    idx = last[t - lo]
    ok = idx >= 0
    out = np.full(t.shape[0], np.nan)
    out[ok] = sp[idx[ok]]
    return out


def _contract_terms(g: pa.Table, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(years to expiry at 15:30 IST of the expiry day, strike, is_call) per row."""
    expiry = g["expiry"].cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    close_s = expiry * 86400 + EXPIRY_CLOSE.hour * 3600 + EXPIRY_CLOSE.minute * 60
    strike = g["strike"].to_numpy(zero_copy_only=False).astype(np.float64)
    return (close_s - t) / YEAR_S, strike, pc.equal(g["opt_type"], "CE").to_numpy(zero_copy_only=False)


def options_family(g: pa.Table, t: np.ndarray, starts: np.ndarray, terms: tuple, mid: np.ndarray,
                   spot: np.ndarray) -> dict[str, np.ndarray]:
    """IV from mid, greeks, moneyness, theta score, OI change (IV from the LTP: ltp_iv).
    `terms`: _contract_terms of the rows."""
    from features.kernels import greeks as G

    tte, strike, is_call = terms
    fwd = spot * np.exp(RATE * np.maximum(tte, 0))
    iv = G.implied_vol(mid, spot, strike, tte, RATE, 0.0, is_call, series_starts=starts)
    _, delta, gamma, theta, vega = G.bs_greeks(spot, strike, tte, RATE, 0.0, iv, is_call)
    oi = _f64(g, "oi")
    lag = int(windows(("oi_chg_60s",))[0])
    oi_chg = _per_contract(t, starts, lambda ts, s: {"oi_chg_60s": oi[s] - rolling.lag_value(ts, oi[s], lag)})
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.abs(theta) / (MARGIN_PCT * spot + mid)
        money = np.log(strike / fwd)
    return {"tte_years": tte, "spot": spot, "forward": fwd, "iv": iv * 100.0,
            "delta": delta, "gamma": gamma, "theta": theta, "vega": vega, "moneyness": money,
            "dist_spot": strike - spot, "theta_score": score, **oi_chg}


def ltp_iv(starts: np.ndarray, terms: tuple, price: np.ndarray, spot: np.ndarray) -> dict[str, np.ndarray]:
    from features.kernels import greeks as G

    tte, strike, is_call = terms
    return {"iv_ltp": G.implied_vol(price, spot, strike, tte, RATE, 0.0, is_call, series_starts=starts) * 100.0}


def _one_numba_thread(task):
    """The task with Numba's parallel kernels on the calling thread only: the build already runs
    its tasks on every core, and an OpenMP team beside another busy thread oversubscribes the
    cores and spin-waits at every barrier (measured: both tasks ran at half speed)."""
    def run():
        before = numba.get_num_threads()
        numba.set_num_threads(1)                     # per calling thread
        try:
            return task()
        finally:
            numba.set_num_threads(before)
    return run


def build_option_features(grid: pa.Table, spot_grid: pa.Table | None, day: dt.date,
                          names: list[str] | None = None) -> pa.Table:
    """features_options rows for one partition: the grid's keys and values plus requested features."""
    feats = R.resolve(names)
    if not grid.num_rows:                 # a missing day: no contract traded, no feature rows
        return R.schema(feats).empty_table()
    fams = R.families(feats)
    t = wall_seconds(grid["ts"]) if grid.num_rows else np.zeros(0, np.int64)
    starts = contract_starts(grid, ["expiry", "opt_type", "strike"])
    first = np.zeros(grid.num_rows, bool)
    first[starts[:-1][starts[:-1] < grid.num_rows]] = True
    price, is_pad = _f64(grid, "price"), grid["is_pad"].to_numpy(zero_copy_only=False).astype(bool)
    vol = _f64(grid, "vol_delta")

    def time_families() -> dict[str, np.ndarray]:
        cols: dict[str, np.ndarray] = {}
        if "flow" in fams:
            cols.update(flow_family(t, starts, price, vol, is_pad))
        if "trend" in fams:
            cols.update(trend_family(t, starts, price, day))
        if "state" in fams:
            cols.update(state_family(t, starts, is_pad, day))
        return cols

    spot, terms, touch = None, None, {}
    if "options" in fams:
        spot, terms = spot_at(t, spot_grid), _contract_terms(grid, t)
    if fams & {"options", "quote"}:
        touch = {"bid_px0": _f64(grid, "bid_px0"), "ask_px0": _f64(grid, "ask_px0")}
        touch["mid"], touch["spread"] = book.mid_spread(touch["bid_px0"], touch["ask_px0"])
    # independent tasks on the two cores (every kernel releases the GIL), in an order that
    # balances them: on one core options ~0.30 s, quote ~0.23, IV of the LTP ~0.18 and the time
    # families ~0.13 per million rows, so each core gets about half
    tasks = [lambda: options_family(grid, t, starts, terms, touch["mid"], spot)] * ("options" in fams)
    tasks += [lambda: quote_family(grid, first, touch)] * ("quote" in fams)
    tasks += [lambda: ltp_iv(starts, terms, price, spot)] * ("options" in fams)
    tasks += [time_families] * bool(fams & {"flow", "trend", "state"})
    cols: dict[str, np.ndarray] = {}
    with ThreadPoolExecutor(2, thread_name_prefix="features") as pool:
        parts = pool.map(lambda task: _one_numba_thread(task)(), tasks)
        base = pool.submit(lambda: {name: _plain(grid[name]) for name, _ in R.BASE_COLUMNS})   # queued last
        for part in parts:
            cols.update(part)
    out = base.result()
    out.update(zip([f.name for f in feats], _stored([(f, cols[f.name]) for f in feats])))
    return pa.table(out, schema=R.schema(feats))


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A dictionary-encoded column as its plain values (the stored schema's type); others as they are."""
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def _stored(columns: list[tuple[R.Feature, np.ndarray]]) -> list[pa.Array]:
    """Computed float64/int columns as their stored Arrow types (NaN stored as null)."""
    def one(item: tuple[R.Feature, np.ndarray]) -> pa.Array:
        f, v = item
        if pa.types.is_floating(f.dtype):    # numpy rounds to float32 as an Arrow cast would
            return pa.array(v.astype(f.dtype.to_pandas_dtype(), copy=False), mask=np.isnan(v))
        return pa.array(v).cast(f.dtype)
    with ThreadPoolExecutor(2, thread_name_prefix="features") as pool:    # numpy releases the GIL
        return list(pool.map(one, columns))
