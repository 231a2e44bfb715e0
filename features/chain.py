"""features_spot: per underlying per second, from the spot grid, futures and the option features.

Pure: Arrow tables in, Arrow table out. The cross-sectional part (ATM strike, ATM IV, 25-delta IVs,
straddle, put-call ratios) is a DuckDB query over the in-memory tables of the partition: a group-by
per second is what SQL says most plainly. Only the nearest expiry is used (the chain traders watch).
"""
from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa

from features.kernels import rolling
from transforms.expiry import atm_strike, strike_step
from warehouse.clock import wall_seconds
from warehouse.schema import FEATURES_SPOT

_CHAIN_SQL = """
with o as (
  select ts, opt_type, strike, mid, iv, delta, oi,
         sum(coalesce(vol_delta, 0)) over (partition by opt_type, strike order by ts) as cum_vol
  from opts where expiry = (select min(expiry) from opts)
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
  sum(o.cum_vol) filter (where o.opt_type = 'PE') / nullif(sum(o.cum_vol) filter (where o.opt_type = 'CE'), 0) as pcr_vol
from s left join o on o.ts = s.ts
group by s.ts order by s.ts
"""


def _col(t: pa.Table, name: str) -> np.ndarray:
    return t[name].cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)


def build_spot_features(underlying: str, day: dt.date, spot_grid: pa.Table, futures: pa.Table | None,
                        option_features: pa.Table | None) -> pa.Table:
    """One row per second of the spot grid."""
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
            "fut_price": fut, "fut_basis": fut - spot}
    chain = _chain(underlying, spot_grid, option_features)
    for k in ("nearest_expiry", "atm_strike", "atm_iv", "iv_25d_call", "iv_25d_put", "skew_25d",
              "straddle_price", "pcr_oi", "pcr_vol"):
        cols[k] = chain[k]
    out = {}
    for f in FEATURES_SPOT:
        v = cols[f.name]
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            out[f.name] = pa.array(v, mask=np.isnan(v)).cast(f.type)
        else:
            out[f.name] = pa.array(v).cast(f.type) if not isinstance(v, (pa.Array, pa.ChunkedArray)) else v.cast(f.type)
    return pa.table(out, schema=FEATURES_SPOT)


def _chain(underlying: str, spot_grid: pa.Table, opts: pa.Table | None) -> dict:
    n = spot_grid.num_rows
    empty = {k: np.full(n, np.nan) for k in ("atm_iv", "iv_25d_call", "iv_25d_put", "skew_25d", "straddle_price",
                                                "pcr_oi", "pcr_vol")}
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
    nearest = con.execute("select min(expiry) from opts").fetchone()[0]
    con.close()
    f = {c: r[c].cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False) for c in r.column_names if c != "ts"}
    both = np.vstack([f["iv_atm_ce"], f["iv_atm_pe"]])
    count = (~np.isnan(both)).sum(axis=0)
    atm_iv = np.where(count > 0, np.nansum(both, axis=0) / np.maximum(count, 1), np.nan)  # mean of the quoted legs
    return {"nearest_expiry": pa.array([nearest] * n, pa.date32()), "atm_strike": empty["atm_strike"],
            "atm_iv": atm_iv, "iv_25d_call": f["iv_25c"], "iv_25d_put": f["iv_25p"],
            "skew_25d": f["iv_25p"] - f["iv_25c"], "straddle_price": f["mid_atm_ce"] + f["mid_atm_pe"],
            "pcr_oi": f["pcr_oi"], "pcr_vol": f["pcr_vol"]}
