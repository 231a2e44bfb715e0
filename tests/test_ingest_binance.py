import datetime as dt
import subprocess
import sys

import pytest

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


# --- the four data.binance.vision layouts -----------------------------------------------------

FUTURES_TRADES = ["6764565323,108253.8,0.011,1190.79,1761091200007,false",
                  "6764565324,108253.7,0.270,29228.49,1761091200022,true"]


@pytest.mark.parametrize("header", [True, False])
def test_usdm_futures_trades_are_read_with_or_without_header(tmp_path, header):
    """The USD-M futures `trades` layout has 6 fields (id, price, qty, quote_qty, time, is_buyer_maker)."""
    path = tmp_path / "BTCUSDT-trades-2025-10-22.csv"
    path.write_text(("id,price,qty,quote_qty,time,is_buyer_maker\n" if header else "") + "\n".join(FUTURES_TRADES) + "\n")
    report = run_ingest([str(path)], tmp_path / "w")
    assert report.totals() == {"source_rows": 2, "written": 2, "deduped": 0, "quarantined": 0, "repaired": 0}
    got = connect(tmp_path / "w").sql("select market, layout, trade_id, price, qty, is_buyer_maker, epoch_ms(ts) "
                                      "from crypto_trades order by trade_id").fetchall()
    assert got == [("usdm_futures", "trades", 6764565323, 108253.8, 0.011, False, 1761091200007),
                   ("usdm_futures", "trades", 6764565324, 108253.7, 0.27, True, 1761091200022)]


def test_spot_trades_and_spot_aggtrades_carry_their_market(tmp_path):
    """Real spot trades (Nautilus' BTCUSDT sample) written in the spot `trades` layout, headerless
    (id, price, qty, quote_qty, time, is_buyer_maker, is_best_match); and a spot aggTrades file (8 fields)."""
    import pyarrow.parquet as pq
    real = pq.read_table(realdata("crypto_nautilus_binance", "btcusdt-trades.parquet")).to_pylist()
    spot = tmp_path / "BTCUSDT-trades-2021-01-08.csv"
    spot.write_text("".join(f"{r['trade_id']},{r['price']},{r['quantity']},{r['price'] * r['quantity']:.8f},"
                            f"{int(r['timestamp'].timestamp() * 1000)},{r['buyer_maker'].lower()},true\n" for r in real))
    agg = tmp_path / "BTCUSDT-aggTrades-2021-01-08.csv"
    agg.write_text("553287559,39432.48,0.000263,553287559,553287559,1610064000278,true,true\n"
                   "553287560,39439.44,0.004376,553287560,553287561,1610064000310,false,true\n")
    futures = tmp_path / "BTCUSDT-trades-2021-01-08-um.csv"
    futures.write_text("553287559,39450.1,0.5,19725.05,1610064000300,false\n")   # the same id on another market
    report = run_ingest([str(spot), str(agg), str(futures)], tmp_path / "w")
    assert report.totals()["quarantined"] == 0 and report.totals()["written"] == len(real) + 3
    con = connect(tmp_path / "w")
    assert con.sql("select market, layout, count(*) from crypto_trades group by all order by all").fetchall() == [
        ("spot", "aggTrades", 2), ("spot", "trades", len(real)), ("usdm_futures", "trades", 1)]
    assert con.sql("select price from crypto_trades where trade_id = 553287559 order by market, layout").fetchall() == [
        (39432.48,), (39432.48,), (39450.1,)]


def test_a_csv_in_an_unknown_layout_is_one_clear_error_not_quarantined_rows(tmp_path):
    """A ccxt trades export (leading index column; real freqtrade sample) is not a Binance layout."""
    src = realdata("crypto_freqtrade_binance_ethusdt", "public_trades_list_ETHUSDT_2023-02-02.csv")
    path = tmp_path / "ETHUSDT-trades-2023-02-02.csv"
    path.write_bytes(src.read_bytes())
    r = subprocess.run([sys.executable, "-m", "orchestration.cli", "-q", "--warehouse", str(tmp_path / "w"), "ingest",
                        str(path)], capture_output=True, text=True)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert str(path) in r.stderr and "is not a Binance trades or aggTrades layout" in r.stderr
    assert not (tmp_path / "w" / "quarantine").exists() and not (tmp_path / "w" / "ticks").exists()


def test_a_line_that_is_not_utf8_is_quarantined_with_its_line(tmp_path):
    path = tmp_path / "BTCUSDT-trades-2025-10-22.csv"
    path.write_bytes(b"id,price,qty,quote_qty,time,is_buyer_maker\n" + FUTURES_TRADES[0].encode() + b"\n"
                     b"6764565324,108253.7,0.270,29228.49,17610912\xff0022,true\n")
    report = run_ingest([str(path)], tmp_path / "w")
    assert (report.totals()["written"], report.totals()["quarantined"]) == (1, 1)
    ((pos, reason),) = connect(tmp_path / "w").sql("select position, reason from quarantine").fetchall()
    assert (pos, reason) == ("line 3", "not UTF-8 at byte 43 of the line")


def test_the_real_usdm_aggtrades_sample_is_usdm_futures():
    path = realdata("crypto_binance_vision_format", "BTCUSDT-aggTrades-um-futures-2025-10-22_first6rows.csv")
    r = parse_lines(path.read_text(), "BTCUSDT")
    assert (r.layout.market, r.layout.kind) == ("usdm_futures", "aggTrades")
    assert set(r.table["market"].to_pylist()) == {"usdm_futures"}
