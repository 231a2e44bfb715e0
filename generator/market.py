"""The market model of the generator: index, futures and option chains for one trading day.

Pure and vectorised (numpy per contract-day, no Python per row). Seeded per (seed, underlying, day)
so day N is identical whatever --days is. The index follows the process fitted to real NIFTY /
BANKNIFTY days (generator/index_model.py); options are Black-Scholes on a skewed, term-structured IV
surface with decaying IV shocks, valued on the index's efficient price; the book (spreads, depth,
trades by moneyness, expiry and time of day) follows generator/book.py. Quotes sit on the 0.05 grid;
the recorder writes a row only when the snapshot changed, never staying silent more than
MAX_SILENCE_S seconds on its own.
"""
from __future__ import annotations

import datetime as dt
import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from generator import book
from generator.index_model import IndexDay, index_day, load_fit, market_day
from generator import stocks
from generator.snapshots import DaySnapshots, FuturesTable, OptionTable, Rows, StockTable
from ingest.contracts import Contract, table_name
from ingest.recorder_format import INDEX_COLUMNS, OPTION_COLUMN_NAMES
from transforms.basket import basket
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


@dataclass
class BookPath:
    """What the book of one instrument-day looks like, second by second (see generator/book.py)."""
    spread: np.ndarray           # ticks (>= 1)
    touch_lots: np.ndarray       # mean lots at the best bid / ask
    trade_p: np.ndarray          # probability of a trade in the second
    size: np.ndarray             # mean lots of a trade (more in busy seconds)
    sign_persistence: float      # probability a trade is on the same side (bid / ask) as the previous one
    empty_p: np.ndarray          # probability that a level beyond the second is empty
    update_p: np.ndarray         # probability the recorder sees a depth change without a trade


def quote_rows(rng: np.random.Generator, t: np.ndarray, fair: np.ndarray, lot: int, bp: BookPath,
               prev_close: int, oi0: int) -> Rows:
    """The 46 recorder columns for one instrument-day from its fair value path (rupees)."""
    n = len(t)
    # the touch straddles fair value; a worthless contract is still bid at the minimum tick (lottery
    # buyers at 0.05 on expiry afternoons) and offered a spread above it
    ticks = np.maximum(np.floor((fair * 100.0 / TICK) - bp.spread / 2.0 + 0.5).astype(np.int64), 1)
    bid = ticks * TICK
    ask = (ticks + bp.spread) * TICK
    # trades: a Bernoulli process per second, more on liquid contracts and busy seconds
    traded = rng.random(n) < bp.trade_p
    qty = np.where(traded, lot * rng.geometric(np.minimum(0.9, 1.0 / bp.size), n), 0).astype(np.int64)
    # order flow is persistent: a buyer-initiated trade tends to follow a buyer-initiated trade
    flips = rng.random(n) >= bp.sign_persistence
    at_ask = (np.cumsum(flips) + int(rng.integers(0, 2))) % 2 == 0
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
    growth = book.load_book().depth_level_growth
    for side, best, sign in (("b", bid, -1), ("s", ask, 1)):
        total = np.zeros(n, np.int64)
        for k in range(5):
            gap = TICK * (k + (rng.random(n) < 0.3 * k).astype(np.int64))
            px = best + sign * gap
            mean_lots = bp.touch_lots * growth ** k
            qk = lot * np.maximum(1, np.round(mean_lots * rng.uniform(0.3, 1.7, n))).astype(np.int64)
            empty = (px <= 0) | (rng.random(n) < bp.empty_p * max(0, k - 1))
            px, qk = np.where(empty, 0, px), np.where(empty, 0, qk)
            orders = np.where(empty, 0, np.maximum(1, qk // (lot * rng.integers(1, 6, n))))
            rows[f"{side}q{k}"], rows[f"{side}p{k}"], rows[f"{side}o{k}"] = qk, px, orders
            total += qk
        rows["bQty" if side == "b" else "sQty"] = total * rng.integers(3, 9, n)
    return {c: rows[c].astype(np.int64) for c in OPTION_COLUMN_NAMES}


def changed_rows(rows: Rows, rng: np.random.Generator, update_p: np.ndarray) -> np.ndarray:
    """Seconds the recorder writes: the snapshot changed (touch, LTP, volume, or a depth update),
    with no natural silence longer than MAX_SILENCE_S."""
    n = len(rows["timestamp"])
    key = np.vstack([rows["price"], rows["volume"], rows["bp0"], rows["sp0"]])
    changed = np.r_[True, (key[:, 1:] != key[:, :-1]).any(axis=0)]
    changed |= rng.random(n) < update_p                     # depth quantities moved
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


def option_book(fit: book.BookFit, rng: np.random.Generator, underlying: str, c: Contract, spot: np.ndarray,
                fair: np.ndarray, second_expiry: bool, tod: np.ndarray, activity: np.ndarray) -> BookPath:
    liq = book.liquidity(fit, underlying, c.strike, c.opt_type, spot, strike_step(underlying), second_expiry)
    trade_p = book.trade_prob(fit, liq, activity)
    return BookPath(spread=book.spread_ticks(fit, rng, fair, liq, tod), touch_lots=book.touch_lots(fit, liq),
                    trade_p=trade_p, size=book.trade_size(fit, activity), sign_persistence=fit.trade_sign_persistence,
                    empty_p=np.clip(0.35 * (1.0 - liq), 0.0, 0.35), update_p=fit.update_prob_floor + 0.8 * trade_p)


def _index(underlying: str, day: dt.date, seed: int, carry: CarryState, index_csv_path: np.ndarray | None) -> IndexDay:
    if index_csv_path is not None:
        return IndexDay(index_csv_path, index_csv_path, 0.0, np.ones(len(index_csv_path)))
    fit = load_fit()
    start = carry.level.get(underlying, START_LEVEL[underlying])
    return index_day(fit, underlying, market_day(fit, seed, day), seed, day, start)


def simulate_day(underlying: str, day: dt.date, strikes: int, seed: int, carry: CarryState,
                 index_csv_path: np.ndarray | None = None) -> DaySnapshots:
    """Every instrument of one underlying on one day (quirk-free; quirks.py adds the defects)."""
    rng = day_rng(seed, underlying, day)
    t = wall_seconds(day)
    idx = _index(underlying, day, seed, carry, index_csv_path)
    spot = idx.efficient                          # what options and futures are valued on
    carry.level[underlying] = float(spot[-1])
    index_rows = {"timestamp": t, "price": to_paise_grid(idx.recorded)}
    bfit = book.load_book()
    tod = book.time_of_day(bfit, len(t))
    activity = np.clip(idx.activity, 0.25, 4.0)
    step = strike_step(underlying)
    atm = int(atm_strike(spot[0], step))
    # implied vol sits above the realised level the index is fitted to (a variance premium)
    realised = load_fit().day_vol[underlying] * math.sqrt(252.0)
    base_iv = float(realised * rng.uniform(1.2, 1.6))
    shock = iv_shocks(rng)
    snaps = DaySnapshots(underlying, day, underlying, index_rows)
    fut_expiry = monthly_expiries(underlying, day, day + dt.timedelta(days=40))[0]
    close_s = (dt.datetime.combine(fut_expiry, dt.time(15, 30)) - dt.datetime(1970, 1, 1)).total_seconds()
    fwd_T = (close_s - t) / YEAR_S
    fut_fair = spot * np.exp(RATE * fwd_T) + np.cumsum(rng.normal(0, 0.3, len(t))) * 0.1
    fut_table = f"{underlying}FUT"
    fut_book = BookPath(spread=book.futures_spread_ticks(bfit, rng, underlying, tod),
                        touch_lots=np.full(len(t), float(bfit.futures_touch_lots)), trade_p=np.full(len(t), 0.95),
                        size=book.trade_size(bfit, activity), sign_persistence=bfit.trade_sign_persistence,
                        empty_p=np.zeros(len(t)), update_p=np.full(len(t), 0.9))
    fut_rows = quote_rows(rng, t, fut_fair, lot_size(underlying, fut_expiry, day), fut_book,
                          carry.prev_close.get(fut_table, int(to_paise_grid(np.array([fut_fair[0]]))[0])), 120_000)
    carry.prev_close[fut_table] = int(fut_rows["price"][-1])
    snaps.futures.append(FuturesTable(fut_table, underlying, fut_expiry, lot_size(underlying, fut_expiry, day),
                                      take(fut_rows, changed_rows(fut_rows, rng, fut_book.update_p))))
    for rank, expiry in enumerate(day_expiries(underlying, day)):
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
                fair = np.maximum(bs_price(spot, float(strike), T, RATE, vol, opt_type == "CE"), 0.0)
                bp = option_book(bfit, rng, underlying, c, spot, fair, rank == 1, tod, activity)
                prev = carry.prev_close.get(name, int(to_paise_grid(np.array([max(fair[0], 0.05)]))[0]))
                oi0 = carry.oi.get(name, lot * int(rng.integers(200, 4000)))
                rows = quote_rows(rng, t, fair, lot, bp, prev, oi0)
                carry.prev_close[name], carry.oi[name] = int(rows["price"][-1]), int(rows["oi"][-1])
                snaps.options.append(OptionTable(name, c, lot, take(rows, changed_rows(rows, rng, bp.update_p))))
    snaps.stocks = stock_tables(underlying, day, seed, t, spot, carry)
    return snaps


def stock_tables(underlying: str, day: dt.date, seed: int, t: np.ndarray, spot: np.ndarray,
                 carry: CarryState) -> list[StockTable]:
    """The underlying's bank-basket stocks (transforms.basket) on one day, following its efficient
    index path (generator.stocks), from their own random stream (none without a basket)."""
    symbols = [s for s, _ in basket(underlying)]
    if not symbols:
        return []
    fit = stocks.stock_fit()
    rng = day_rng(seed, underlying, day, "stocks")
    start = {s: carry.level.get(s, fit["start_price"][s]) for s in symbols}
    paths = stocks.stock_paths(rng, spot, symbols, start)
    n = len(t)
    bp = BookPath(spread=np.full(n, int(fit["spread_ticks"]["value"])), touch_lots=np.full(n, float(fit["touch_qty"]["value"])),
                  trade_p=np.full(n, float(fit["trade_prob"]["value"])), size=np.full(n, float(fit["trade_size"]["value"])),
                  sign_persistence=0.5, empty_p=np.zeros(n), update_p=np.full(n, 0.9))
    out = []
    for s in symbols:
        carry.level[s] = float(paths[s][-1])
        prev = carry.prev_close.get(s, int(to_paise_grid(paths[s][:1])[0]))
        rows = quote_rows(rng, t, paths[s], 1, bp, prev, 0)
        for c in ("oi", "oiHigh", "oiLow"):          # a stock has no open interest: the recorder writes 0
            rows[c] = np.zeros(n, np.int64)
        carry.prev_close[s] = int(rows["price"][-1])
        out.append(StockTable(s, take(rows, changed_rows(rows, rng, bp.update_p))))
    return out


assert INDEX_COLUMNS[0][0] == "timestamp"
