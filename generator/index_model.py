"""The index process of the generator, fitted to real NIFTY / BANKNIFTY days.

The fit is data: `generator/data/market_fit.json`, written by `python -m generator.calibrate` (every
parameter's source is named there). Per second t of the session (09:15:00..15:30:00):

    efficient log price  dX_t = s_U * m_U(t) * v_t * (sqrt(rho) e_t + sqrt(1 - rho) u_t) + jumps
        s_U     the day's volatility (lognormal around the fitted median; BANKNIFTY a fitted multiple
                of NIFTY's day)
        m_U(t)  the intraday volatility profile (per minute, mean square 1: the open, 15:00)
        v_t     volatility clustering, exp of two AR(1) components shared by both underlyings
                (busy and quiet spells are the market's), normalised to mean square 1
        e_t     the market's shock (shared), u_t the underlying's own: corr(NIFTY, BANKNIFTY) = rho
        jumps   Poisson arrivals shared by both underlyings (news), sizes in units of the day's vol;
                a share of them are one-second spikes of the feed (in the noise, not in X)
    recorded index = exp(X_t + noise_t + refresh_t)
        noise   i.i.d., proportional to the second's volatility: index points computed from stale
                constituent prices (the negative lag-1 autocorrelation of the real 1-second tape)
        refresh the real feed's 10-second sawtooth: at one phase of the 10-second cycle the index
                steps up and drifts back down over the next nine seconds (seen on every real day,
                strongest in the afternoon; its cause is the feed's, not the market's)

Options and futures are priced off X: the noise and the sawtooth belong to the index feed.
Deterministic: the market's draws depend on (seed, day), an underlying's on (seed, underlying, day).
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import math
import zlib
from dataclasses import dataclass
from importlib import resources

import numpy as np
from scipy.signal import lfilter

SESSION_S = 22501
FIT_FILE = "data/market_fit.json"


def rng_for(seed: int, *key: object) -> np.random.Generator:
    """A generator that depends only on (seed, key): day N is the same for any --days."""
    k = zlib.crc32("|".join(str(x) for x in key).encode())
    return np.random.default_rng(np.random.SeedSequence([seed, k]))


@dataclass(frozen=True)
class IndexFit:
    profile: dict[str, np.ndarray]        # underlying -> per-minute volatility multiplier (375)
    day_vol: dict[str, float]             # underlying -> median daily volatility (log units)
    day_log_sd: float                     # sd of log daily volatility (NIFTY; BANKNIFTY follows it)
    bank_log_sd: float                    # BANKNIFTY's own day-to-day spread around NIFTY x ratio
    rho: float                            # correlation of NIFTY and BANKNIFTY 1-minute returns
    gap_sd: float                         # overnight gap, open vs previous close (log units)
    noise: float                          # noise sd / the second's efficient sd
    clusters: tuple[tuple[float, float], ...]   # (time constant s, sd of log vol) per component
    jumps_per_day: float
    jump_size: float                      # jump sd / the day's volatility
    spike_share: float                    # share of jumps the feed prints for one second only
    refresh_amp: tuple[float, float]      # sawtooth step (x day vol): before / after refresh_split_s
    refresh_split_s: int
    refresh_sd: float                     # block-to-block sd of the step (x day vol)
    refresh_block_s: int

    def replace(self, **kw) -> "IndexFit":
        return IndexFit(**{**self.__dict__, **kw})


def fit_from_dict(d: dict) -> IndexFit:
    i = d["index"]
    return IndexFit(
        profile={u: np.array(v, dtype=np.float64) for u, v in i["profile_1min"]["value"].items()},
        day_vol={u: float(v) for u, v in i["day_vol_median"]["value"].items()},
        day_log_sd=float(i["day_log_sd"]["value"]), bank_log_sd=float(i["bank_log_sd"]["value"]),
        rho=float(i["rho"]["value"]), gap_sd=float(i["gap_sd"]["value"]), noise=float(i["noise"]["value"]),
        clusters=tuple((float(t), float(s)) for t, s in i["clusters"]["value"]),
        jumps_per_day=float(i["jumps_per_day"]["value"]), jump_size=float(i["jump_size"]["value"]),
        spike_share=float(i["spike_share"]["value"]),
        refresh_amp=tuple(float(x) for x in i["refresh_amp"]["value"]),
        refresh_split_s=int(i["refresh_split_s"]["value"]), refresh_sd=float(i["refresh_sd"]["value"]),
        refresh_block_s=int(i["refresh_block_s"]["value"]))


@functools.lru_cache(maxsize=1)
def market_fit() -> dict:
    """The whole fit file (index and option book sections)."""
    return json.loads(resources.files("generator").joinpath(FIT_FILE).read_text())


@functools.lru_cache(maxsize=1)
def load_fit() -> IndexFit:
    return fit_from_dict(market_fit())


@dataclass
class MarketDay:
    """The draws both underlyings share on one day."""
    vol_z: float                 # the day's volatility draw (standard normal)
    clustering: np.ndarray       # v_t, mean square 1
    shock: np.ndarray            # e_t
    jump_z: np.ndarray           # standard-normal jump per second (0 where none)
    spike: np.ndarray            # bool per second: the jump is a one-second spike of the feed, not a move


def _ar1(rng: np.random.Generator, n: int, tau: float, sd: float) -> np.ndarray:
    phi = math.exp(-1.0 / tau)
    e = rng.standard_normal(n) * sd * math.sqrt(1.0 - phi * phi)
    x0 = rng.standard_normal() * sd
    out, _ = lfilter([1.0], [1.0, -phi], e, zi=[phi * x0])
    return out


def market_day(fit: IndexFit, seed: int, day: dt.date, n: int = SESSION_S) -> MarketDay:
    rng = rng_for(seed, "MARKET", day.isoformat())
    vol_z = float(rng.standard_normal())
    h = np.zeros(n)
    for tau, sd in fit.clusters:
        h += _ar1(rng, n, tau, sd)
    h -= sum(sd * sd for _, sd in fit.clusters)        # E[exp(2h)] = 1
    shock = rng.standard_normal(n)
    jump_z = np.zeros(n)
    k = rng.poisson(fit.jumps_per_day)
    at = rng.integers(1, n, k)
    jump_z[at] = rng.standard_normal(k)
    spike = np.zeros(n, bool)
    spike[at] = rng.random(k) < fit.spike_share
    return MarketDay(vol_z, np.exp(h), shock, jump_z, spike)


def per_second(profile_1min: np.ndarray, n: int = SESSION_S) -> np.ndarray:
    return profile_1min[np.minimum(np.arange(n) // 60, len(profile_1min) - 1)]


@dataclass
class IndexDay:
    efficient: np.ndarray        # the price options are valued on
    recorded: np.ndarray         # what the recorder's index table stores (noise + the feed's refresh)
    day_vol: float               # this day's volatility (log units over the session)
    activity: np.ndarray | None = None   # the second's volatility / the day's mean: busy > 1, quiet < 1


def index_day(fit: IndexFit, underlying: str, market: MarketDay, seed: int, day: dt.date, start: float,
              n: int = SESSION_S) -> IndexDay:
    rng = rng_for(seed, underlying, day.isoformat(), "index")
    vol = fit.day_vol["NIFTY"] * math.exp(fit.day_log_sd * market.vol_z)
    if underlying != "NIFTY":
        vol *= fit.day_vol[underlying] / fit.day_vol["NIFTY"] * math.exp(fit.bank_log_sd * rng.standard_normal())
    base = vol / math.sqrt(n - 1) * per_second(fit.profile[underlying], n)
    sigma = base * market.clustering
    own = rng.standard_normal(n)
    # both load sqrt(rho) on the market's shock: their correlation is rho
    steps = sigma * (math.sqrt(fit.rho) * market.shock + math.sqrt(1.0 - fit.rho) * own)
    jump = market.jump_z * fit.jump_size * vol
    steps += np.where(market.spike, 0.0, jump)
    steps[0] = rng.normal(0.0, fit.gap_sd)                  # the overnight gap
    x = math.log(start) + np.cumsum(steps)
    noise = fit.noise * base * rng.standard_normal(n) + np.where(market.spike, jump, 0.0)
    return IndexDay(np.exp(x), np.exp(x + noise + refresh(fit, rng, vol, n)), vol, sigma / sigma.mean())


def refresh(fit: IndexFit, rng: np.random.Generator, vol: float, n: int = SESSION_S) -> np.ndarray:
    """The feed's 10-second sawtooth: a step of a at one phase, a drift of -a/10 per second between.
    a is drawn per block (the real step changes sign and size through the day)."""
    t = np.arange(n)
    phase = int(rng.integers(0, 10))
    blocks = np.arange(0, n, fit.refresh_block_s)
    mean = np.where(blocks < fit.refresh_split_s, fit.refresh_amp[0], fit.refresh_amp[1])
    amp = (mean + fit.refresh_sd * rng.standard_normal(len(blocks))) * vol
    a = amp[t // fit.refresh_block_s]
    return -a * ((t - phase) % 10) / 10.0
