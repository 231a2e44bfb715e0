import datetime as dt

import pytest

from ingest.contracts import Contract, ContractNameError, parse_table_name, table_name
from tests.realdata import realdata

D = dt.date


@pytest.mark.parametrize("name, expected", [
    ("BANKNIFTY25DEC48000CE", Contract("BANKNIFTY", D(2025, 12, 30), "CE", 48000)),   # monthly, last Tuesday
    ("NIFTY2581422600CE", Contract("NIFTY", D(2025, 8, 14), "CE", 22600)),            # weekly numeric
    ("banknifty2392148300ce", Contract("BANKNIFTY", D(2023, 9, 21), "CE", 48300)),    # lower weekly
    ("banknifty22n1038700pe", Contract("BANKNIFTY", D(2022, 11, 10), "PE", 38700)),   # o/n/d month letter
    ("banknifty24nov52100pe", Contract("BANKNIFTY", D(2024, 11, 27), "PE", 52100)),   # lower monthly (Wed)
    ("BANKNIFTY24DEC52000PE", Contract("BANKNIFTY", D(2024, 12, 24), "PE", 52000)),   # holiday shift
    ("BANKNIFTY25JAN50000CE", Contract("BANKNIFTY", D(2025, 1, 30), "CE", 50000)),    # re-dated to Thursday
])
def test_every_recorder_name_pattern_parses(name, expected):
    assert parse_table_name(name) == expected


@pytest.mark.parametrize("name", ["NIFTYFUT", "NIFTY", "FINNIFTY25DEC20000CE", "NIFTY25DEC2000XE",
                                  "NIFTY25X1422600CE", "x`; DROP TABLE y; --", "NIFTY2581422600CE.old"])
def test_unparseable_names_raise_naming_the_table(name):
    with pytest.raises(ContractNameError, match="table"):
        parse_table_name(name)


@pytest.mark.parametrize("style", ["monthly", "weekly", "lower_weekly", "lower_monthly"])
def test_table_name_round_trips(style):
    c = Contract("NIFTY", D(2025, 11, 25), "PE", 26050)
    assert parse_table_name(table_name(c, style)) == c


def test_kite_master_symbols_parse_to_the_masters_expiry_and_strike():
    """Every option in Kite's Dec-2020 instrument dump (real data; skips without it)."""
    import csv
    path = realdata("contract_masters", "zerodha_kite_instruments_NFO_NIFTY_BANKNIFTY_2020-12.csv")
    n = 0
    for r in csv.DictReader(path.open()):
        if r["segment"] != "NFO-OPT":
            continue
        c = parse_table_name(r["tradingsymbol"])
        assert (c.expiry, c.strike, c.opt_type) == (D.fromisoformat(r["expiry"]), int(float(r["strike"])),
                                                    r["instrument_type"]), r["tradingsymbol"]
        n += 1
    assert n > 1000
