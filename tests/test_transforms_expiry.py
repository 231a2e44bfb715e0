import csv
import datetime as dt

import pytest

from tests.realdata import realdata
from transforms.expiry import final_expiry, listed_expiries, lot_size, monthly_expiry, nearest_expiries, weekly_expiries

D = dt.date


@pytest.mark.parametrize("underlying, year, month, expected", [
    ("NIFTY", 2025, 8, D(2025, 8, 28)),       # last Thursday
    ("NIFTY", 2025, 9, D(2025, 9, 30)),       # last Tuesday from September 2025
    ("BANKNIFTY", 2024, 3, D(2024, 3, 27)),   # last Wednesday Mar-Dec 2024
    ("BANKNIFTY", 2024, 12, D(2024, 12, 24)), # Wed 25th is Christmas -> Tue 24th
    ("BANKNIFTY", 2025, 1, D(2025, 1, 30)),   # last Thursday again (bhavcopy truth)
    ("NIFTY", 2026, 3, D(2026, 3, 30)),       # Tue 31st is a holiday -> Mon 30th
])
def test_monthly_expiry_rules_and_holiday_shift(underlying, year, month, expected):
    assert monthly_expiry(underlying, year, month) == expected


def test_banknifty_weeklies_end_2024_11_13_and_nifty_moves_to_tuesday():
    assert weekly_expiries("BANKNIFTY", D(2024, 11, 1), D(2024, 12, 31)) == [D(2024, 11, 6), D(2024, 11, 13)]
    assert weekly_expiries("NIFTY", D(2025, 8, 25), D(2025, 9, 10)) == [D(2025, 8, 28), D(2025, 9, 2), D(2025, 9, 9)]


def test_nearest_expiries_on_a_day():
    assert nearest_expiries("NIFTY", D(2025, 11, 4)) == (D(2025, 11, 4), D(2025, 11, 25))
    assert nearest_expiries("BANKNIFTY", D(2025, 11, 4)) == (D(2025, 11, 25), D(2025, 11, 25))
    assert listed_expiries("BANKNIFTY", D(2025, 11, 4))[:2] == [D(2025, 11, 25), D(2025, 12, 30)]


@pytest.mark.parametrize("underlying, expiry, lot", [
    ("BANKNIFTY", D(2020, 7, 23), 20), ("BANKNIFTY", D(2020, 7, 30), 25), ("BANKNIFTY", D(2023, 7, 20), 25),
    ("BANKNIFTY", D(2023, 7, 27), 15), ("BANKNIFTY", D(2025, 1, 30), 15), ("BANKNIFTY", D(2025, 2, 27), 30),
    ("BANKNIFTY", D(2025, 7, 31), 35), ("BANKNIFTY", D(2026, 1, 27), 30),
    ("NIFTY", D(2021, 7, 22), 75), ("NIFTY", D(2021, 7, 29), 50), ("NIFTY", D(2024, 5, 2), 25),
    ("NIFTY", D(2025, 1, 23), 75), ("NIFTY", D(2025, 1, 30), 25), ("NIFTY", D(2025, 2, 27), 75),
    ("NIFTY", D(2026, 1, 6), 65),
])
def test_a_near_contract_has_the_lot_it_was_listed_with(underlying, expiry, lot):
    """A contract in its last days trades with the lot of its expiry (FEES.md by expiry)."""
    assert lot_size(underlying, expiry, expiry - dt.timedelta(days=5)) == lot
    assert lot_size(underlying, expiry, expiry) == lot


@pytest.mark.parametrize("underlying, expiry, trade_date, lot", [
    # NSE moves contracts already listed on a stated day: the lot depends on the trade date too
    ("BANKNIFTY", D(2025, 9, 25), D(2025, 1, 2), 30), ("BANKNIFTY", D(2025, 9, 25), D(2025, 4, 24), 30),
    ("BANKNIFTY", D(2025, 9, 25), D(2025, 4, 25), 35), ("BANKNIFTY", D(2026, 3, 26), D(2025, 12, 30), 35),
    ("BANKNIFTY", D(2026, 3, 26), D(2025, 12, 31), 30), ("BANKNIFTY", D(2025, 6, 26), D(2025, 5, 2), 30),
    ("BANKNIFTY", D(2023, 12, 28), D(2023, 6, 29), 25), ("BANKNIFTY", D(2023, 12, 28), D(2023, 6, 30), 15),
    ("NIFTY", D(2026, 6, 25), D(2025, 1, 2), 75), ("NIFTY", D(2026, 6, 30), D(2026, 1, 2), 65),
    ("NIFTY", D(2024, 12, 26), D(2020, 12, 1), 75), ("NIFTY", D(2024, 12, 26), D(2021, 6, 25), 50),
    ("NIFTY", D(2024, 12, 26), D(2024, 4, 26), 25), ("NIFTY", D(2025, 6, 26), D(2024, 12, 26), 25),
    ("NIFTY", D(2025, 6, 26), D(2024, 12, 27), 75),
])
def test_a_long_dated_contract_changes_lot_on_the_day_nse_moves_it(underlying, expiry, trade_date, lot):
    assert lot_size(underlying, expiry, trade_date) == lot


def test_every_contract_and_day_of_the_bhavcopies_and_the_kite_master_has_nse_lot():
    """Every (contract, trade date) of 7 NSE F&O bhavcopies, long-dated ones included (49 of their
    94 long-dated pairs were wrong keyed by expiry alone), and every option of Kite's Dec-2020
    instrument dump (real data; skips without it)."""
    root = realdata("nse_udiff_fo_bhavcopy", "fo")
    checked = long_dated = 0
    for f in sorted(root.glob("*/*.csv")):
        for r in csv.DictReader(f.open()):
            if r["FinInstrmTp"] not in ("IDO", "IDF"):
                continue
            u, trade = r["TckrSymb"], D.fromisoformat(r["TradDt"])
            expiry = final_expiry(u, D.fromisoformat(r["FininstrmActlXpryDt"]))
            assert lot_size(u, expiry, trade) == int(r["NewBrdLotQty"]), (u, expiry, trade, r["NewBrdLotQty"])
            checked += 1
            long_dated += (expiry - trade).days > 100
    assert checked == 18_435 and long_dated == 2_549
    kite = realdata("contract_masters", "zerodha_kite_instruments_NFO_NIFTY_BANKNIFTY_2020-12.csv")
    rows = [r for r in csv.DictReader(kite.open()) if r["segment"] in ("NFO-OPT", "NFO-FUT")]
    dumped = min(D.fromisoformat(r["expiry"]) for r in rows) - dt.timedelta(days=1)   # listed before its first expiry
    for r in rows:
        assert lot_size(r["name"], D.fromisoformat(r["expiry"]), dumped) == int(r["lot_size"]), r["tradingsymbol"]
    assert len(rows) > 4000


# The user's calendar says BANKNIFTY monthlies were on the last Wednesday in Jan-Aug 2025; NSE's
# bhavcopy (the truth, FEES.md) has the last Thursday (e.g. 2025-01-30). These rows are expected to differ.
KNOWN_CALENDAR_ERRORS = {("BANKNIFTY", "Monthly", m) for m in
                         ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08")}


def test_expiries_match_the_users_calendar_2019_2025():
    """835 scheduled/final expiries incl. holiday shifts (real data; skips without it)."""
    path = realdata("nse_calendars", "expiry_calendar_2019-2025_nfo-ops-lab.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 835
    checked = 0
    for r in rows:
        if (r["Instrument"], r["Expiry_Type"], r["Contract_Month"]) in KNOWN_CALENDAR_ERRORS:
            continue
        final = D.fromisoformat(r["Final_Expiry"])
        if r["Expiry_Type"] == "Monthly":
            y, m = map(int, r["Contract_Month"].split("-"))
            got = monthly_expiry(r["Instrument"], y, m)
        else:
            sched = D.fromisoformat(r["Scheduled_Expiry"])
            got = weekly_expiries(r["Instrument"], sched, sched)[0]
        assert got == final, r
        checked += 1
    assert checked == 835 - len(KNOWN_CALENDAR_ERRORS)


def test_expiries_and_lots_match_the_bhavcopy():
    """Every NIFTY/BANKNIFTY option expiring within 100 days in 7 NSE F&O bhavcopies: its (re-dated)
    expiry is one we list that day and its lot is NewBrdLotQty (real data; skips without it).
    Long-dated contracts are left out here: they were listed under older rules (their lots are
    checked in test_every_contract_and_day_of_the_bhavcopies_and_the_kite_master_has_nse_lot)."""
    root = realdata("nse_udiff_fo_bhavcopy", "fo")
    seen = redated = 0
    for day_dir in sorted(root.iterdir()):
        trade_date = D.fromisoformat(day_dir.name)
        listed = listed_expiries("NIFTY", trade_date, 100), listed_expiries("BANKNIFTY", trade_date, 100)
        for f in day_dir.glob("*.csv"):
            for r in csv.DictReader(f.open()):
                u, as_listed = r["TckrSymb"], D.fromisoformat(r["FininstrmActlXpryDt"])
                if r["FinInstrmTp"] != "IDO" or (as_listed - trade_date).days > 100:
                    continue
                expiry = final_expiry(u, as_listed)
                redated += expiry != as_listed
                assert expiry in listed[u == "BANKNIFTY"], (trade_date, u, as_listed)
                assert lot_size(u, expiry, trade_date) == int(r["NewBrdLotQty"]), (u, expiry, r["NewBrdLotQty"])
                seen += 1
    assert seen > 10_000 and redated == 618  # the three BANKNIFTY monthlies listed on 2025-01-01
