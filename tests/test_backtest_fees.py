import datetime as dt

import numpy as np
import pytest

from backtest.fees import break_even, daily_charges, rates_on, round_trip, round_trip_fees


def test_the_worked_example_of_fees_md():
    """Buy 1 lot BANKNIFTY (30) at 200, sell at 202 on 2025-02-10, Rs 20 per order, calculator rounding."""
    r = rates_on(dt.date(2025, 2, 10))
    c = round_trip(r, 200 * 30, 202 * 30, brokerage_per_order=20)
    assert (c.brokerage, c.stt, c.txn, c.sebi, c.stamp, c.gst) == (40.0, 6.0, 4.28, 0.01, 0.18, 7.97)
    assert c.total == 58.44 and round(60.0 - c.total, 2) == 1.56
    assert break_even(r, 200.0, 30, brokerage_per_order=20) == 1.95
    z = round_trip(r, 200 * 30, 202 * 30)
    assert (z.total, z.gst, round(60.0 - z.total, 2)) == (11.24, 0.77, 48.76)


@pytest.mark.parametrize("day, stt, txn", [
    (dt.date(2024, 9, 30), 0.0625, 0.0495), (dt.date(2024, 10, 1), 0.1, 0.03503),
    (dt.date(2026, 3, 31), 0.1, 0.03553), (dt.date(2026, 4, 1), 0.15, 0.03553)])
def test_rates_follow_the_trade_date_across_boundaries(day, stt, txn):
    r = rates_on(day)
    assert (r.stt_sell_pct, r.txn_pct) == (stt, txn)


def test_futures_rates_and_unknown_dates():
    assert rates_on(dt.date(2025, 1, 2), "future").stt_sell_pct == 0.02
    with pytest.raises(LookupError, match="2010-01-04"):
        rates_on(dt.date(2010, 1, 4))


def test_per_day_rounding_differs_from_per_trade_on_three_small_fills():
    r = rates_on(dt.date(2025, 2, 10))
    buys, sells = np.array([3000.0, 3000.0, 3000.0]), np.array([3030.0, 3030.0, 3030.0])
    per_trade = sum(round_trip(r, b, s).stt for b, s in zip(buys, sells))   # 3.03 -> 3 each: 9
    day = daily_charges(r, buys, sells, orders=6)
    assert per_trade == 9.0 and day.stt == 9.0 and day.stamp == 0.0   # 0.27 stamp rounds to 0 once a day
    assert sum(round_trip(r, b, s).stamp for b, s in zip(buys, sells)) == pytest.approx(0.27)


def test_vectorised_fees_match_the_scalar_form():
    got = round_trip_fees(dt.date(2025, 2, 10), [1, -1], [200.0, 202.0], [202.0, 200.0], [30, 30])
    assert got.tolist() == [11.24, 11.24]


def test_the_audits_own_fee_arithmetic_gives_the_worked_example():
    """backtest.audit computes charges from the schedule's rows with its own code (decimals): it
    must agree with FEES.md's worked example as the engine's fee model does."""
    from decimal import Decimal

    from backtest.audit import expected_fees

    day = dt.date(2025, 2, 10)
    assert expected_fees(day, 1, 200.0, 202.0, 30, 20) == Decimal("58.44")
    assert expected_fees(day, 1, 200.0, 202.0, 30, 0) == Decimal("11.24")
    assert expected_fees(day, -1, 202.0, 200.0, 30, 0) == Decimal("11.24")     # sold first: the same two fills


def test_a_futures_round_trip_is_charged_on_notional_at_the_futures_rates():
    """Buy 1 lot of the NIFTY future (75) at 25,000.00, sell at 25,010.00 on 2025-02-10, no
    brokerage (FEES.md, index futures): turnover 3,750,750; STT 0.02 % of 1,875,750 = 375.15 -> 375;
    transaction 0.00173 % + IPFT 0.0001 % = 68.64; SEBI 3.75; stamp 0.002 % of 1,875,000 = 37.50;
    GST 18 % x (68.64 + 3.75) = 13.03. Total 497.92 (at the option rates the STT alone is 1,876)."""
    from decimal import Decimal

    from backtest.audit import expected_fees

    day = dt.date(2025, 2, 10)
    got = round_trip_fees(day, [1], [25000.0], [25010.0], [75], 0.0, "future")
    assert got.tolist() == [497.92]
    assert expected_fees(day, 1, 25000.0, 25010.0, 75, 0, "future") == Decimal("497.92")
    assert round_trip_fees(day, [1], [25000.0], [25010.0], [75], 0.0, "option")[0] > 1300
