"""IV and greeks against py_vollib (an independent implementation) on a grid that includes deep OTM,
minutes to expiry and no-solution cases."""
import itertools
import warnings

import numpy as np
import pytest

from features.kernels.greeks import bs_greeks, implied_vol

warnings.filterwarnings("ignore", category=DeprecationWarning)
bsm = pytest.importorskip("py_vollib.black_scholes_merton")
from py_vollib.black_scholes_merton import black_scholes_merton as vollib_price  # noqa: E402
from py_vollib.black_scholes_merton.greeks import analytical as A  # noqa: E402
from py_vollib.black_scholes_merton.implied_volatility import implied_volatility as vollib_iv  # noqa: E402

S = 48_000.0
R, Q = 0.065, 0.0
GRID = list(itertools.product(
    [0.80, 0.9, 0.97, 1.0, 1.03, 1.1, 1.2],                     # strike / spot: deep ITM .. deep OTM
    [5 / (365 * 1440), 1 / 365, 7 / 365, 30 / 365, 0.5],         # 5 minutes .. half a year
    [0.08, 0.15, 0.30, 0.60],
    ["c", "p"]))


def test_prices_and_greeks_match_py_vollib_to_1e_6():
    for m, T, sig, flag in GRID:
        K = S * m
        p, d, g, th, v = (x[0] for x in bs_greeks(S, K, T, R, Q, sig, flag == "c"))
        assert p == pytest.approx(vollib_price(flag, S, K, T, R, sig, Q), abs=1e-6)
        assert d == pytest.approx(A.delta(flag, S, K, T, R, sig, Q), abs=1e-6)
        assert g == pytest.approx(A.gamma(flag, S, K, T, R, sig, Q), abs=1e-6)
        assert th == pytest.approx(A.theta(flag, S, K, T, R, sig, Q), abs=1e-6)
        assert v == pytest.approx(A.vega(flag, S, K, T, R, sig, Q), abs=1e-6)


def test_implied_vol_recovers_sigma_and_matches_py_vollib_to_1e_5():
    checked = 0
    for m, T, sig, flag in GRID:
        K = S * m
        price = vollib_price(flag, S, K, T, R, sig, Q)
        intrinsic = max(S - K * np.exp(-R * T), 0) if flag == "c" else max(K * np.exp(-R * T) - S, 0)
        if price - intrinsic < 1e-4 * S * 1e-3:       # no time value left in double precision: undefined
            continue
        got = implied_vol(price, S, K, T, R, Q, flag == "c")[0]
        assert got == pytest.approx(sig, abs=1e-5), (m, T, sig, flag)
        assert got == pytest.approx(vollib_iv(price, S, K, T, R, Q, flag), abs=1e-5)
        checked += 1
    assert checked == 168   # the grid points whose time value survives double precision


@pytest.mark.parametrize("price, K, T, is_call", [
    (10.0, 40_000.0, 7 / 365, True),          # below intrinsic (8,000): no volatility can give it
    (50_000.0, 48_000.0, 7 / 365, True),      # above the spot: impossible for a call
    (0.0, 48_000.0, 7 / 365, True),           # no price
    (100.0, 48_000.0, 0.0, True),             # expired
    (np.nan, 48_000.0, 7 / 365, False),
])
def test_no_solution_is_null_not_garbage(price, K, T, is_call):
    assert np.isnan(implied_vol(price, S, K, T, R, Q, is_call)[0])
