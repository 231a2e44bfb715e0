"""Statistics that say whether an index series looks like the real NIFTY / BANKNIFTY tape.

Pure numpy: arrays in, numbers out. `generator.calibrate` fits the market model to them and
`tests/test_generator_fidelity.py` compares generated and real series with them. Two scales:

- one session of 1-second prices (09:15:00..15:30:00, 22,501 seconds, carried forward over gaps):
  `second_stats` (autocorrelation of 1/5/15/60-second returns, clustering of |r|, the feed's
  10-second refresh, jumps);
- sessions of 1-minute bars: `minute_stats` (intraday volatility profile, daily volatility level
  and spread, minute-scale clustering, quiet and busy spells, fat tails).

Readers for the real files of `../shared/realdata` are here too (used by calibrate and the tests,
never by the product).
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

OPEN_S = 9 * 3600 + 15 * 60
SESSION_S = 22501                 # 09:15:00 .. 15:30:00 inclusive
MINUTES = 375                     # 1-minute bars 09:15 .. 15:29
BUCKET_MIN = 5                    # the volatility profile's bucket
REFRESH_S = 10                    # period of the real feed's refresh sawtooth
JUMP_Z = 5.0                      # a jump: |1-s return| > JUMP_Z x the local rms
LOCAL_S = 301                     # the local rms window (centred)
BUSY = 1.5                        # a busy 5-minute bucket: variance > BUSY x its time-of-day norm
TAIL_Z = 4.0                      # a fat-tail minute: |standardised 1-minute return| > TAIL_Z


# ------------------------------------------------------------------------------------------------
# readers of the real files


def session_grid(sod: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Prices stamped with seconds of day -> one price per session second, carried forward over
    gaps (back-filled before the first print). Rows outside 09:15:00-15:30:00 are dropped."""
    keep = (sod >= OPEN_S) & (sod < OPEN_S + SESSION_S)
    s, p = sod[keep] - OPEN_S, price[keep]
    if not len(s):
        raise ValueError("no prices inside 09:15:00-15:30:00")
    out = np.full(SESSION_S, np.nan)
    out[s] = p
    idx = np.maximum.accumulate(np.where(~np.isnan(out), np.arange(SESSION_S), 0))
    out = out[idx]
    out[np.isnan(out)] = p[0]
    return out


def read_index_1s(path: Path) -> np.ndarray:
    """A headerless `YYYY-MM-DD HH:MM:SS,price` file (naive IST) as one session grid."""
    sod, price = [], []
    for line in Path(path).read_text().splitlines():
        if not line.strip():
            continue
        stamp, p = line.split(",")[:2]
        t = dt.datetime.fromisoformat(stamp)
        sod.append(t.hour * 3600 + t.minute * 60 + t.second)
        price.append(float(p))
    return session_grid(np.array(sod), np.array(price))


def read_1min(path: Path) -> dict[str, np.ndarray]:
    """1-minute OHLC (`Instrument,Date,Time,Open,High,Low,Close`) -> date -> [open, close x 375] for
    every regular session (09:15..15:29, all 375 bars; special sessions such as 2024-01-20 left out)."""
    bars: dict[str, list] = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            bars.setdefault(r["Date"], []).append((r["Time"], float(r["Open"]), float(r["Close"])))
    out = {}
    for day, rows in sorted(bars.items()):
        times = [t for t, _, _ in rows]
        if len(rows) == MINUTES and times[0] == "09:15" and times[-1] == "15:29":
            out[day] = np.array([rows[0][1]] + [c for _, _, c in rows])
    return out


def minute_bars(grid: np.ndarray) -> np.ndarray:
    """A 1-second session grid as [open, close of each 1-minute bar] (what read_1min returns)."""
    return np.r_[grid[0], grid[59:MINUTES * 60:60]]


# ------------------------------------------------------------------------------------------------
# 1-second statistics


def acf(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    return float((x[:-lag] * x[lag:]).mean() / (x * x).mean())


def k_second_returns(logp: np.ndarray, k: int) -> np.ndarray:
    return np.diff(logp[::k])


def refresh_strength(r: np.ndarray) -> float:
    """The real feed's 10-second refresh: at one phase of the 10-second cycle the index return
    covaries with the one 10 s later about as much as a return varies (other phases: ~0). The
    largest phase's E[r_t r_t+10] / var(r); about 0 for a series without the refresh."""
    r = r - r.mean()
    v = (r * r).mean()
    prod = r[:-REFRESH_S] * r[REFRESH_S:]
    phase = np.arange(len(prod)) % REFRESH_S
    return float(max(prod[phase == k].mean() for k in range(REFRESH_S)) / v)


def local_rms(r: np.ndarray, window: int = LOCAL_S) -> np.ndarray:
    c = np.cumsum(np.r_[0.0, r * r])
    half = window // 2
    i = np.arange(len(r))
    a, b = np.maximum(i - half, 0), np.minimum(i + half + 1, len(r))
    return np.sqrt((c[b] - c[a]) / (b - a))


def jumps(r: np.ndarray, skip_s: int = 60) -> np.ndarray:
    """Returns beyond JUMP_Z local rms (the first minute, the opening auction's aftermath, left out)."""
    z = r / np.maximum(local_rms(r), 1e-12)
    z[:skip_s] = 0
    return r[np.abs(z) > JUMP_Z]


def second_stats(price: np.ndarray) -> dict[str, float]:
    """Statistics of one session of 1-second prices."""
    lp = np.log(price)
    r = np.diff(lp)
    a = np.abs(r)
    tens = [l for l in range(10, 61, 10)]
    others = [l for l in range(1, 61) if l % 10]
    j = jumps(r)
    rv30 = np.sqrt((k_second_returns(lp, 30) ** 2).sum())
    out = {f"acf1_{k}s": acf(k_second_returns(lp, k), 1) for k in (1, 5, 15, 60)}
    out.update({
        "abs_acf_1_9": float(np.mean([acf(a, l) for l in range(1, 10)])),
        "abs_acf_51_59": float(np.mean([acf(a, l) for l in range(51, 60)])),
        "abs_acf_10s_excess": float(np.mean([acf(a, l) for l in tens]) - np.mean([acf(a, l) for l in others])),
        "refresh": refresh_strength(r),
        "signature_1s_30s": float((r * r).sum() / (k_second_returns(lp, 30) ** 2).sum()),
        "zero_returns": float((r == 0).mean()),
        "jumps": float(len(j)),
        "rv_30s_pct": float(rv30 * 100),
        # median jump size relative to the day's realised volatility (the real 1-second days are from
        # 2022, the volatility level from 2024: a size in bp would compare the two years)
        "jump_size": float(np.median(np.abs(j)) / rv30) if len(j) else float("nan"),
    })
    return out


# ------------------------------------------------------------------------------------------------
# 1-minute statistics


def minute_returns(sessions: list[np.ndarray]) -> np.ndarray:
    """[open, close x 375] per session -> [session, minute] log returns (the first is close/open)."""
    return np.array([np.diff(np.log(s)) for s in sessions])


def minute_profile(M: np.ndarray) -> np.ndarray:
    """Share of each session's variance per minute, averaged over sessions (sums to 1)."""
    return (M * M / (M * M).sum(axis=1, keepdims=True)).mean(axis=0)


def bucket_profile(M: np.ndarray) -> np.ndarray:
    """Volatility per 5-minute bucket relative to the session's average (mean square 1)."""
    share = minute_profile(M).reshape(-1, BUCKET_MIN).sum(axis=1)
    return np.sqrt(share * len(share))


def _runs(flags: np.ndarray) -> list[int]:
    d = np.diff(np.r_[0, flags.astype(np.int8), 0])
    return list(np.flatnonzero(d == -1) - np.flatnonzero(d == 1))


def minute_stats(sessions: list[np.ndarray]) -> dict:
    """Statistics over sessions of 1-minute bars; returns standardised by each session's realised
    volatility and the set's own time-of-day profile (so spells and tails are not the open/close)."""
    M = minute_returns(sessions)
    day_rv = np.sqrt((M * M).sum(axis=1))
    norm = np.sqrt(minute_profile(M))
    Z = M / day_rv[:, None] / norm[None, :]
    Z = Z[:, 1:]                                           # the first bar carries the opening auction
    A = np.abs(Z)
    v5 = (Z[:, :370] ** 2).reshape(len(Z), -1, BUCKET_MIN).mean(axis=2)
    busy = v5 > BUSY
    runs = [n for row in busy for n in _runs(row)]
    return {
        "profile": bucket_profile(M),
        "day_rv_median_pct": float(np.median(day_rv) * 100),
        "day_rv_log_sd": float(np.log(day_rv).std()),
        "first_minute_share": float(minute_profile(M)[0]),
        "abs_acf_1m_1_5": float(np.mean([np.mean([acf(a, l) for a in A]) for l in range(1, 6)])),
        "acf1_1m": float(np.mean([acf(z, 1) for z in Z])),
        "busy_share": float(busy.mean()),
        "busy_run_5m": float(np.mean(runs)) if runs else 0.0,
        "tails_per_day": float((A > TAIL_Z).sum() / len(A)),
    }


def pooled(stats: list[dict]) -> dict[str, float]:
    """Mean and standard deviation across days of every scalar statistic."""
    keys = stats[0].keys()
    return {k: (float(np.nanmean([s[k] for s in stats])), float(np.nanstd([s[k] for s in stats]))) for k in keys}
