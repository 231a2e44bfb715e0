"""The catalogue's shared per-second features of the index and its chain (features_spot, issue #17),
each against a plain-Python recomputation over the same hand-made rows: 5-minute candle streak,
round-number distance, put-call parity deviation, max-OI strike, weekly-monthly ATM IV spread,
25-delta skew and the futures basis."""
import datetime as dt
import math
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest

from features.build import RATE
from features.chain import build_spot_features, candle_streak
from warehouse.clock import IST_OFFSET_S, IST_TS

DAY = dt.date(2025, 11, 4)                                      # a Tuesday; NIFTY strikes 50 apart
WEEKLY, MONTHLY = dt.date(2025, 11, 11), dt.date(2025, 11, 25)  # the nearest weekly, the nearest monthly
OPEN = int((dt.datetime.combine(DAY, dt.time(9, 15)) - dt.datetime(1970, 1, 1)).total_seconds())
S = 25 * 60                                                     # 09:15:00 .. 09:39:59
STRIKES = (24_950, 25_000, 25_050)
rng = np.random.default_rng(17)


def ts(wall):
    return pa.array((np.asarray(wall, np.int64) - IST_OFFSET_S) * 1_000_000, pa.int64()).cast(IST_TS)


def spot_path():
    spot = 25_000 + np.cumsum(rng.normal(0, 0.5, S))
    spot[[40, 41, 300]] = [25_024.99, 25_025.0, 25_000.0]      # around the half-way and on a level
    return np.round(spot, 2)


def chain_rows(t):
    """Option features rows: 3 strikes x CE/PE x weekly/monthly each second, with gaps and ties."""
    rows = defaultdict(list)
    for e in (WEEKLY, MONTHLY):
        for k in STRIKES:
            for o in ("CE", "PE"):
                mid = np.round(100 + rng.normal(0, 5, S), 2)
                iv = np.round(12 + rng.normal(0, 1, S), 3)
                iv[rng.random(S) < 0.1] = np.nan                        # unquoted seconds
                delta = rng.uniform(0.05, 0.6, S) * (1 if o == "CE" else -1)
                oi = rng.integers(1, 5, S).astype(float) * 1_000         # many ties across strikes
                oi[rng.random(S) < 0.05] = np.nan
                for name, v in (("ts", t), ("expiry", [e] * S), ("opt_type", [o] * S), ("strike", [k] * S),
                                ("mid", mid), ("iv", iv), ("delta", delta), ("oi", oi), ("vol_delta", np.full(S, 1.0))):
                    rows[name].extend(list(v))
    t_all = np.asarray(rows.pop("ts"))
    table = {"ts": ts(t_all), "expiry": pa.array(rows["expiry"], pa.date32()),
             "opt_type": pa.array(rows["opt_type"]), "strike": pa.array(rows["strike"], pa.int32())}
    for name in ("mid", "iv", "delta", "oi", "vol_delta"):
        rows[name] = np.asarray(rows[name], float)
        table[name] = pa.array(rows[name], mask=np.isnan(rows[name]))
    return pa.table(table), rows, t_all


def build(with_monthly=True):
    t = OPEN + np.arange(S)
    spot = spot_path()
    grid = pa.table({"underlying": pa.array(["NIFTY"] * S), "ts": ts(t), "date": pa.array([DAY] * S, pa.date32()),
                     "price": spot, "is_pad": pa.array(np.zeros(S, bool))})
    opts, cols, t_all = chain_rows(t)
    if not with_monthly:
        opts = opts.filter(pa.compute.equal(opts["expiry"], pa.scalar(WEEKLY, pa.date32())))
    fut_t = t[::7]                                                # a tick every 7 s, carried forward
    fut = pa.table({"ts": ts(fut_t), "price": spot[::7] + 40.5})
    out = build_spot_features("NIFTY", DAY, grid, fut, opts)
    return t, spot, out, cols, t_all, opts


@pytest.fixture(scope="module")
def built():
    return build()


def col(table, name):
    return table[name].to_pylist()


def test_index_values_candle_streak_round_distance_and_basis_match_loops(built):
    t, spot, out, *_ = built
    # candles: bucket by minute-of-session // 5, colour of last - first, a streak of one colour
    first, last = {}, {}
    for k in range(S):
        b = (k // 60) // 5
        first.setdefault(b, float(spot[k]))
        last[b] = float(spot[k])
    streak, after = 0, {}
    for b in sorted(first):
        c = (last[b] > first[b]) - (last[b] < first[b])
        streak = (streak + c) if c != 0 and streak * c > 0 else c
        after[b] = streak
    want = [after.get((k // 60) // 5 - 1, 0) for k in range(S)]
    assert col(out, "candle_streak_5m") == want
    for step in (100, 1000):
        got = col(out, f"round_dist_{step}")
        for k in range(S):
            lower = math.floor(spot[k] / step) * step
            near = lower + step if spot[k] - lower >= step / 2 else lower     # half-way: the level above
            assert got[k] == pytest.approx(spot[k] - near, abs=1e-3), (step, k)
    assert col(out, "round_dist_100")[300] == 0.0
    basis = col(out, "fut_basis")
    for k in range(S):
        tick = k - k % 7
        assert basis[k] == pytest.approx(spot[tick] + 40.5 - spot[k], abs=1e-3)


def test_candle_streak_counts_completed_five_minute_candles_of_one_colour():
    t = OPEN + np.arange(25 * 60)
    spot = np.full(len(t), np.nan)
    # candles 09:15, 09:20, 09:25: red; 09:30: green; each opens at its first second and closes at its last
    for k, (o, c) in enumerate([(100, 99), (99, 98), (98, 97), (97, 98), (98, 98)]):
        spot[k * 300], spot[k * 300 + 299] = o, c
    s = candle_streak(t, spot, 5)
    assert (s[0], s[300], s[600], s[900], s[1200]) == (0, -1, -2, -3, 1)
    assert s[1499] == 1                            # the 09:35 candle is not complete within the data
    assert (s[299], s[899]) == (0, -2)            # a candle counts from the second after its end


def _per_second(cols, t_all):
    by = defaultdict(list)
    for r in range(len(t_all)):
        by[int(t_all[r])].append({n: cols[n][r] for n in cols})
    return by


def test_chain_values_parity_max_oi_term_spread_and_skew_match_loops(built):
    t, spot, out, cols, t_all, _ = built
    by = _per_second(cols, t_all)
    atm = col(out, "atm_strike")
    close_s = (WEEKLY - dt.date(1970, 1, 1)).days * 86400 + 15 * 3600 + 30 * 60
    parity, max_oi, term, monthly_iv, skew = (col(out, n) for n in
                                              ("parity_dev", "max_oi_strike", "iv_term_spread", "atm_iv_monthly",
                                               "skew_25d"))
    checked = {"term": 0, "skew": 0}
    for k in range(S):
        a = math.floor(spot[k] / 50 + 0.5) * 50
        assert atm[k] == a
        rows = by[int(t[k])]

        def at(e, o, name):
            return next((r[name] for r in rows if r["expiry"] == e and r["opt_type"] == o and r["strike"] == a), None)
        ce, pe = at(WEEKLY, "CE", "mid"), at(WEEKLY, "PE", "mid")
        if a in STRIKES:
            years = (close_s - t[k]) / (365 * 86400)
            assert parity[k] == pytest.approx(ce - pe - (spot[k] - a * math.exp(-RATE * years)), rel=1e-6, abs=1e-4)

            def mean_iv(e):
                ivs = [v for v in (at(e, "CE", "iv"), at(e, "PE", "iv")) if v is not None and not math.isnan(v)]
                return sum(ivs) / len(ivs) if ivs else None
            w, m = mean_iv(WEEKLY), mean_iv(MONTHLY)
            assert (monthly_iv[k] is None) == (m is None) and (m is None or monthly_iv[k] == pytest.approx(m, rel=1e-6))
            if w is not None and m is not None:
                assert term[k] == pytest.approx(w - m, rel=1e-5, abs=1e-5)
                checked["term"] += 1
            else:
                assert term[k] is None
        else:
            assert parity[k] is None and term[k] is None
        oi = defaultdict(float)
        for r in rows:
            if r["expiry"] == WEEKLY and not math.isnan(r["oi"]):
                oi[r["strike"]] += r["oi"]
        best = max(oi.values())
        assert max_oi[k] == min(s for s in oi if oi[s] == best)
        calls = [(abs(r["delta"] - 0.25), r["iv"]) for r in rows
                 if r["expiry"] == WEEKLY and r["opt_type"] == "CE" and not math.isnan(r["iv"])]
        puts = [(abs(r["delta"] + 0.25), r["iv"]) for r in rows
                if r["expiry"] == WEEKLY and r["opt_type"] == "PE" and not math.isnan(r["iv"])]
        if calls and puts:
            assert skew[k] == pytest.approx(min(puts)[1] - min(calls)[1], rel=1e-5, abs=1e-5)
            checked["skew"] += 1
    assert checked["term"] > S // 2 and checked["skew"] > S // 2      # the loops compared real values


def test_term_spread_is_null_without_a_monthly_expiry_to_compare():
    *_, out, _, _, _ = build(with_monthly=False)
    assert set(col(out, "iv_term_spread")) == {None} and set(col(out, "atm_iv_monthly")) == {None}
    assert None not in col(out, "max_oi_strike")                   # the weekly alone still gives the chain
