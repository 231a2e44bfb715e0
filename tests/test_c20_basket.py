"""C-20 Correlation Divergence (BN vs its bank heavyweights), end to end on small data: the
generator's bank stocks (their own random stream: the index, futures and option rows do not move),
the basket features of features_spot against a plain-Python recomputation, and the strategy's entry
and every exit on hand-made seconds at exact prices."""
import datetime as dt

import numpy as np

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
