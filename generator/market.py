"""The market model of the generator: index path, futures and option chains for one trading day.

Pure and vectorised (numpy per contract-day, no Python per row). Seeded per (seed, underlying, day)
so day N is identical whatever --days is. Prices follow Black-Scholes on a skewed, term-structured
IV surface with decaying IV shocks; quotes sit on the 0.05 grid around fair value with spreads that
widen with moneyness, cheapness and at the open/close; the recorder writes a row only when the
snapshot changed, never staying silent more than MAX_SILENCE_S seconds on its own.
"""
from __future__ import annotations

import datetime as dt
import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from ingest.contracts import Contract, table_name
from generator.snapshots import DaySnapshots, FuturesTable, OptionTable, Rows
from ingest.recorder_format import INDEX_COLUMNS, OPTION_COLUMN_NAMES
from transforms.expiry import atm_strike, expiry_kind, listed_expiries, lot_size, monthly_expiries, strike_step

RATE = 0.065
YEAR_S = 365.0 * 86400.0
TICK = 5                     # paise
MAX_SILENCE_S = 30
OPEN_S = 9 * 3600 + 15 * 60
SESSION_S = 22501            # 09:15:00 .. 15:30:00
START_LEVEL = {"BANKNIFTY": 54_000.0, "NIFTY": 25_000.0}
LOWER_STYLE_EVERY = 7        # roughly one contract in 7 uses a lowercase recorder name


def day_rng(seed: int, underlying: str, day: dt.date, salt: str = "") -> np.random.Generator:
    """A generator that depends only on (seed, underlying, day): day N is the same for any --days."""
    key = zlib.crc32(f"{underlying}|{day.isoformat()}|{salt}".encode())
    return np.random.default_rng(np.random.SeedSequence([seed, key]))


def wall_seconds(day: dt.date) -> np.ndarray:
    base = (dt.datetime.combine(day, dt.time()) - dt.datetime(1970, 1, 1)).days * 86400
    return base + OPEN_S + np.arange(SESSION_S, dtype=np.int64)


@dataclass
class CarryState:
    """What carries from one day to the next: index level and each contract's previous close."""

    level: dict[str, float] = field(default_factory=dict)
    prev_close: dict[str, int] = field(default_factory=dict)   # table -> paise
    oi: dict[str, int] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------
# index path


def u_shape(n: int = SESSION_S) -> np.ndarray:
    """Intraday volatility multiplier: high at the open and the close."""
    t = np.arange(n, dtype=np.float64)
    return 0.7 + 1.6 * np.exp(-t / 1500.0) + 0.9 * np.exp(-(n - 1 - t) / 1800.0)


def index_path(rng: np.random.Generator, start: float, n: int = SESSION_S) -> np.ndarray:
    """Log-price path per second: U-shaped vol, quiet/trending regimes, occasional jumps."""
    sigma_s = 0.13 / math.sqrt(252 * SESSION_S)
    regime = np.zeros(n)
    state, drift = 0, 0.0
    i = 0
    while i < n:
        length = int(rng.integers(900, 4500))
        state = 1 - state if rng.random() < 0.5 else state
        drift = (rng.choice([-1, 1]) * sigma_s * rng.uniform(0.05, 0.15)) if state else 0.0
        regime[i:i + length] = drift
        i += length
    vol = sigma_s * u_shape(n) * np.where(regime != 0, 1.3, 0.8)
    steps = rng.standard_normal(n) * vol + regime
    jumps = rng.random(n) < 3.0 / n
    steps[jumps] += rng.normal(0, 0.0015, jumps.sum())
    steps[0] = rng.normal(0, 0.004)  # the overnight gap
    return start * np.exp(np.cumsum(steps))


def to_paise_grid(x: np.ndarray, up: bool | None = None) -> np.ndarray:
    """Rupees -> int64 paise on the 0.05 grid (nearest, or rounded up / down)."""
    ticks = x * 100.0 / TICK
    r = np.ceil(ticks - 1e-9) if up else np.floor(ticks + 1e-9) if up is False else np.round(ticks)
    return r.astype(np.int64) * TICK


# ------------------------------------------------------------------------------------------------
# option pricing


def _ncdf(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr  # vectorised normal CDF

    return ndtr(x)


def bs_price(S, K, T, r, vol, is_call):
    T = np.maximum(T, 1e-9)
    sq = vol * np.sqrt(T)
    d1 = (np.log(S / K) + (r + 0.5 * vol * vol) * T) / sq
    d2 = d1 - sq
    df = np.exp(-r * T)
    call = S * _ncdf(d1) - K * df * _ncdf(d2)
    return np.where(is_call, call, call - S + K * df)


def iv_surface(rng: np.random.Generator, k: np.ndarray, T: np.ndarray, shock: np.ndarray, base: float) -> np.ndarray:
    """ATM level + near-expiry premium + shock, put skew and smile curvature in log-moneyness."""
    days = T * 365.0
    atm = base + 0.03 * np.exp(-days / 2.0) + shock
    return np.clip(atm - 0.25 * k + 1.2 * k * k, 0.05, 1.5)


def iv_shocks(rng: np.random.Generator, n: int = SESSION_S) -> np.ndarray:
    """Occasional IV jumps that decay (half-life ~10 minutes)."""
    out = np.zeros(n)
    decay = 0.5 ** (1.0 / 600.0)
    hits = np.flatnonzero(rng.random(n) < 2.0 / n)
    for h in hits:
        out[h:] += rng.uniform(0.01, 0.03) * decay ** np.arange(n - h)
    return out


# ------------------------------------------------------------------------------------------------
# quotes and the recorder's rows


def quote_rows(rng: np.random.Generator, t: np.ndarray, fair: np.ndarray, lot: int, liquidity: float,
               prev_close: int, oi0: int) -> Rows:
    """The 46 recorder columns for one instrument-day from its fair value path (rupees)."""
    n = len(t)
    edge = u_shape(n) / 1.5
    half = np.maximum(0.025, (0.0003 * fair + 0.05 / max(liquidity, 0.05)) * edge)
    bid = to_paise_grid(fair - half, up=False)
    ask = to_paise_grid(fair + half, up=True)
    ask = np.maximum(ask, bid + TICK)
    bid = np.maximum(bid, 0)                      # no bid at all for a worthless contract
    # trades: a Poisson process, more on ATM and on moves
    moves = np.r_[0, np.abs(np.diff(fair))]
    intensity = np.clip(0.25 * liquidity * edge + 20.0 * moves / np.maximum(fair, 1.0), 0.0, 0.95)
    traded = rng.random(n) < intensity
    qty = np.where(traded, lot * rng.geometric(0.35, n), 0).astype(np.int64)
    at_ask = rng.random(n) < 0.5
    trade_px = np.where(at_ask, ask, np.maximum(bid, TICK))
    last_i = np.maximum.accumulate(np.where(traded, np.arange(n), -1))
    has_trade = last_i >= 0
    ltp = np.where(has_trade, trade_px[np.maximum(last_i, 0)], prev_close)
    last_qty = np.where(has_trade, qty[np.maximum(last_i, 0)], 0)
    volume = np.cumsum(qty)
    turnover = np.cumsum(qty * trade_px)
    avg = np.where(volume > 0, np.round(turnover / np.maximum(volume, 1)), 0).astype(np.int64)
    day_open = np.where(has_trade, trade_px[np.argmax(traded)] if traded.any() else 0, 0)
    hi_src = np.where(traded, trade_px, 0)
    lo_src = np.where(traded, trade_px, np.iinfo(np.int64).max)
    high = np.maximum.accumulate(hi_src)
    low = np.where(has_trade, np.minimum.accumulate(lo_src), 0)
    ltt = np.where(has_trade, t[np.maximum(last_i, 0)], 0)
    flow = np.cumsum(np.where(traded, np.where(at_ask, qty, -qty), 0))
    oi = np.maximum(oi0 + (flow // (2 * lot)) * lot, lot)
    rows: Rows = {
        "timestamp": t, "price": ltp, "qty": last_qty, "avgPrice": avg, "volume": volume,
        "open": day_open, "high": high, "low": low, "close": np.full(n, prev_close, np.int64),
        "changeper": np.where(prev_close > 0, np.round((ltp / max(prev_close, 1) - 1.0) * 1e8), 0).astype(np.int64),
        "lastTradeTime": ltt, "oi": oi, "oiHigh": np.maximum.accumulate(oi), "oiLow": np.minimum.accumulate(oi),
    }
    depth_scale = lot * max(1, int(40 * liquidity))
    for side, best, sign in (("b", bid, -1), ("s", ask, 1)):
        total = np.zeros(n, np.int64)
        for k in range(5):
            gap = TICK * (k + (rng.random(n) < 0.3 * k).astype(np.int64))
            px = best + sign * gap
            qk = (lot * rng.integers(1, 1 + depth_scale // lot, n)).astype(np.int64)
            empty = (px <= 0) | (rng.random(n) < max(0.0, 0.35 * (k - 1) * (1.0 - liquidity)))
            px, qk = np.where(empty, 0, px), np.where(empty, 0, qk)
            orders = np.where(empty, 0, np.maximum(1, qk // (lot * rng.integers(1, 6, n))))
            rows[f"{side}q{k}"], rows[f"{side}p{k}"], rows[f"{side}o{k}"] = qk, px, orders
            total += qk
        rows["bQty" if side == "b" else "sQty"] = total * rng.integers(3, 9, n)
    return {c: rows[c].astype(np.int64) for c in OPTION_COLUMN_NAMES}


def changed_rows(rows: Rows, rng: np.random.Generator, liquidity: float) -> np.ndarray:
    """Seconds the recorder writes: the snapshot changed (touch, LTP, volume, or a depth update),
    with no natural silence longer than MAX_SILENCE_S."""
    n = len(rows["timestamp"])
    key = np.vstack([rows["price"], rows["volume"], rows["bp0"], rows["sp0"]])
    changed = np.r_[True, (key[:, 1:] != key[:, :-1]).any(axis=0)]
    changed |= rng.random(n) < 0.15 + 0.75 * liquidity      # depth quantities moved
    idx = np.flatnonzero(changed)
    gaps = np.diff(np.r_[idx, n])
    force = [i + k for i, g in zip(idx, gaps) for k in range(MAX_SILENCE_S, g, MAX_SILENCE_S)]
    keep = np.zeros(n, bool)
    keep[idx] = True
    keep[np.array(force, dtype=np.int64)] = True
    return keep


def take(rows: Rows, mask: np.ndarray) -> Rows:
    return {c: v[mask] for c, v in rows.items()}


# ------------------------------------------------------------------------------------------------
# one day


def day_expiries(underlying: str, day: dt.date) -> list[dt.date]:
    """The nearest listed expiry and the current monthly (the next expiry when they coincide)."""
    listed = listed_expiries(underlying, day)
    monthly = next(e for e in listed if expiry_kind(underlying, e) == "monthly")
    second = monthly if monthly != listed[0] else listed[1]
    return [listed[0], second]


def name_style(c: Contract, underlying: str) -> str:
    monthly = expiry_kind(underlying, c.expiry) == "monthly"
    lower = zlib.crc32(f"{c.strike}{c.opt_type}{c.expiry}".encode()) % LOWER_STYLE_EVERY == 0
    return ("lower_" if lower else "") + ("monthly" if monthly else "weekly")


def simulate_day(underlying: str, day: dt.date, strikes: int, seed: int, carry: CarryState,
                 index_csv_path: np.ndarray | None = None) -> DaySnapshots:
    """Every instrument of one underlying on one day (quirk-free; quirks.py adds the defects)."""
    rng = day_rng(seed, underlying, day)
    t = wall_seconds(day)
    start = carry.level.get(underlying, START_LEVEL[underlying])
    spot = index_csv_path if index_csv_path is not None else index_path(rng, start)
    carry.level[underlying] = float(spot[-1])
    index_rows = {"timestamp": t, "price": to_paise_grid(spot)}
    step = strike_step(underlying)
    atm = int(atm_strike(spot[0], step))
    base_iv = float(rng.uniform(0.11, 0.15))
    shock = iv_shocks(rng)
    snaps = DaySnapshots(underlying, day, underlying, index_rows)
    fut_expiry = monthly_expiries(underlying, day, day + dt.timedelta(days=40))[0]
    close_s = (dt.datetime.combine(fut_expiry, dt.time(15, 30)) - dt.datetime(1970, 1, 1)).total_seconds()
    fwd_T = (close_s - t) / YEAR_S
    fut_fair = spot * np.exp(RATE * fwd_T) + np.cumsum(rng.normal(0, 0.3, len(t))) * 0.1
    fut_table = f"{underlying}FUT"
    fut_rows = quote_rows(rng, t, fut_fair, lot_size(underlying, fut_expiry, day), 1.0,
                          carry.prev_close.get(fut_table, int(to_paise_grid(np.array([fut_fair[0]]))[0])), 120_000)
    carry.prev_close[fut_table] = int(fut_rows["price"][-1])
    snaps.futures.append(FuturesTable(fut_table, underlying, fut_expiry, lot_size(underlying, fut_expiry, day),
                                      take(fut_rows, changed_rows(fut_rows, rng, 1.0))))
    for expiry in day_expiries(underlying, day):
        close_s = (dt.datetime.combine(expiry, dt.time(15, 30)) - dt.datetime(1970, 1, 1)).total_seconds()
        T = np.maximum((close_s - t) / YEAR_S, 1e-7)
        fwd = spot * np.exp(RATE * T)
        lot = lot_size(underlying, expiry, day)
        for strike in range(atm - strikes * step, atm + strikes * step + 1, step):
            for opt_type in ("CE", "PE"):
                c = Contract(underlying, expiry, opt_type, strike)
                name = table_name(c, name_style(c, underlying))
                k = np.log(strike / fwd)
                vol = iv_surface(rng, k, T, shock, base_iv)
                fair = bs_price(spot, float(strike), T, RATE, vol, opt_type == "CE")
                liquidity = float(np.exp(-abs(math.log(strike / spot[0])) * 40.0))
                prev = carry.prev_close.get(name, int(to_paise_grid(np.array([max(fair[0], 0.05)]))[0]))
                oi0 = carry.oi.get(name, lot * int(rng.integers(200, 4000)))
                rows = quote_rows(rng, t, np.maximum(fair, 0.0), lot, liquidity, prev, oi0)
                carry.prev_close[name], carry.oi[name] = int(rows["price"][-1]), int(rows["oi"][-1])
                snaps.options.append(OptionTable(name, c, lot, take(rows, changed_rows(rows, rng, liquidity))))
    return snaps


assert INDEX_COLUMNS[0][0] == "timestamp"
