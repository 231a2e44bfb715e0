"""Every strategy of the catalogue runs through signals, compile and the position engine on one
hand-made random day of a full chain (two expiries, CE/PE, the future): no error, a valid plan,
legs only on contracts its legs may trade, and the same rows twice (deterministic)."""
import datetime as dt

import numpy as np
import pytest

from backtest.enums import Quote
from backtest.run import Needs
from backtest.simulate import simulate_day
from backtest.strategies import CATALOGUE
from tests.backtest_paths import T0, book, day_of

W1, W2, M1 = dt.date(2025, 11, 6), dt.date(2025, 11, 13), dt.date(2025, 11, 25)


def random_day(S=1800, seed=3, start=T0 + 75 * 60):
    rng = np.random.default_rng(seed)
    spot = 25_000 + np.cumsum(rng.normal(0, 4, S))
    strikes, types, expiries, paths = [], [], [], []
    for e, bump in ((W1, 0), (W2, 20), (M1, 40)):
        for k in range(24_700, 25_301, 50):
            for o in ("CE", "PE"):
                intrinsic = np.maximum(spot - k, 0) if o == "CE" else np.maximum(k - spot, 0)
                paths.append(np.round((intrinsic + 60 + bump + rng.normal(0, 0.5, S).cumsum() * 0.2) / 0.05) * 0.05)
                strikes.append(k), types.append(o), expiries.append(e)
    paths.append(np.round(spot + 30, 1))
    strikes.append(0), types.append("FUT"), expiries.append(M1)
    t, Q, B = book(paths, spread=0.10, start=start)
    C = len(paths)
    Q[:, :, Quote.vol] = rng.integers(0, 4000, (S, C))
    Q[:, :, Quote.atr], Q[:, :, Quote.ema] = 1.0, Q[:, :, Quote.bid]
    jobs = [(s, s.default()) for s in CATALOGUE.values()]
    needs = Needs.of(jobs)
    base = {"ema6": Q[:, :, Quote.ltp] + rng.normal(0, 0.3, (S, C)), "ema18": Q[:, :, Quote.ltp],
            "bid_px0": Q[:, :, Quote.bid], "ask_px0": Q[:, :, Quote.ask], "price": Q[:, :, Quote.ltp],
            "spread": np.full((S, C), 0.10), "delta": rng.uniform(-1, 1, (S, C)), "iv": 12 + rng.normal(0, 2, (S, C)),
            "vwap": Q[:, :, Quote.ltp] + rng.normal(0, 0.5, (S, C)), "oi": rng.uniform(0, 1e7, (S, C))}
    features = {n: base.get(n, rng.uniform(0, 3, (S, C))) for n in needs.features}
    day = day_of(Q, B, t, strikes=strikes, opt_types=types, features=features, spot=spot, expiries=expiries,
                 listed=[W1, W2, M1])
    spot_f = {n: rng.uniform(0, 20, S) for n in needs.spot_features}
    spot_f["rv_1m"] = rng.uniform(0, 0.2, S)
    return day, spot_f


@pytest.fixture(scope="module")
def day():
    return random_day()


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_strategy_runs_on_a_full_chain_day(day, name):
    d, spot = day
    s = CATALOGUE[name]
    cfg = s.default()
    cfg.filters.blackouts, cfg.filters.weekdays, cfg.filters.expiry_day = (), ("MON", "TUE", "WED", "THU", "FRI"), "any"
    a = simulate_day(s, cfg, d, "smoke", True, spot)
    b = simulate_day(s, cfg, d, "smoke", True, spot)
    assert str(a.legs.to_pylist()) == str(b.legs.to_pylist())      # NaN-safe
    rows = a.legs.to_pylist()
    leg_types = {leg.instrument for leg in cfg.legs}
    for r in rows:
        assert r["entry_ts"] <= r["exit_ts"]
        if "option" not in leg_types:
            assert r["opt_type"] in leg_types, (name, r["opt_type"])
