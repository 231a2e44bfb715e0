import datetime as dt

from ingest.binance import parse_lines
from generator.binance import write_binance
from ingest.pipeline import run_ingest
from tests.realdata import realdata
from warehouse.catalog import connect


def test_the_real_binance_vision_sample_parses_exactly():
    """6 rows of the exact data.binance.vision aggTrades layout, trailing blank lines (real data)."""
    path = realdata("crypto_binance_vision_format", "BTCUSDT-aggTrades-um-futures-2025-10-22_first6rows.csv")
    r = parse_lines(path.read_text(), "BTCUSDT")
    assert r.lines == 6 and r.rejected == []
    rows = r.table.to_pylist()
    assert [x["trade_id"] for x in rows] == list(range(2907604449, 2907604455))
    assert rows[0]["price"] == 108253.8 and rows[2]["qty"] == 1.328 and rows[0]["is_buyer_maker"] is False
    assert rows[0]["ts"] == dt.datetime(2025, 10, 22, 0, 0, 0, 7000, tzinfo=dt.timezone.utc)


def test_headerless_microsecond_files_and_bad_lines():
    text = ("2907604449,108253.8,0.011,6764565323,6764565324,1761091200007123,false\n"
            "garbage,line\n"
            "2907604450,108253.7,0.27,6764565325,6764565330,1761091200022000,true\n")
    r = parse_lines(text, "BTCUSDT")
    assert r.lines == 3 and [x[0] for x in r.rejected] == [2]
    assert r.table["ts"][0].as_py() == dt.datetime(2025, 10, 22, 0, 0, 0, 7123, tzinfo=dt.timezone.utc)


def test_generated_files_ingest_into_crypto_trades_and_reconcile(tmp_path):
    files = write_binance(tmp_path / "src", dt.date(2025, 10, 20), 3, seed=4, trades_per_day=500)
    specs = sorted(str(tmp_path / "src" / f) for f in files)
    run_ingest(specs, tmp_path / "w")
    run_ingest(specs[:1], tmp_path / "w")      # re-ingest: same rows, not doubled
    con = connect(tmp_path / "w")
    assert con.sql("select count(*), count(distinct trade_id) from crypto_trades").fetchall() == [(1500, 1500)]
    assert con.sql("select count(*) from ingest_runs where target = 'crypto' and "
                   "source_rows != written + deduped + quarantined").fetchall() == [(0,)]
