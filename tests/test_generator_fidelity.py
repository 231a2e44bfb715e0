"""The generated index looks like the real NIFTY / BANKNIFTY tape (a fidelity check of the market
model, not a target for any strategy's P&L).

Real: `../shared/realdata` (skipped when absent): 3 NIFTY days of 1-second index (2022-11-23..25) and
27 regular sessions of 1-minute NIFTY and BANKNIFTY bars (2024-01-01..02-09). Generated: the
generator's own index (generator.index_model, as generator.market writes it: rounded to 0.05) for
60 NIFTY days and 81 sessions of each underlying, fixed seed.

Tolerances, and why:
- 1-second statistics (3 real days): the generated mean must lie within two real day-to-day standard
  deviations of the real mean (at least 0.02): with three days that is what the data can tell apart.
- 1-minute statistics (27 real sessions): bounds from the real set's own sampling spread (its two
  halves, odd and even sessions or first and second half, differ by up to these amounts):
  profile correlation >= 0.8 (the halves correlate 0.64-0.81; the fit smooths the profile, so the
  generated one must beat a half), daily volatility median within 20 %, its log sd within 0.1,
  share of the first minute within 0.03, |z| autocorrelation at 1-5 min within 0.03, lag-1
  autocorrelation within 0.03, busy share within 0.04, busy spell length within 0.2 buckets.
- Across underlyings: BANKNIFTY / NIFTY volatility ratio within 10 %, correlation of 1-minute returns
  within 0.07.
Not asserted, reported only: the share of 4-sigma minutes (4 events in the real 27 sessions), zero
returns and the 30-s volatility level of the 1-second days (they measure 2022's volatility, the
level is fitted to 2024's).

A negative control keeps the test honest: the plain random walk the generator used before the fit
fails it.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from generator import fidelity as F
from generator.index_model import index_day, load_fit, market_day
from generator.market import CarryState, START_LEVEL, simulate_day, to_paise_grid
from tests.realdata import realdata

SEED = 7
SECOND_DAYS = 60
MINUTE_DAYS = 81
SECOND_KEYS = {"acf1_1s", "acf1_5s", "acf1_15s", "acf1_60s", "abs_acf_1_9", "abs_acf_51_59", "abs_acf_10s_excess",
               "refresh", "signature_1s_30s", "jumps", "jump_size"}
MINUTE_TOL = {"day_rv_median_pct": ("rel", 0.20), "day_rv_log_sd": ("abs", 0.10), "first_minute_share": ("abs", 0.03),
              "abs_acf_1m_1_5": ("abs", 0.03), "acf1_1m": ("abs", 0.03), "busy_share": ("abs", 0.04),
              "busy_run_5m": ("abs", 0.2)}


def trading_days(n: int) -> list[dt.date]:
    out, d = [], dt.date(2025, 1, 6)
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def generated(days: int) -> dict[str, list[np.ndarray]]:
    """Recorded index sessions per underlying, chained day to day as the generator chains them."""
    fit = load_fit()
    level = dict(START_LEVEL)
    out = {u: [] for u in level}
    for d in trading_days(days):
        m = market_day(fit, SEED, d)
        for u in out:
            day = index_day(fit, u, m, SEED, d, level[u])
            level[u] = float(day.efficient[-1])
            out[u].append(to_paise_grid(day.recorded) / 100.0)
    return out


def old_random_walk(days: int) -> dict[str, list[np.ndarray]]:
    """The generator's index before the fit (commit 1cb7c79, generator/market.py index_path): 13 %
    annual vol on a U-shaped profile, quiet/trending regimes, 3 jumps a day of 0.15 %."""
    n = F.SESSION_S
    t = np.arange(n, dtype=np.float64)
    u_shape = 0.7 + 1.6 * np.exp(-t / 1500.0) + 0.9 * np.exp(-(n - 1 - t) / 1800.0)
    out = {}
    for u, start in START_LEVEL.items():
        rng = np.random.default_rng([SEED, len(u)])
        paths = []
        for _ in range(days):
            sigma_s = 0.13 / math.sqrt(252 * n)
            regime, state, i = np.zeros(n), 0, 0
            while i < n:
                length = int(rng.integers(900, 4500))
                state = 1 - state if rng.random() < 0.5 else state
                regime[i:i + length] = (rng.choice([-1, 1]) * sigma_s * rng.uniform(0.05, 0.15)) if state else 0.0
                i += length
            steps = rng.standard_normal(n) * sigma_s * u_shape * np.where(regime != 0, 1.3, 0.8) + regime
            jumps = rng.random(n) < 3.0 / n
            steps[jumps] += rng.normal(0, 0.0015, jumps.sum())
            steps[0] = rng.normal(0, 0.004)
            p = start * np.exp(np.cumsum(steps))
            start = float(p[-1])
            paths.append(to_paise_grid(p) / 100.0)
        out[u] = paths
    return out


@pytest.fixture(scope="module")
def real():
    one_s = sorted(realdata("nse_nifty50_index_1s").glob("*.csv"))
    folder = realdata("nse_index_1min_2024")
    sessions = {u: F.read_1min(next(folder.glob(f"{u}_1min_*.csv"))) for u in ("NIFTY", "BANKNIFTY")}
    common = sorted(set(sessions["NIFTY"]) & set(sessions["BANKNIFTY"]))
    return {"seconds": [F.second_stats(F.read_index_1s(p)) for p in one_s],
            "minutes": {u: [s[d] for d in common] for u, s in sessions.items()}}


def cross_stats(minutes: dict[str, list[np.ndarray]]) -> dict[str, float]:
    n, b = F.minute_returns(minutes["NIFTY"]), F.minute_returns(minutes["BANKNIFTY"])
    ratio = np.sqrt((b ** 2).sum(axis=1)) / np.sqrt((n ** 2).sum(axis=1))
    return {"bank_nifty_vol_ratio": float(np.median(ratio)),
            "bank_nifty_corr": float(np.corrcoef(n[:, 1:].ravel(), b[:, 1:].ravel())[0, 1])}


def comparison(real: dict, second_paths: list[np.ndarray], minute_paths: dict[str, list[np.ndarray]]) -> list[tuple]:
    """(statistic, real, generated, tolerance, within) for every asserted statistic."""
    rows = []
    gen_s = F.pooled([F.second_stats(p) for p in second_paths])
    for k, (mean, sd) in F.pooled(real["seconds"]).items():
        if k in SECOND_KEYS:
            tol = max(2 * sd, 0.02)
            rows.append((f"1s {k}", mean, gen_s[k][0], f"+-{tol:.3f}", abs(gen_s[k][0] - mean) <= tol))
    for u in ("NIFTY", "BANKNIFTY"):
        r = F.minute_stats(real["minutes"][u])
        g = F.minute_stats([F.minute_bars(p) for p in minute_paths[u]])
        corr = float(np.corrcoef(r["profile"], g["profile"])[0, 1])
        rows.append((f"1m {u} profile corr (5-min buckets)", 1.0, corr, ">= 0.80", corr >= 0.8))
        for k, (kind, tol) in MINUTE_TOL.items():
            ok = abs(g[k] / r[k] - 1) <= tol if kind == "rel" else abs(g[k] - r[k]) <= tol
            rows.append((f"1m {u} {k}", r[k], g[k], f"+-{tol:.0%}" if kind == "rel" else f"+-{tol}", ok))
        rows.append((f"1m {u} tails_per_day (reported)", r["tails_per_day"], g["tails_per_day"], "-", True))
    rc = cross_stats(real["minutes"])
    gc = cross_stats({u: [F.minute_bars(p) for p in minute_paths[u]] for u in minute_paths})
    rows.append(("1m bank_nifty_vol_ratio", rc["bank_nifty_vol_ratio"], gc["bank_nifty_vol_ratio"], "+-10%",
                 abs(gc["bank_nifty_vol_ratio"] / rc["bank_nifty_vol_ratio"] - 1) <= 0.10))
    rows.append(("1m bank_nifty_corr", rc["bank_nifty_corr"], gc["bank_nifty_corr"], "+-0.07",
                 abs(gc["bank_nifty_corr"] - rc["bank_nifty_corr"]) <= 0.07))
    return rows


def table(rows: list[tuple]) -> str:
    lines = [f"{'statistic':44s} {'real':>10s} {'generated':>10s} {'tolerance':>10s}  ok"]
    lines += [f"{n:44s} {r:10.4f} {g:10.4f} {t:>10s}  {'yes' if ok else 'NO'}" for n, r, g, t, ok in rows]
    return "\n".join(lines)


def test_the_generated_index_matches_the_real_tape_within_the_stated_tolerances(real):
    second = generated(SECOND_DAYS)["NIFTY"]
    rows = comparison(real, second, generated(MINUTE_DAYS))
    print("\n" + table(rows))
    assert all(ok for *_, ok in rows), "\n" + table([r for r in rows if not r[-1]])


def test_the_old_random_walk_fails_the_same_checks(real):
    """Negative control: the check can fail, and does on the uncalibrated walk."""
    old = old_random_walk(MINUTE_DAYS)
    rows = comparison(real, old["NIFTY"][:SECOND_DAYS], old)
    print("\n" + table(rows))
    failed = {n for n, *_, ok in rows if not ok}
    assert {"1s acf1_1s", "1s refresh", "1m NIFTY day_rv_median_pct", "1m bank_nifty_corr"} <= failed, failed


def test_the_generator_writes_the_index_the_check_measures():
    """The recorder's index rows are the fitted process, rounded to 0.05 (so the check above is about
    what the generator writes)."""
    d = dt.date(2025, 11, 4)
    snaps = simulate_day("NIFTY", d, 0, SEED, CarryState())
    fit = load_fit()
    want = to_paise_grid(index_day(fit, "NIFTY", market_day(fit, SEED, d), SEED, d, START_LEVEL["NIFTY"]).recorded)
    assert np.array_equal(snaps.index_rows["price"], want)
