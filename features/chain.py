"""features_spot: per underlying per second, from the spot grid, futures and the option features.

Pure: Arrow tables in, Arrow table out. The cross-sectional part (ATM strike, ATM IV, 25-delta IVs,
straddle, put-call ratios) is a DuckDB query over the in-memory tables of the partition: a group-by
per second is what SQL says most plainly. The nearest expiry is the chain traders watch; the
nearest monthly expiry gives the term-structure spread. Index-only values (returns, 5-minute
candles, round-number distance) are numpy over the spot grid.
"""
from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa

from features.build import EXPIRY_CLOSE, RATE, YEAR_S
from features.kernels import rolling
from transforms.basket import basket
from transforms.expiry import atm_strike, expiry_kind, strike_step
from warehouse.clock import wall_seconds
from warehouse.schema import FEATURE_COLUMNS, FEATURES_SPOT

_CHAIN_SQL = """
with o as (
  select ts, opt_type, strike, mid, iv, delta, oi,
         sum(coalesce(vol_delta, 0)) over (partition by opt_type, strike order by ts) as cum_vol
  from opts where expiry = (select min(expiry) from opts)
),
oi_strike as (          -- the strike with the most open interest (CE + PE) each second; ties: the lower strike
  select ts, strike from (select ts, strike, sum(oi) as oi from o where oi is not null group by ts, strike)
  qualify row_number() over (partition by ts order by oi desc, strike) = 1
),
s as (select ts, atm from spine)
select s.ts,
  max(o.iv) filter (where o.strike = s.atm and o.opt_type = 'CE') as iv_atm_ce,
  max(o.iv) filter (where o.strike = s.atm and o.opt_type = 'PE') as iv_atm_pe,
  max(o.mid) filter (where o.strike = s.atm and o.opt_type = 'CE') as mid_atm_ce,
  max(o.mid) filter (where o.strike = s.atm and o.opt_type = 'PE') as mid_atm_pe,
  arg_min(o.iv, abs(o.delta - 0.25)) filter (where o.opt_type = 'CE' and o.delta is not null and o.iv is not null) as iv_25c,
  arg_min(o.iv, abs(o.delta + 0.25)) filter (where o.opt_type = 'PE' and o.delta is not null and o.iv is not null) as iv_25p,
  sum(o.oi) filter (where o.opt_type = 'PE') / nullif(sum(o.oi) filter (where o.opt_type = 'CE'), 0) as pcr_oi,
  sum(o.cum_vol) filter (where o.opt_type = 'PE') / nullif(sum(o.cum_vol) filter (where o.opt_type = 'CE'), 0) as pcr_vol,
  any_value(m.strike) as max_oi_strike
from s left join o on o.ts = s.ts left join oi_strike m on m.ts = s.ts
group by s.ts order by s.ts
"""
# ATM IV of one given expiry (the nearest monthly) at the spine's ATM strike
_ATM_IV_SQL = """
select s.ts,
  max(o.iv) filter (where o.opt_type = 'CE') as iv_ce,
  max(o.iv) filter (where o.opt_type = 'PE') as iv_pe
from spine s left join opts o on o.ts = s.ts and o.strike = s.atm and o.expiry = $expiry
group by s.ts order by s.ts
"""
OPEN_S = 9 * 3600 + 15 * 60        # 09:15:00, seconds of the day
# C-20's bank basket (transforms.basket): returns over BASKET_LOOKBACK_S; the index's beta on the
# basket from BETA_RET_S-second log returns over the last BETA_WINDOW_S seconds (a full window)
_SPOT_WINDOWS = {c.name: c.window_s for c in FEATURE_COLUMNS if c.table == "features_spot"}
BASKET_LOOKBACK_S, BETA_WINDOW_S = _SPOT_WINDOWS["basket_ret_15m"], _SPOT_WINDOWS["basket_beta"]
BETA_RET_S = 60
ROUND_STEPS = (100, 1000)          # round_dist_<step> columns of the registry


def round_distance(spot: np.ndarray, step: float) -> np.ndarray:
    """Index points from the nearest multiple of `step`, signed (above it positive; half-way counts
    from the level above, as transforms.expiry.atm_strike rounds)."""
    return spot - np.floor(spot / step + 0.5) * step


def candle_streak(t: np.ndarray, spot: np.ndarray, minutes: int = 5) -> np.ndarray:
    """At each second, the run of completed `minutes` candles of the index that closed the same
    colour, signed: +k after k green candles in a row, -k after k red (0 after a flat one or before
    the first completes). Candle k spans [09:15 + k m, + m) and counts from the second after its
    end; open = its first known value, close = its last; a candle without values changes nothing."""
    out = np.zeros(len(t), np.int32)
    if not len(t):
        return out
    bucket = (t % 86400 - OPEN_S) // (60 * minutes)
    edges = np.r_[0, np.flatnonzero(np.diff(bucket)) + 1, len(t)]
    streak = 0
    for a, b in zip(edges[:-1], edges[1:]):
        out[a:b] = streak
        known = spot[a:b][~np.isnan(spot[a:b])]
        if len(known):
            colour = int(np.sign(known[-1] - known[0]))
            streak = streak + colour if colour and np.sign(streak) == colour else colour
    return out


def carried(t: np.ndarray, stamps: np.ndarray, values: np.ndarray) -> np.ndarray:
    """At each grid second t, the last non-NaN value stamped <= t (NaN before the first): a stock
    quote reaches a second only once it was recorded, and lasts until the next one."""
    ok = ~np.isnan(values)
    stamps, values = stamps[ok], values[ok]
    idx = np.searchsorted(stamps, t, side="right") - 1
    out = np.full(len(t), np.nan)
    out[idx >= 0] = values[idx[idx >= 0]]
    return out


def basket_features(t: np.ndarray, spot: np.ndarray, stocks: dict[str, tuple[np.ndarray, np.ndarray]],
                    weights: dict[str, float]) -> dict[str, np.ndarray]:
    """C-20's basket columns, percent: basket_ret_15m = the weighted mean of the stocks' log returns
    over BASKET_LOOKBACK_S; basket_beta = the OLS slope of the index's BETA_RET_S-second log returns
    on the basket's over BETA_WINDOW_S; basket_div_15m = the index's log return over the lookback
    minus beta x the basket's. NaN without every stock of the basket (a NIFTY day: no basket)."""
    n = len(t)
    nan = np.full(n, np.nan)
    if not weights or set(weights) - set(stocks):
        return {"basket_ret_15m": nan, "basket_beta": nan.copy(), "basket_div_15m": nan.copy()}
    log_px = {s: np.log(carried(t, *stocks[s])) for s in weights}
    log_spot = np.log(spot)

    def ret(x: np.ndarray, lag_s: int) -> np.ndarray:
        return x - rolling.lag_value(t, x, lag_s)

    def basket_ret(lag_s: int) -> np.ndarray:
        return sum(w * ret(log_px[s], lag_s) for s, w in weights.items())

    with np.errstate(invalid="ignore"):
        beta = rolling.rolling_slope(t, basket_ret(BETA_RET_S), ret(log_spot, BETA_RET_S), BETA_WINDOW_S, BETA_WINDOW_S)
        b = basket_ret(BASKET_LOOKBACK_S) * 100.0
        div = ret(log_spot, BASKET_LOOKBACK_S) * 100.0 - beta * b
    return {"basket_ret_15m": b, "basket_beta": beta, "basket_div_15m": div}


def _col(t: pa.Table, name: str) -> np.ndarray:
    return t[name].cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)


def build_spot_features(underlying: str, day: dt.date, spot_grid: pa.Table, futures: pa.Table | None,
                        option_features: pa.Table | None, stocks: dict[str, pa.Table] | None = None) -> pa.Table:
    """One row per second of the spot grid. `stocks`: the basket's equity_ticks rows (ts, price) by
    symbol (transforms.basket; missing: the basket columns are NaN)."""
    n = spot_grid.num_rows
    if n == 0:
        return FEATURES_SPOT.empty_table()
    t, spot = wall_seconds(spot_grid["ts"]), _col(spot_grid, "price")
    with np.errstate(invalid="ignore", divide="ignore"):
        logret = np.log(spot / rolling.lag_value(t, spot, 1))
        roc = (spot / rolling.lag_value(t, spot, 60) - 1.0) * 100.0
    rv = np.sqrt(rolling.rolling_sum(t, np.nan_to_num(logret) ** 2, 60)) * 100.0   # % over the last minute
    fut = np.full(n, np.nan)
    if futures is not None and futures.num_rows:
        ft, fp = wall_seconds(futures["ts"]), _col(futures, "price")
        idx = np.searchsorted(ft, t, side="right") - 1
        fut[idx >= 0] = fp[idx[idx >= 0]]
    cols = {"underlying": spot_grid["underlying"], "date": spot_grid["date"], "ts": spot_grid["ts"],
            "spot": spot, "is_pad": spot_grid["is_pad"], "ret_1s": logret, "roc_60s": roc, "rv_1m": rv,
            "fut_price": fut, "fut_basis": fut - spot, "candle_streak_5m": candle_streak(t, spot, 5),
            **{f"round_dist_{k}": round_distance(spot, k) for k in ROUND_STEPS}}
    quotes = {s: (wall_seconds(q["ts"]), _col(q, "price")) for s, q in (stocks or {}).items() if q is not None and q.num_rows}
    cols.update(basket_features(t, spot, quotes, dict(basket(underlying))))
    cols.update(_chain(underlying, spot_grid, option_features, t, spot))
    out = {}
    for f in FEATURES_SPOT:
        v = cols[f.name]
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            out[f.name] = pa.array(v, mask=np.isnan(v)).cast(f.type)
        else:
            out[f.name] = pa.array(v).cast(f.type) if not isinstance(v, (pa.Array, pa.ChunkedArray)) else v.cast(f.type)
    return pa.table(out, schema=FEATURES_SPOT)


CHAIN_VALUES = ("atm_iv", "iv_25d_call", "iv_25d_put", "skew_25d", "straddle_price", "pcr_oi", "pcr_vol",
                "parity_dev", "atm_iv_monthly", "iv_term_spread")


def _mean_quoted(ce: np.ndarray, pe: np.ndarray) -> np.ndarray:
    """Mean of the two legs where both are quoted, the one leg where only one is, else NaN."""
    both = np.vstack([ce, pe])
    count = (~np.isnan(both)).sum(axis=0)
    return np.where(count > 0, np.nansum(both, axis=0) / np.maximum(count, 1), np.nan)


def _chain(underlying: str, spot_grid: pa.Table, opts: pa.Table | None, t: np.ndarray, spot: np.ndarray) -> dict:
    n = spot_grid.num_rows
    empty = {k: np.full(n, np.nan) for k in CHAIN_VALUES}
    empty["max_oi_strike"] = pa.nulls(n, pa.int32())
    step = strike_step(underlying)
    atm = atm_strike(_col(spot_grid, "price"), step)
    empty["atm_strike"] = pa.array(atm, mask=np.isnan(atm)).cast(pa.int32())
    spine = pa.table({"ts": spot_grid["ts"], "atm": empty["atm_strike"]})      # SQL joins on this ATM, never its own
    if opts is None or not opts.num_rows:
        empty["nearest_expiry"] = pa.nulls(n, pa.date32())
        return empty
    con = duckdb.connect()
    con.register("opts", opts)
    con.register("spine", spine)
    r = con.sql(_CHAIN_SQL).to_arrow_table()
    expiries = [e for (e,) in con.execute("select distinct expiry from opts order by expiry").fetchall()]
    nearest = expiries[0]
    monthly = next((e for e in expiries if expiry_kind(underlying, e) == "monthly"), None)
    iv_monthly = empty["atm_iv_monthly"]
    if monthly is not None and monthly != nearest:        # a monthly-expiry week has no weekly to compare
        m = con.sql(_ATM_IV_SQL, params={"expiry": monthly}).to_arrow_table()
        iv_monthly = _mean_quoted(*(m[c].cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
                                    for c in ("iv_ce", "iv_pe")))
    con.close()
    f = {c: r[c].cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False) for c in r.column_names if c != "ts"}
    atm_iv = _mean_quoted(f["iv_atm_ce"], f["iv_atm_pe"])
    atm = empty["atm_strike"].to_numpy(zero_copy_only=False).astype(np.float64)
    close_s = (nearest - dt.date(1970, 1, 1)).days * 86400 + EXPIRY_CLOSE.hour * 3600 + EXPIRY_CLOSE.minute * 60
    years = np.maximum((close_s - t) / YEAR_S, 0.0)
    return {"nearest_expiry": pa.array([nearest] * n, pa.date32()), "atm_strike": empty["atm_strike"],
            "atm_iv": atm_iv, "iv_25d_call": f["iv_25c"], "iv_25d_put": f["iv_25p"],
            "skew_25d": f["iv_25p"] - f["iv_25c"], "straddle_price": f["mid_atm_ce"] + f["mid_atm_pe"],
            "pcr_oi": f["pcr_oi"], "pcr_vol": f["pcr_vol"],
            "parity_dev": f["mid_atm_ce"] - f["mid_atm_pe"] - (spot - atm * np.exp(-RATE * years)),
            "max_oi_strike": r["max_oi_strike"].cast(pa.int32()),
            "atm_iv_monthly": iv_monthly, "iv_term_spread": atm_iv - iv_monthly}
