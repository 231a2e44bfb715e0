"""C-20 Correlation Divergence (BN vs its bank heavyweights), end to end on small data: the
generator's bank stocks (their own random stream: the index, futures and option rows do not move),
the basket features of features_spot against a plain-Python recomputation, and the strategy's entry
and every exit on hand-made seconds at exact prices."""
import datetime as dt
import math

import numpy as np
import pyarrow as pa

import generator.market
from generator.market import CarryState, simulate_day
from transforms.basket import basket

DAY = dt.date(2025, 11, 4)


def test_the_basket_is_three_equal_weight_bank_stocks_for_banknifty_only():
    assert basket("BANKNIFTY") == (("HDFCBANK", 1 / 3), ("ICICIBANK", 1 / 3), ("SBIN", 1 / 3))
    assert basket("NIFTY") == ()


def test_bank_stocks_follow_the_index_from_their_own_random_stream(monkeypatch):
    with_stocks = simulate_day("BANKNIFTY", DAY, 0, 7, CarryState())
    monkeypatch.setattr(generator.market, "stock_tables", lambda *a, **k: [])
    without = simulate_day("BANKNIFTY", DAY, 0, 7, CarryState())
    for a, b in [(with_stocks.index_rows, without.index_rows)] + \
            [(x.rows, y.rows) for x, y in zip(with_stocks.futures + with_stocks.options, without.futures + without.options)]:
        assert a.keys() == b.keys() and all(np.array_equal(a[c], b[c]) for c in a)
    assert without.stocks == [] and [s.table for s in with_stocks.stocks] == ["HDFCBANK", "ICICIBANK", "SBIN"]
    spot = dict(zip(with_stocks.index_rows["timestamp"], with_stocks.index_rows["price"] / 100))
    for s in with_stocks.stocks:
        r = s.rows
        assert (r["price"] % 5 == 0).all() and (r["oi"] == 0).all() and (r["sp0"] > r["bp0"]).all()
        assert np.all(np.diff(r["timestamp"]) > 0) and np.diff(r["timestamp"]).max() <= 30
        # minute returns move with the index's (beta 1 plus the stock's own walk)
        t = np.array([x for x in r["timestamp"][::60] if x in spot])
        px = np.interp(t, r["timestamp"], r["price"] / 100)
        corr = np.corrcoef(np.diff(np.log(px)), np.diff(np.log([spot[x] for x in t])))[0, 1]
        assert 0.4 < corr < 0.99, (s.table, corr)
    assert simulate_day("NIFTY", DAY, 0, 7, CarryState()).stocks == []


# ---- the basket features of features_spot -------------------------------------------------------------
S = 2800                                                        # 09:15:00 .. 10:01:39
OPEN = int((dt.datetime.combine(DAY, dt.time(9, 15)) - dt.datetime(1970, 1, 1)).total_seconds())


def _ts(wall):
    from warehouse.clock import IST_OFFSET_S, IST_TS

    return pa.array((np.asarray(wall, np.int64) - IST_OFFSET_S) * 1_000_000, pa.int64()).cast(IST_TS)


def _market():
    """The index every second; three stocks quoted at irregular seconds (SBIN from 09:16:40 only, a
    quote without a price), each following the index loosely."""
    rng = np.random.default_rng(20)
    t = OPEN + np.arange(S)
    spot = np.round(54_000 * np.exp(np.cumsum(rng.normal(0, 8e-5, S))), 2)
    stocks = {}
    for k, (sym, px0) in enumerate((("HDFCBANK", 990.0), ("ICICIBANK", 1370.0), ("SBIN", 940.0))):
        stamps = OPEN + np.cumsum(rng.integers(1, 4, S // 2)) - 1 + (100 if sym == "SBIN" else 0)
        stamps = stamps[stamps < OPEN + S + 50]                 # some quotes after the grid's end
        walk = np.log(spot[np.minimum(stamps - OPEN, S - 1)] / spot[0]) + np.cumsum(rng.normal(0, 1e-4, len(stamps)))
        price = np.round(px0 * np.exp(walk) / 0.05) * 0.05
        price[7] = np.nan                                       # a row without a price: the last one lasts
        stocks[sym] = (stamps, price)
    return t, spot, stocks


def _features(underlying, t, spot, stocks):
    from features.chain import build_spot_features

    grid = pa.table({"underlying": pa.array([underlying] * S), "ts": _ts(t), "date": pa.array([DAY] * S, pa.date32()),
                     "price": spot, "is_pad": pa.array(np.zeros(S, bool))})
    tables = {s: pa.table({"ts": _ts(st), "price": pa.array(p, mask=np.isnan(p))}) for s, (st, p) in stocks.items()}
    return build_spot_features(underlying, DAY, grid, None, None, tables)


def _plain(t, spot, stocks):
    """The three columns in plain Python: each stock's last price stamped <= t; 15-min and 60-s log
    returns; the slope over the last 1800 seconds' pairs (all of them present), two-pass."""
    def last(stamps, price, s):
        best = None
        for a, p in zip(stamps, price):
            if a <= s and not math.isnan(p):
                best = p
        return best

    logs = {k: [math.log(p) if (p := last(*v, s)) is not None else math.nan for s in t] for k, v in stocks.items()}
    ls = [math.log(x) for x in spot]

    def basket(i, lag):
        if i - lag < 0:
            return math.nan
        return sum((logs[k][i] - logs[k][i - lag]) / 3 for k in logs)

    x = [basket(i, 60) for i in range(S)]
    y = [ls[i] - ls[i - 60] if i >= 60 else math.nan for i in range(S)]
    ret, beta, div = [], [], []
    for i in range(S):
        b = basket(i, 900) * 100
        pairs = [(x[j], y[j]) for j in range(max(0, i - 1799), i + 1) if not (math.isnan(x[j]) or math.isnan(y[j]))]
        if len(pairs) < 1800:
            bt = math.nan
        else:
            mx, my = sum(p[0] for p in pairs) / len(pairs), sum(p[1] for p in pairs) / len(pairs)
            bt = sum((a - mx) * (c - my) for a, c in pairs) / sum((a - mx) ** 2 for a, _ in pairs)
        ret.append(b)
        beta.append(bt)
        div.append((ls[i] - ls[i - 900]) * 100 - bt * b if i >= 900 else math.nan)
    return {"basket_ret_15m": ret, "basket_beta": beta, "basket_div_15m": div}


def test_basket_return_beta_and_divergence_match_a_plain_python_recomputation():
    t, spot, stocks = _market()
    got = _features("BANKNIFTY", t, spot, stocks)
    want = _plain(t, spot, stocks)
    first_sbin = int(stocks["SBIN"][0][0] - OPEN)
    for name, w in want.items():
        g = np.array([np.nan if v is None else v for v in got[name].to_pylist()])
        w = np.array(w)
        assert np.array_equal(np.isnan(g), np.isnan(w)), name
        assert np.nanmax(np.abs(g - w)) <= 1e-12, (name, np.nanmax(np.abs(g - w)))
    ret = np.array(want["basket_ret_15m"])
    assert np.isnan(ret[:first_sbin + 900]).all() and not np.isnan(ret[first_sbin + 900:]).any()
    beta = np.array(want["basket_beta"])
    assert np.isnan(beta[:first_sbin + 60 + 1799]).all() and 0.3 < np.nanmedian(beta) < 1.5
    # no look-ahead: a quote stamped after t changes nothing at t
    late = {**stocks, "HDFCBANK": (stocks["HDFCBANK"][0], stocks["HDFCBANK"][1].copy())}
    k = int(np.searchsorted(late["HDFCBANK"][0], OPEN + 2500))
    late["HDFCBANK"][1][k] *= 1.01
    moved = _features("BANKNIFTY", t, spot, late)
    at = int(late["HDFCBANK"][0][k] - OPEN)
    for name in want:
        a, b = (np.array([np.nan if v is None else v for v in x[name].to_pylist()]) for x in (got, moved))
        assert np.array_equal(a[:at], b[:at], equal_nan=True) and not np.array_equal(a[at:], b[at:], equal_nan=True)


def test_the_basket_columns_are_null_on_nifty_days_and_without_a_stock():
    t, spot, stocks = _market()
    nifty = _features("NIFTY", t, spot, stocks)
    two = _features("BANKNIFTY", t, spot, {k: v for k, v in stocks.items() if k != "SBIN"})
    for f in (nifty, two):
        for name in ("basket_ret_15m", "basket_beta", "basket_div_15m"):
            assert f[name].null_count == S, name


# ---- the strategy on hand-made seconds --------------------------------------------------------------------
def _c20_day(ce_bids, pe_bids):
    from tests.backtest_paths import book, day_of

    t, Q, B = book([np.asarray(ce_bids, float), np.asarray(pe_bids, float)])
    return day_of(Q, B, t, strikes=(54000, 54000), opt_types=("CE", "PE"), underlying="BANKNIFTY",
                  spot=np.full(len(t), 54_000.0))


def _c20(ce_bids, pe_bids, div, basket_ret):
    from tests.test_catalogue_scenarios import brief, run

    legs = run("correlation_divergence", _c20_day(ce_bids, pe_bids),
               {"basket_div_15m": np.asarray(div, float), "basket_ret_15m": np.asarray(basket_ret, float)})
    return [(brief(x), round(x["gross_pnl"], 2)) for x in legs]


def test_correlation_divergence_enters_toward_the_stocks_and_leaves_by_each_exit():
    S, lot = 40, 75                                            # day_of's lot
    flat = np.full(S, 100.0)
    lags = np.r_[np.full(10, -0.1), np.full(S - 10, -0.35)]   # the index lags a rising basket from second 10
    up = np.full(S, 0.5)
    rising = np.r_[flat[:20], np.full(S - 20, 102.1)]
    falling = np.r_[flat[:20], np.full(S - 20, 98.5)]
    back = lags.copy()
    back[25:] = 0.01                                           # converged (through 0) at 25
    wider = lags.copy()
    wider[25:] = -0.65                                         # expanded past 2 x 0.3 at 25
    bid_after = np.r_[flat[:22], np.full(S - 22, 100.6)]
    # decided at 10: a market buy of the ATM call, filled at the ask of 11 (100.10); TP 102.10, SL 98.60
    got = {
        "target": _c20(rising, flat, lags, up),
        "stop": _c20(falling, flat, lags, up),
        "convergence": _c20(bid_after, flat, back, up),
        "expansion": _c20(bid_after, flat, wider, up),
    }
    assert got == {
        "target": [(("CE", 54000, 1, 11, 100.1, "target", 20, 102.1), round(2.0 * lot, 2))],
        "stop": [(("CE", 54000, 1, 11, 100.1, "stop", 20, 98.5), round(-1.6 * lot, 2))],
        "convergence": [(("CE", 54000, 1, 11, 100.1, "signal_exit", 25, 100.6), round(0.5 * lot, 2))],
        "expansion": [(("CE", 54000, 1, 11, 100.1, "kill_switch", 25, 100.6), round(0.5 * lot, 2))],
    }, got
    # the stocks falling, the index lagging them down: the ATM put, out at convergence (back under 0)
    down = -up
    ahead = -back
    assert _c20(flat, bid_after, ahead, down) == [(("PE", 54000, 1, 11, 100.1, "signal_exit", 25, 100.6),
                                                   round(0.5 * lot, 2))]
    # no trade: the divergence without the basket's move in its direction (the index fell on its own),
    # under the threshold, or no basket data (NaN: a NIFTY day)
    assert _c20(rising, flat, lags, -up) == []
    assert _c20(rising, flat, np.full(S, -0.29), up) == []
    assert _c20(rising, flat, np.full(S, np.nan), np.full(S, np.nan)) == []
