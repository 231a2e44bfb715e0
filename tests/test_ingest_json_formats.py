"""Kite FULL-mode JSON and FlatTrade lines: generated from the same day, ingested through the
instrument masters, they land as the same option ticks as the recorder rows they came from."""
import json

from generator.config import GeneratorConfig
from generator.driver import generate
from ingest.instruments import read_kite_master
from ingest.pipeline import run_ingest
from tests.realdata import realdata
from warehouse.catalog import connect

# the contract, not the symbol: a recorder table may carry an older lowercase name of the contract
Q = """select expiry, opt_type, strike, ts, price, volume, bid_px0, bid_qty0, ask_px4, ask_qty4 from options_ticks
       order by expiry, opt_type, strike, ts"""


def test_kite_and_flattrade_land_as_the_recorder_rows_they_came_from(tmp_path):
    out = tmp_path / "src"
    generate(GeneratorConfig(out=out, days=1, strikes=0, seed=8, underlyings=("NIFTY",), quirks=False,
                             formats=("sqldump", "kite", "flattrade")))
    kite_dir, flat_dir = out / "kite", out / "flattrade"       # each format in its own folder, as ingest takes it
    assert len(list(kite_dir.glob("*-merged-data.txt"))) == 4 and (kite_dir / "instruments.csv").exists()
    first = json.loads(next(kite_dir.glob("*-merged-data.txt")).read_text())
    assert list(first) == ["2025-11-3"] and first["2025-11-3"][0]["exchange_timestamp"].endswith("Z")
    line = (flat_dir / "flattrade-NIFTY-2025-11-03.txt").read_text().splitlines()[0]
    assert line.endswith("},") and '"lp":"' in line and (flat_dir / "NFO_symbols.txt").exists()
    run_ingest([str(out / "sqldump" / "das_niftyopt_mod.sql.gz")], tmp_path / "dump")
    run_ingest([str(kite_dir)], tmp_path / "kite_wh")
    run_ingest([str(flat_dir)], tmp_path / "flat_wh")
    ref = connect(tmp_path / "dump").sql(Q).fetchall()
    assert len(ref) > 50_000
    assert connect(tmp_path / "kite_wh").sql(Q).fetchall() == ref
    assert connect(tmp_path / "flat_wh").sql(Q).fetchall() == ref
    runs = connect(tmp_path / "kite_wh").sql(
        "select count(*) from ingest_runs where source_rows != written + deduped + quarantined").fetchall()
    assert runs == [(0,)]


def test_unknown_tokens_are_quarantined(tmp_path):
    (tmp_path / "instruments.csv").write_text(",".join(
        ["instrument_token", "exchange_token", "tradingsymbol", "name", "last_price", "expiry", "strike", "tick_size",
         "lot_size", "instrument_type", "segment", "exchange"]) + "\n")
    (tmp_path / "04-11-25-123-merged-data.txt").write_text(
        '{"2025-11-4":[{"instrument_token":123,"last_price":1.0,"exchange_timestamp":"2025-11-04T03:45:00Z"}]}')
    report = run_ingest([str(tmp_path)], tmp_path / "w")
    assert report.totals()["quarantined"] == 1
    assert connect(tmp_path / "w").sql("select reason from quarantine").fetchall() == [("unknown instrument_token 123",)]


def test_the_real_kite_master_maps_tokens_to_symbols():
    path = realdata("contract_masters", "zerodha_kite_instruments_NFO_NIFTY_BANKNIFTY_2020-12.csv")
    tokens = read_kite_master(path)
    assert tokens[12166914] == "BANKNIFTY20DEC17500CE" and len(tokens) > 1000
