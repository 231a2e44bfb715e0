"""Black-Scholes-Merton prices, greeks and implied volatility (nopython, scalar cores + array wrappers).

Conventions (the same as py_vollib's black_scholes_merton): S spot, K strike, T years (ACT/365),
r continuous rate, q continuous carry/dividend yield, sigma annual volatility (decimal).
theta is per calendar day (annual / 365), vega per 1 volatility point (per 0.01).
An implied volatility that does not exist (price at/below the no-arbitrage lower bound or at/above
the upper bound, T <= 0, bad inputs) is NaN, never a number that only looks like one.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

SQRT2 = math.sqrt(2.0)
INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
SIGMA_LO, SIGMA_HI = 1e-4, 10.0


@nb.njit(cache=True, nogil=True)
def ncdf(x: float) -> float:
    return 0.5 * math.erfc(-x / SQRT2)


@nb.njit(cache=True, nogil=True)
def npdf(x: float) -> float:
    return INV_SQRT2PI * math.exp(-0.5 * x * x)


@nb.njit(cache=True, nogil=True)
def bs_price(S, K, T, r, q, sigma, is_call):
    if not (S > 0 and K > 0 and T > 0 and sigma > 0):
        return np.nan
    sq = sigma * math.sqrt(T)
    d1 = (math.log(S / K) + (r - q + 0.5 * sigma * sigma) * T) / sq
    d2 = d1 - sq
    if is_call:
        return S * math.exp(-q * T) * ncdf(d1) - K * math.exp(-r * T) * ncdf(d2)
    return K * math.exp(-r * T) * ncdf(-d2) - S * math.exp(-q * T) * ncdf(-d1)


@nb.njit(cache=True, nogil=True)
def greeks(S, K, T, r, q, sigma, is_call):
    """(price, delta, gamma, theta per day, vega per vol point)."""
    if not (S > 0 and K > 0 and T > 0 and sigma > 0):
        return np.nan, np.nan, np.nan, np.nan, np.nan
    sqT = math.sqrt(T)
    sq = sigma * sqT
    d1 = (math.log(S / K) + (r - q + 0.5 * sigma * sigma) * T) / sq
    d2 = d1 - sq
    dq, dr = math.exp(-q * T), math.exp(-r * T)
    pdf = npdf(d1)
    gamma = dq * pdf / (S * sq)
    vega = S * dq * pdf * sqT / 100.0
    if is_call:
        price = S * dq * ncdf(d1) - K * dr * ncdf(d2)
        delta = dq * ncdf(d1)
        theta = -S * dq * pdf * sigma / (2 * sqT) - r * K * dr * ncdf(d2) + q * S * dq * ncdf(d1)
    else:
        price = K * dr * ncdf(-d2) - S * dq * ncdf(-d1)
        delta = -dq * ncdf(-d1)
        theta = -S * dq * pdf * sigma / (2 * sqT) + r * K * dr * ncdf(-d2) - q * S * dq * ncdf(-d1)
    return price, delta, gamma, theta / 365.0, vega


@nb.njit(cache=True, nogil=True)
def _start(call, lower, fwd_s, disc_k, sqT):
    """Corrado-Miller first guess from the call(-equivalent) price; Brenner-Subrahmanyam on the
    time value when it has no real root."""
    x = call - 0.5 * (fwd_s - disc_k)
    disc = x * x - (fwd_s - disc_k) ** 2 / math.pi
    if disc > 0:
        sigma = math.sqrt(2 * math.pi) / (sqT * (fwd_s + disc_k)) * (x + math.sqrt(disc))
    else:
        sigma = math.sqrt(2 * math.pi) / sqT * (call - lower * 0.5) / fwd_s
    return min(max(sigma, 0.01), 3.0)


@nb.njit(cache=True, nogil=True)
def _start_otm(price, fwd_s, disc_k, sqT):
    """Far out-of-the-money first guess from the tail asymptotic of the normalised price,
    b ~ phi(x/s) exp(-s^2/8) s^3 / x^2 (x = log-moneyness, s = sigma sqrt(T)), solved for s by a
    few fixed-point steps; Corrado-Miller is poor there and cost the iteration 4-6 pricings."""
    y = abs(math.log(fwd_s / disc_k))
    L = -math.log(price / math.sqrt(fwd_s * disc_k))
    if not (L > 0.0 and y > 0.0):      # cannot happen out of the money (b < 1); keep the caller's start
        return 0.0
    s = y / math.sqrt(2 * L)
    for _ in range(3):
        q = L - 0.9189385332046727 - s * s / 8 + 3 * math.log(s) - 2 * math.log(y)   # 0.91.. = log sqrt(2 pi)
        if q <= 0:
            break
        s = y / math.sqrt(2 * q)
    return min(max(s / sqT, 0.01), 3.0)


@nb.njit(cache=True, nogil=True)
def implied_vol_scalar(price, S, K, T, r, q, is_call, sigma0=0.0):
    """Safeguarded Halley iterations on the log of the price (robust for deep OTM and minutes to
    expiry) from `sigma0` when it is given (> 0), else from a Corrado-Miller start (a tail
    asymptotic far out of the money): 1.6 pricings per solve on average from cold, about one from
    the previous second's IV; sigma within ~1e-8 of the exact root. Everything that does not
    depend on sigma is computed once."""
    if not (price > 0 and S > 0 and K > 0 and T > 0) or math.isnan(price):
        return np.nan
    fwd_s, disc_k = S * math.exp(-q * T), K * math.exp(-r * T)
    lower = max(fwd_s - disc_k, 0.0) if is_call else max(disc_k - fwd_s, 0.0)
    upper = fwd_s if is_call else disc_k
    if price <= lower * (1 + 1e-12) + 1e-12 or price >= upper:
        return np.nan
    lo, hi = SIGMA_LO, SIGMA_HI   # the no-arbitrage bounds above guarantee a root in (0, inf)
    sqT, ln_fk = math.sqrt(T), math.log(fwd_s / disc_k)
    # solve on the out-of-the-money side (put-call parity): its price is the time value, whose log is
    # well behaved; a deep ITM price is flat in sigma and would stall the iteration
    otm_call = fwd_s <= disc_k
    price = price - lower
    call_price = price + max(fwd_s - disc_k, 0.0)
    if SIGMA_LO < sigma0 < SIGMA_HI:
        sigma = sigma0
    else:
        sigma = _start(call_price, max(fwd_s - disc_k, 0.0), fwd_s, disc_k, sqT)
        if abs(ln_fk) > 1.5 * sigma * sqT:                  # more than 1.5 sd out of the money
            sigma = _start_otm(price, fwd_s, disc_k, sqT) or sigma
    target = math.log(price)
    for _ in range(100):
        sq = sigma * sqT
        d1 = ln_fk / sq + 0.5 * sq
        d2 = d1 - sq
        p = fwd_s * ncdf(d1) - disc_k * ncdf(d2) if otm_call else disc_k * ncdf(-d2) - fwd_s * ncdf(-d1)
        if p > price:
            hi = sigma
        else:
            lo = sigma
        if p <= 0:
            sigma = 0.5 * (lo + hi)
            continue
        g = math.log(p) - target
        if abs(g) < 1e-14:
            return sigma
        g1 = fwd_s * npdf(d1) * sqT / p                      # d log p / d sigma = vega / p
        g2 = g1 * d1 * d2 / sigma - g1 * g1                  # volga / p - g1^2
        den = 2 * g1 * g1 - g * g2
        if den > 0:
            nxt = sigma - 2 * g * g1 / den
        elif g1 > 0:
            nxt = sigma - g / g1
        else:
            nxt = 0.5 * (lo + hi)                            # vega underflowed: bisect
        if not (lo < nxt < hi):
            nxt = 0.5 * (lo + hi)
        # inside the basin (price within 1 %) Halley's error after a step of size h is about h^3,
        # so a step below 1e-3 leaves an error of order 1e-9 in sigma: stop without another pricing
        if abs(nxt - sigma) < 1e-3 * max(sigma, 1.0) and abs(g) < 1e-2:
            return nxt if SIGMA_LO < nxt < SIGMA_HI else np.nan
        sigma = nxt
    return np.nan


# the array kernels spread rows over the cores (numba.set_num_threads decides how many); each row
# is independent, so the result does not depend on the thread count
@nb.njit(cache=True, parallel=True, nogil=True)
def _iv_array(price, S, K, T, r, q, is_call):
    out = np.empty(price.shape[0])
    for i in nb.prange(price.shape[0]):
        out[i] = implied_vol_scalar(price[i], S[i], K[i], T[i], r[i], q[i], is_call[i])
    return out


@nb.njit(cache=True, parallel=True, nogil=True)
def _iv_series(price, S, K, T, r, q, is_call, starts):
    """Rows grouped by contract (`starts` = offsets) in time order: each solve starts from the
    previous row's IV, which a second earlier is nearly the answer. Contracts run in parallel."""
    out = np.empty(price.shape[0])
    for k in nb.prange(starts.shape[0] - 1):
        prev = 0.0
        for i in range(starts[k], starts[k + 1]):
            out[i] = implied_vol_scalar(price[i], S[i], K[i], T[i], r[i], q[i], is_call[i], prev)
            prev = 0.0 if math.isnan(out[i]) else out[i]
    return out


@nb.njit(cache=True, parallel=True, nogil=True)
def _greeks_array(S, K, T, r, q, sigma, is_call):
    n = S.shape[0]
    out = np.empty((5, n))
    for i in nb.prange(n):
        g = greeks(S[i], K[i], T[i], r[i], q[i], sigma[i], is_call[i])
        for k in range(5):
            out[k, i] = g[k]
    return out


def _arrays(*xs):
    """Float64 1-d arrays of one common length (scalars broadcast; an empty array means no rows)."""
    arrays = [np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in xs]
    n = max((a.size for a in arrays if a.size != 1), default=1)
    return [np.ascontiguousarray(a) if a.size == n else np.full(n, a[0]) if a.size == 1
            else np.broadcast_to(a, (n,)) for a in arrays]


def implied_vol(price, S, K, T, r, q, is_call, series_starts: np.ndarray | None = None) -> np.ndarray:
    """Vectorised IV (decimal); NaN where none exists. With `series_starts` (row offsets of
    contracts whose rows are consecutive seconds) each solve is warm-started from the row before;
    the answers agree with cold starts to ~1e-9."""
    p, s, k, t, rr, qq = _arrays(price, S, K, T, r, q)
    c = np.broadcast_to(np.atleast_1d(np.asarray(is_call, dtype=bool)), p.shape).copy()
    if series_starts is None:
        return _iv_array(p, s, k, t, rr, qq, c)
    return _iv_series(p, s, k, t, rr, qq, c, np.asarray(series_starts, np.int64))


def bs_greeks(S, K, T, r, q, sigma, is_call) -> tuple[np.ndarray, ...]:
    """Vectorised (price, delta, gamma, theta per day, vega per vol point)."""
    s, k, t, rr, qq, sg = _arrays(S, K, T, r, q, sigma)
    c = np.broadcast_to(np.atleast_1d(np.asarray(is_call, dtype=bool)), s.shape).copy()
    out = _greeks_array(s, k, t, rr, qq, sg, c)
    return tuple(out[i] for i in range(5))
