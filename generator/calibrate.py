"""Fit the generator's market to real data: `python -m generator.calibrate --realdata ../shared/realdata`.

Writes `generator/data/market_fit.json` (deterministic: same files, same bytes). Every parameter
carries its value and where it comes from: `direct` (a statistic of the real files), `matched` (chosen
so the simulated statistic equals the real one: simulated method of moments with fixed draws),
`judgement` (no real data holds it: the reason is given).

Real inputs (never needed at run time; the product reads only the JSON):
- nse_nifty50_index_1s: 3 NIFTY days of 1-second index (microstructure, clustering, jumps, the feed's
  10-second refresh);
- nse_index_1min_2024: 27 regular sessions of 1-minute NIFTY and BANKNIFTY (intraday profile, daily
  volatility and its spread, BANKNIFTY / NIFTY ratio and correlation, overnight gaps, spells);
- nse_udiff_fo_bhavcopy: daily F&O bhavcopies (traded volume by strike and expiry: the option
  book's relative liquidity by moneyness, round strikes and the second expiry).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import sys
from pathlib import Path

import numpy as np

from generator import fidelity as F
from generator.index_model import IndexFit, index_day, market_day

OUT = Path(__file__).resolve().parent / "data" / "market_fit.json"
SIM_SEED = 20240101
SIM_DAYS_1S = 24          # simulated days behind each 1-second statistic
SIM_DAYS_1M = 81          # simulated sessions behind each 1-minute statistic (3 x the real 27)
ROUND_STRIKE = {"NIFTY": 100, "BANKNIFTY": 500}
STEP = {"NIFTY": 50, "BANKNIFTY": 100}
CLUSTER_TAUS = ((30.0, 0.2), (3600.0, 0.2))     # time constants (s) of the two log-volatility components


def _p(value, source: str, how: str) -> dict:
    return {"value": value, "source": source, "how": how}


def _r(x, nd: int = 6):
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_r(v, nd) for v in x]
    return float(f"{float(x):.{nd}g}")


# ------------------------------------------------------------------------------------------------
# direct estimates


def smoothed_profile(M: np.ndarray) -> np.ndarray:
    """Per-minute volatility multiplier (mean square 1): the first five minutes as measured (the
    opening auction's aftermath decays within them), later minutes a centred 5-minute average."""
    share = F.minute_profile(M)
    out = share.copy()
    pad = np.r_[share[:5], share, share[-2:][::-1]]
    for i in range(5, len(share)):
        out[i] = pad[i + 5 - 2: i + 5 + 3].mean()
    out /= out.sum()
    return np.sqrt(out * len(out))


def direct_index(realdata: Path) -> tuple[dict, dict]:
    """Parameters estimated directly from the 1-minute sessions, and the real statistics."""
    one_min = realdata / "nse_index_1min_2024"
    sessions = {u: F.read_1min(next(one_min.glob(f"{u}_1min_*.csv"))) for u in ("NIFTY", "BANKNIFTY")}
    common = sorted(set(sessions["NIFTY"]) & set(sessions["BANKNIFTY"]))
    M = {u: F.minute_returns([sessions[u][d] for d in common]) for u in sessions}
    rv = {u: np.sqrt((M[u] ** 2).sum(axis=1)) for u in M}
    ratio = rv["BANKNIFTY"] / rv["NIFTY"]
    x, y = M["NIFTY"][:, 1:].ravel(), M["BANKNIFTY"][:, 1:].ravel()
    closes = [sessions["NIFTY"][d] for d in common]
    gaps = [math.log(closes[i][0] / closes[i - 1][-1]) for i in range(1, len(closes))]
    src = f"nse_index_1min_2024: {len(common)} regular sessions {common[0]}..{common[-1]}"
    params = {
        "profile_1min": _p({u: _r(smoothed_profile(M[u]), 5) for u in M}, src,
                           "direct: share of each session's variance per minute (mean over sessions), "
                           "minutes 6.. smoothed over 5 minutes; volatility multiplier, mean square 1"),
        "day_vol_median": _p({"NIFTY": _r(np.median(rv["NIFTY"])),
                              "BANKNIFTY": _r(np.median(rv["NIFTY"]) * np.median(ratio))}, src,
                             "direct: median realised volatility of 1-minute returns per session (log units); "
                             "BANKNIFTY = NIFTY x the median BANKNIFTY/NIFTY ratio"),
        "bank_log_sd": _p(_r(np.log(ratio).std()), src, "direct: sd of log(BANKNIFTY RV / NIFTY RV) across sessions"),
        "rho": _p(_r(np.corrcoef(x, y)[0, 1]), src, "direct: correlation of NIFTY and BANKNIFTY 1-minute returns "
                                                    "(first minute of each session left out)"),
        "gap_sd": _p(_r(np.std(gaps)), src, "direct: sd of log(open / previous session's close), NIFTY"),
    }
    real = {u: F.minute_stats([sessions[u][d] for d in common]) for u in M}
    return params, real


def real_seconds(realdata: Path) -> list[dict]:
    return [F.second_stats(F.read_index_1s(p)) for p in sorted((realdata / "nse_nifty50_index_1s").glob("*.csv"))]


def spike_share(realdata: Path) -> tuple[float, int]:
    """Share of the real jumps (fidelity.jumps) undone within the next second: the next return has
    the opposite sign and at least 40 % of the jump's size."""
    back, n = 0, 0
    for p in sorted((realdata / "nse_nifty50_index_1s").glob("*.csv")):
        r = np.diff(np.log(F.read_index_1s(p)))
        z = r / np.maximum(F.local_rms(r), 1e-12)
        z[:60] = 0
        for i in np.flatnonzero(np.abs(z) > F.JUMP_Z):
            if i + 1 < len(r):
                n += 1
                back += int(r[i + 1] * r[i] < 0 and abs(r[i + 1]) >= 0.4 * abs(r[i]))
    return back / max(n, 1), n


def refresh_blocks(realdata: Path, block_s: int) -> list[tuple[int, float]]:
    """Per real day and block: (block start, sawtooth step / the day's volatility). The step is the
    mean return at the refresh phase minus the mean of the other seconds (a sawtooth's step a gives
    +0.9a at the phase and -0.1a elsewhere); the phase is the day's strongest (fidelity.refresh_strength)."""
    out = []
    for p in sorted((realdata / "nse_nifty50_index_1s").glob("*.csv")):
        lp = np.log(F.read_index_1s(p))
        r = np.diff(lp)
        vol = math.sqrt((F.k_second_returns(lp, 30) ** 2).sum())
        prod = r[:-10] * r[10:]
        ph = np.arange(len(prod)) % 10
        phase = int(np.argmax([prod[ph == k].mean() for k in range(10)]))
        at = np.arange(len(r)) % 10 == phase
        for b in range(0, len(r), block_s):
            sl = slice(b, b + block_s)
            out.append((b, float((r[sl][at[sl]].mean() - r[sl][~at[sl]].mean()) / vol)))
    return out


# ------------------------------------------------------------------------------------------------
# simulated method of moments


def simulate(fit: IndexFit, days: int, underlying: str = "NIFTY", seed: int = SIM_SEED) -> list[np.ndarray]:
    """Recorded index sessions from fixed draws (common random numbers across candidate fits)."""
    start = dt.date(2001, 1, 1)
    out = []
    for i in range(days):
        d = start + dt.timedelta(days=i)
        p = index_day(fit, underlying, market_day(fit, seed, d), seed, d, 20_000.0).recorded
        out.append(np.round(p * 20.0) / 20.0)          # the index is quoted to 0.05
    return out


def sim_seconds(fit: IndexFit) -> dict[str, float]:
    return {k: m for k, (m, _) in F.pooled([F.second_stats(p) for p in simulate(fit, SIM_DAYS_1S)]).items()}


def sim_minutes(fit: IndexFit) -> dict:
    return F.minute_stats([F.minute_bars(p) for p in simulate(fit, SIM_DAYS_1M)])


def solve(f, target: float, lo: float, hi: float, steps: int = 14, increasing: bool = True) -> float:
    """Bisection for f(x) = target on [lo, hi] (f monotone; the ends are returned when out of range)."""
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        if (f(mid) < target) == increasing:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def matched_index(fit: IndexFit, real_s: dict, real_m: dict, say) -> IndexFit:
    """Coordinate-wise bisection, three rounds: each parameter against the statistic it drives most."""
    targets = [
        ("noise", lambda f: sim_seconds(f)["acf1_1s"], real_s["acf1_1s"], 0.0, 2.0, False),
        ("fast", lambda f: sim_seconds(f)["abs_acf_1_9"], real_s["abs_acf_1_9"], 0.0, 1.0, True),
        ("slow", lambda f: sim_minutes(f)["abs_acf_1m_1_5"], real_m["abs_acf_1m_1_5"], 0.0, 0.8, True),
        ("day_log_sd", lambda f: sim_minutes(f)["day_rv_log_sd"], real_m["day_rv_log_sd"], 0.0, 0.6, True),
        ("jumps_per_day", lambda f: sim_seconds(f)["jumps"], real_s["jumps"], 0.0, 30.0, True),
        ("jump_size", lambda f: sim_seconds(f)["jump_size"], real_s["jump_size"], 0.005, 0.3, True),
        ("refresh", lambda f: sim_seconds(f)["refresh"], real_s["refresh"], 0.0, 4.0, True),
    ]

    def setter(name: str, x: float) -> IndexFit:
        if name == "fast":
            return fit.replace(clusters=((fit.clusters[0][0], x), fit.clusters[1]))
        if name == "slow":
            return fit.replace(clusters=(fit.clusters[0], (fit.clusters[1][0], x)))
        if name == "refresh":       # scales the morning and afternoon steps and their spread together
            a, b = fit.refresh_amp
            k = x / max(abs(b), 1e-9)
            return fit.replace(refresh_amp=(a * k, b * k), refresh_sd=fit.refresh_sd * k)
        return fit.replace(**{name: x})

    def current(name: str) -> float:
        return {"fast": fit.clusters[0][1], "slow": fit.clusters[1][1], "refresh": fit.refresh_amp[1]}.get(
            name, getattr(fit, name, 0.0))

    for round_ in range(3):
        for name, stat, target, lo, hi, inc in targets:
            if name == "refresh":
                lo, hi = 0.0, 4.0 * max(current(name), 1e-3)
            x = solve(lambda v: stat(setter(name, v)), target, lo, hi, increasing=inc)
            fit = setter(name, x)
            say(f"round {round_ + 1}: {name} = {x:.5g} (target {target:.4g})")
    return fit


# ------------------------------------------------------------------------------------------------
# the option book


def bhavcopy_liquidity(realdata: Path) -> dict:
    """Traded volume relative to the ATM option of the nearest expiry, by OTM distance (strikes),
    ITM vs OTM, round strikes and the second expiry: least squares on log(1 + volume ratio)."""
    rows_x, rows_y, days = [], [], set()
    second = {u: [] for u in STEP}
    for folder in sorted((realdata / "nse_udiff_fo_bhavcopy" / "fo").iterdir()):
        for u, step in STEP.items():
            path = folder / f"{u}.csv"
            if not path.exists():
                continue
            with open(path, newline="") as f:
                opts = [r for r in csv.DictReader(f) if r["OptnTp"] in ("CE", "PE")]
            spot = float(opts[0]["UndrlygPric"])
            atm = round(spot / step) * step
            exps = sorted({r["XpryDt"] for r in opts})[:2]
            vol = {}
            for r in opts:
                if r["XpryDt"] in exps:
                    vol[(exps.index(r["XpryDt"]), int(float(r["StrkPric"])), r["OptnTp"])] = float(r["TtlTradgVol"])
            base = 0.5 * (vol.get((0, atm, "CE"), 0) + vol.get((0, atm, "PE"), 0))
            if base <= 0:
                continue
            days.add(folder.name)
            for (rank, k, typ), v in vol.items():
                d = (k - atm) // step * (1 if typ == "CE" else -1)        # > 0 out of the money
                if abs(d) > 10:
                    continue
                if rank == 1 and d == 0:
                    second[u].append(0.5 * (vol.get((1, atm, "CE"), 0) + vol.get((1, atm, "PE"), 0)) / base)
                if rank == 0:
                    rows_x.append([1.0, abs(d), float(d < 0) * abs(d), float(k % ROUND_STRIKE[u] == 0)])
                    rows_y.append(math.log((v + 1) / base))
    coef = np.linalg.lstsq(np.array(rows_x), np.array(rows_y), rcond=None)[0]
    src = f"nse_udiff_fo_bhavcopy: {len(days)} days ({min(days)}..{max(days)}), NIFTY and BANKNIFTY, nearest expiry"
    return {
        "otm_decay": _p(_r(-coef[1], 4), src, "direct: -slope of log(volume / ATM volume) per strike step out of the money"),
        "itm_decay": _p(_r(-coef[2], 4), src, "direct: the extra slope per strike step in the money"),
        "round_strike": _p(_r(math.exp(coef[3]), 4), src,
                           "direct: volume multiple of round strikes (NIFTY x100, BANKNIFTY x500) over their neighbours"),
        "round_every": _p(ROUND_STRIKE, src, "judgement from the volume by strike: the spikes sit on these multiples"),
        "second_expiry": _p({u: _r(np.median(v), 4) for u, v in second.items()}, src.replace("nearest", "second"),
                            "direct: median ATM volume of the second expiry / the nearest's"),
    }


def book_judgement() -> dict:
    j = ("judgement: there is no real quote or depth data; the trader's own numbers (spreads of Rs "
         "0.05-0.10 at the money on weekly NIFTY/BANKNIFTY options, wider out of the money, at the open and "
         "the close; depth of tens of lots at the touch) set the scale")
    return {
        "spread_atm": _p(0.06, "judgement", j + ": mean ATM spread of the nearest expiry mid-session, Rs"),
        "spread_liquidity_power": _p(0.5, "judgement", j + ": spread grows as liquidity^-0.5 (liquidity = the "
                                                           "bhavcopy volume ratio above)"),
        "spread_premium": _p(0.0003, "judgement", j + ": plus this fraction of the premium (deep ITM options)"),
        "spread_jitter": _p(0.35, "judgement", j + ": sd of the spread's log around its level, second by second"),
        "spread_open": _p([[0, 2.5], [300, 1.6], [900, 1.0]], "judgement",
                          j + ": spread multiplier from second s of the session (linear in between)"),
        "spread_close": _p([[21600, 1.0], [22200, 1.3], [22500, 1.6]], "judgement", j + ": the same toward 15:30"),
        "touch_lots_atm": _p(40, "judgement", j + ": mean lots at the best bid and ask, ATM nearest expiry"),
        "depth_level_growth": _p(1.35, "judgement", j + ": each deeper level holds this multiple of the previous"),
        "depth_liquidity_power": _p(0.5, "judgement", j + ": lots at a level grow as liquidity^0.5"),
        "trade_prob_atm": _p(0.9, "judgement", "judgement: an ATM weekly trades in almost every second"),
        "trade_liquidity_power": _p(0.6, "judgement", "judgement: trade probability per second grows as liquidity^0.6"),
        "trade_lots": _p(2.9, "judgement", "judgement: mean lots per trade in an average second; x the second's "
                                                 "activity (its index volatility / the day's mean)"),
        "trade_sign_persistence": _p(0.75, "judgement", "judgement: probability that a trade hits the same side "
                                     "as the previous one (order flow is persistent: lag-1 autocorrelation of "
                                     "trade signs about 0.5 on equity and option tapes)"),
        "futures_spread": _p({"NIFTY": 0.3, "BANKNIFTY": 1.0}, "judgement",
                             "judgement: mean spread of the near-month future mid-session, Rs"),
        "futures_touch_lots": _p(30, "judgement", "judgement: mean lots at the future's best bid and ask"),
        "update_prob_floor": _p(0.15, "judgement", "judgement: the recorder's depth-update rate for the least "
                                                   "liquid contract (+0.8 x its trade probability)"),
    }


# ------------------------------------------------------------------------------------------------


def calibrate(realdata: Path, say=lambda m: None) -> dict:
    realdata = Path(realdata)
    index, real_m = direct_index(realdata)
    real_s = {k: m for k, (m, _) in F.pooled(real_seconds(realdata)).items()}
    spikes, n_jumps = spike_share(realdata)
    block = 1800
    blocks = refresh_blocks(realdata, block)
    split = 3 * 3600          # 12:15: the real step is small before, large after on every day
    early = [a for b, a in blocks if b < split]
    late = [a for b, a in blocks if b >= split]
    resid = [a - (np.mean(early) if b < split else np.mean(late)) for b, a in blocks]
    seed_fit = IndexFit(
        profile={u: np.array(v) for u, v in index["profile_1min"]["value"].items()},
        day_vol=index["day_vol_median"]["value"], day_log_sd=0.2, bank_log_sd=index["bank_log_sd"]["value"],
        rho=index["rho"]["value"], gap_sd=index["gap_sd"]["value"], noise=0.7, clusters=CLUSTER_TAUS,
        jumps_per_day=3.0, jump_size=0.04, spike_share=spikes, refresh_amp=(float(np.mean(early)), float(np.mean(late))),
        refresh_split_s=split, refresh_sd=float(np.std(resid)), refresh_block_s=block)
    fit = matched_index(seed_fit, real_s, real_m["NIFTY"], say)
    s1 = "nse_nifty50_index_1s: 3 NIFTY days 2022-11-23..25"
    sm = "simulated method of moments (fixed draws): "
    index.update({
        "day_log_sd": _p(_r(fit.day_log_sd), index["day_vol_median"]["source"],
                         sm + "the sd of log daily realised volatility of the simulated sessions equals the real one"),
        "noise": _p(_r(fit.noise), s1, sm + "lag-1 autocorrelation of 1-second returns (stale constituents)"),
        "clusters": _p([[tau, _r(sd)] for tau, sd in fit.clusters], s1,
                       sm + "sd of log volatility of the 30-s component: mean autocorrelation of |1-s returns| at lags "
                            "1-9; of the 1-h component: of |standardised 1-minute returns| at lags 1-5 min (27 sessions). "
                            "Time constants: judgement"),
        "jumps_per_day": _p(_r(fit.jumps_per_day), s1, sm + "returns beyond 5 local rms per day (first minute left out)"),
        "jump_size": _p(_r(fit.jump_size), s1, sm + "their median size / the day's volatility"),
        "spike_share": _p(_r(spikes), s1, f"direct: of the {n_jumps} real jumps, the share undone in the next second "
                                          "(opposite sign, >= 40 % of the size)"),
        "refresh_amp": _p(_r(fit.refresh_amp), s1, "direct: mean sawtooth step / day volatility per 30-min block "
                          "before and after 12:15, then scaled with refresh_sd (" + sm + "the refresh statistic)"),
        "refresh_sd": _p(_r(fit.refresh_sd), s1, "direct: sd of the block steps around their half-day mean, scaled as above"),
        "refresh_split_s": _p(split, s1, "judgement: all three real days switch from a small to a large step near 12:15"),
        "refresh_block_s": _p(block, s1, "judgement: the step changes on a scale of half an hour"),
    })
    order = ["profile_1min", "day_vol_median", "day_log_sd", "bank_log_sd", "rho", "gap_sd", "noise", "clusters",
             "jumps_per_day", "jump_size", "spike_share", "refresh_amp", "refresh_sd", "refresh_split_s", "refresh_block_s"]
    real = {"seconds_NIFTY_2022": {k: _r(v, 4) for k, v in real_s.items()},
            "minutes": {u: {k: _r(v, 4) for k, v in s.items()} for u, s in real_m.items()}}
    return {"about": __doc__.split("\n\n")[0].strip() + " See generator/calibrate.py.",
            "index": {k: index[k] for k in order},
            "book": {**bhavcopy_liquidity(realdata), **book_judgement()},
            "real_statistics": real}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m generator.calibrate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--realdata", required=True, type=Path, help="the shared realdata folder")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    say = (lambda m: None) if a.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    fit = calibrate(a.realdata, say)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(fit, indent=1, sort_keys=False, default=_json_default) + "\n")
    say(f"wrote {a.out}")
    return 0


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(type(x))


if __name__ == "__main__":
    sys.exit(main())
