"""The feature registry: one row per stored feature column (the single source of truth).

Each feature declares its family (the kernel group that computes it), the grid/spot inputs it
reads, its window, stored dtype and version. Strategies declare the features they need; the
feature assets compute only the families those features require; a version bump changes the
registry hash that stored partitions and Dagster code versions carry, so stale tables rebuild.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Feature:
    name: str
    family: str            # quote / flow / trend / options / state
    inputs: tuple[str, ...]
    window_s: int | None
    dtype: pa.DataType
    version: int
    doc: str


F32, F64, I32, BOOL = pa.float32(), pa.float64(), pa.int32(), pa.bool_()
_BOOK = ("bid_px0", "ask_px0", "bid_qty0", "ask_qty0")
_DEPTH = tuple(f"{s}_{f}{k}" for s in ("bid", "ask") for f in ("px", "qty", "orders") for k in range(5))

_FEATURES = [
    # quote: the touch and the 5-level book
    Feature("mid", "quote", _BOOK, None, F64, 1, "(bid0 + ask0) / 2; null unless both quoted"),
    Feature("spread", "quote", _BOOK, None, F32, 1, "ask0 - bid0 in rupees"),
    Feature("microprice", "quote", _BOOK, None, F64, 1, "size-weighted touch: (bid*askq + ask*bidq)/(bidq+askq)"),
    Feature("imb_l1", "quote", _BOOK, None, F32, 1, "(bidq0 - askq0)/(bidq0 + askq0)"),
    Feature("depth_bid5", "quote", _DEPTH, None, F64, 1, "bid quantity over 5 levels"),
    Feature("depth_ask5", "quote", _DEPTH, None, F64, 1, "ask quantity over 5 levels"),
    Feature("depth_ratio5", "quote", _DEPTH, None, F32, 1, "depth_bid5 / depth_ask5"),
    Feature("orders_bid5", "quote", _DEPTH, None, F32, 1, "bid order count over 5 levels"),
    Feature("orders_ask5", "quote", _DEPTH, None, F32, 1, "ask order count over 5 levels"),
    Feature("quote_changes", "quote", _DEPTH, None, I32, 1, "book fields changed since the previous real row"),
    # flow: traded volume windows and VWAP
    Feature("vol_10s", "flow", ("vol_delta",), 10, F64, 1, "traded quantity over (t-10s, t]"),
    Feature("vol_30s", "flow", ("vol_delta",), 30, F64, 1, "traded quantity over (t-30s, t]"),
    Feature("vol_60s", "flow", ("vol_delta",), 60, F64, 1, "traded quantity over (t-60s, t]"),
    Feature("vol_5m", "flow", ("vol_delta",), 300, F64, 1, "traded quantity over (t-5m, t]"),
    Feature("vol_avg_2m", "flow", ("vol_delta",), 120, F32, 1, "average per-second volume over 2 min"),
    Feature("vol_avg_5m", "flow", ("vol_delta",), 300, F32, 1, "average per-second volume over 5 min"),
    Feature("vwap", "flow", ("price", "vol_delta"), None, F64, 1, "session VWAP of LTP weighted by vol_delta"),
    Feature("tick_velocity", "flow", ("is_pad",), 60, F32, 1, "real rows in the last 60 s"),
    Feature("higher_highs", "flow", ("price",), None, I32, 1, "consecutive higher LTPs (ties keep the count)"),
    Feature("lower_lows", "flow", ("price",), None, I32, 1, "consecutive lower LTPs"),
    # trend
    Feature("ema6", "trend", ("price",), None, F64, 1, "EMA(6) of 1 s closes, alpha 2/7, seeded with the first real price"),
    Feature("ema18", "trend", ("price",), None, F64, 1, "EMA(18) of 1 s closes, alpha 2/19"),
    Feature("ema6_slope", "trend", ("price",), 1, F32, 1, "ema6(t) - ema6(t-1s), rupees per second"),
    Feature("ema18_slope", "trend", ("price",), 1, F32, 1, "ema18(t) - ema18(t-1s), rupees per second"),
    Feature("roc_10s", "trend", ("price",), 10, F32, 1, "percent change of LTP over 10 s"),
    Feature("roc_30s", "trend", ("price",), 30, F32, 1, "percent change of LTP over 30 s"),
    Feature("roc_60s", "trend", ("price",), 60, F32, 1, "percent change of LTP over 60 s"),
    Feature("sigma_15m", "trend", ("price",), 900, F32, 1, "std of 1 s LTP changes (rupees) over 15 min"),
    Feature("atr_1m", "trend", ("price",), None, F32, 1, "Wilder ATR(14) of 1-minute bars, from each bar's close"),
    Feature("or2_high", "trend", ("price",), 120, F64, 1, "high of 09:15:00-09:16:59, from 09:17:00"),
    Feature("or2_low", "trend", ("price",), 120, F64, 1, "low of 09:15:00-09:16:59, from 09:17:00"),
    Feature("or5_high", "trend", ("price",), 300, F64, 1, "high of 09:15:00-09:19:59, from 09:20:00"),
    Feature("or5_low", "trend", ("price",), 300, F64, 1, "low of 09:15:00-09:19:59, from 09:20:00"),
    # options: time, spot, implied volatility and greeks
    Feature("tte_years", "options", ("ts", "expiry"), None, F64, 1, "ACT/365 years to 15:30 IST on the expiry day"),
    Feature("spot", "options", ("spot_grid.price",), None, F64, 1, "index level at t (padded)"),
    Feature("forward", "options", ("spot", "futures"), None, F64, 1, "spot * exp(r T) (r = RATE)"),
    Feature("iv", "options", ("mid",), None, F32, 1, "Black-Scholes implied vol of the mid, percent"),
    Feature("iv_ltp", "options", ("price",), None, F32, 1, "implied vol of the LTP, percent"),
    Feature("delta", "options", ("iv",), None, F32, 1, "dPrice/dSpot"),
    Feature("gamma", "options", ("iv",), None, F32, 1, "dDelta/dSpot per rupee"),
    Feature("theta", "options", ("iv",), None, F32, 1, "rupees per calendar day"),
    Feature("vega", "options", ("iv",), None, F32, 1, "rupees per 1 vol point"),
    Feature("moneyness", "options", ("strike", "forward"), None, F32, 1, "ln(strike / forward)"),
    Feature("dist_spot", "options", ("strike", "spot"), None, F32, 1, "strike - spot in index points"),
    Feature("theta_score", "options", ("theta", "spot", "mid"), None, F32, 1,
            "|theta| per rupee of a short-option margin proxy (MARGIN_PCT * spot + mid)"),
    Feature("oi_chg_60s", "options", ("oi",), 60, F32, 1, "open interest change over 60 s"),
    # state
    Feature("secs_since_open", "state", ("ts",), None, I32, 1, "seconds since 09:15:00"),
    Feature("vol_10s_ok", "state", ("is_pad",), 10, BOOL, 1, "vol_10s window touches no gap longer than 10 s"),
    Feature("vol_30s_ok", "state", ("is_pad",), 30, BOOL, 1, "vol_30s window valid"),
    Feature("vol_60s_ok", "state", ("is_pad",), 60, BOOL, 1, "vol_60s window valid"),
    Feature("vol_5m_ok", "state", ("is_pad",), 300, BOOL, 1, "vol_5m window valid"),
    Feature("sigma_15m_ok", "state", ("is_pad",), 900, BOOL, 1, "sigma_15m window valid"),
]
REGISTRY: dict[str, Feature] = {f.name: f for f in _FEATURES}
# columns every features_options row carries (keys + the grid's own values)
BASE_COLUMNS = [("underlying", pa.string()), ("date", pa.date32()), ("symbol", pa.string()), ("expiry", pa.date32()),
                ("opt_type", pa.string()), ("strike", pa.int32()), ("ts", pa.timestamp("us", tz="Asia/Kolkata")),
                ("price", F64), ("bid_px0", F64), ("ask_px0", F64), ("bid_qty0", pa.int64()),
                ("ask_qty0", pa.int64()), ("vol_delta", pa.int64()), ("oi", pa.int64()), ("is_pad", BOOL),
                ("pad_age_s", I32)]


def resolve(names: list[str] | None) -> list[Feature]:
    """Features to build for a request (None = all), in registry order; unknown names fail loudly."""
    if names is None:
        return list(_FEATURES)
    unknown = sorted(set(names) - set(REGISTRY) - {n for n, _ in BASE_COLUMNS})
    if unknown:
        raise KeyError(f"unknown features: {', '.join(unknown)}")
    wanted = set(names)
    return [f for f in _FEATURES if f.name in wanted]


def families(features: list[Feature]) -> set[str]:
    return {f.family for f in features}


def schema(features: list[Feature]) -> pa.Schema:
    return pa.schema(BASE_COLUMNS + [(f.name, f.dtype) for f in features])


def registry_version(features: list[Feature] | None = None) -> str:
    """Hash of (name, family, version, dtype) of the features: a stored table's data version."""
    h = hashlib.sha256()
    for f in features if features is not None else _FEATURES:
        h.update(f"{f.name}:{f.family}:{f.version}:{f.dtype}".encode())
    return h.hexdigest()[:12]
