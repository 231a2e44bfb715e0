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


# --- broken files, hand-made (a real recorder folder holds them) --------------------------------

def _kite_dir(tmp_path, files: dict[str, bytes], token=123, symbol="NIFTY25N0426000CE"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "instruments.csv").write_text(
        "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,"
        f"instrument_type,segment,exchange\n{token},1,{symbol},NIFTY,0.0,2025-11-04,26000.0,0.05,75,CE,NFO-OPT,NFO\n")
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


def _tick(second: int, price: float = 100.5, token: int = 123) -> dict:
    return {"instrument_token": token, "last_price": price, "volume_traded": 75 * second,
            "exchange_timestamp": f"2025-11-04T03:45:{second:02d}Z", "last_trade_time": f"2025-11-04T03:45:{second:02d}Z"}


def test_a_kite_file_that_is_a_json_array_or_holds_a_non_object_tick_is_quarantined_by_position(tmp_path):
    src = _kite_dir(tmp_path / "src", {
        "04-11-25-123-merged-data.txt": json.dumps({"2025-11-4": [_tick(0), 42, ["x"], _tick(1), None]}).encode(),
        "04-11-25-124-merged-data.txt": json.dumps([_tick(2), _tick(3)]).encode()})
    report = run_ingest([str(src)], tmp_path / "w")
    assert (report.totals()["written"], report.totals()["quarantined"]) == (2, 5)
    got = connect(tmp_path / "w").sql("select source, position, reason from quarantine order by source, position").fetchall()
    assert [(s.rsplit("/", 1)[1][:12], p, r.split(" (")[0].split(":")[0]) for s, p, r in got] == [
        ("04-11-25-123", "2025-11-4[1]", "tick is not a JSON object"),
        ("04-11-25-123", "2025-11-4[2]", "tick is not a JSON object"),
        ("04-11-25-123", "2025-11-4[4]", "tick is not a JSON object"),
        ("04-11-25-124", "[0]", "tick outside a day"), ("04-11-25-124", "[1]", "tick outside a day")]


def test_a_tick_whose_depth_is_malformed_is_quarantined_not_a_crash(tmp_path):
    bad = {**_tick(1), "depth": {"buy": [None, {"quantity": 5}], "sell": "x"}}
    src = _kite_dir(tmp_path / "src", {"04-11-25-123-merged-data.txt": json.dumps({"2025-11-4": [_tick(0), bad]}).encode()})
    report = run_ingest([str(src)], tmp_path / "w")
    assert (report.totals()["written"], report.totals()["quarantined"]) == (1, 1)
    ((pos, reason),) = connect(tmp_path / "w").sql("select position, reason from quarantine").fetchall()
    assert (pos, reason) == ("2025-11-4[1]", "bad tick: depth.buy[0] is not a JSON object")


def test_bytes_that_are_not_utf8_are_quarantined_with_file_and_position(tmp_path):
    ok0, ok2 = json.dumps(_tick(0)).encode(), json.dumps(_tick(2)).encode()
    bad = json.dumps({**_tick(1), "note": "X"}).encode().replace(b'"X"', b'"\xff"')
    kite = b'{"2025-11-4": [' + ok0 + b", " + bad + b", " + ok2 + b"]}"
    at = kite.index(b"\xff")
    flat = (b'{"t":"tf","e":"NFO","tk":"55","lp":"10.50","v":"75","time":"04-11-2025 09:16:00"},\n'
            b'{"t":"tf","e":"NFO","tk":"55","lp":"10.\xe90","v":"150","time":"04-11-2025 09:15:01"},\n'
            b"[1, 2],\n")
    flat_at = flat.index(b"\xe9")
    src = _kite_dir(tmp_path / "src", {"04-11-25-123-merged-data.txt": kite, "flattrade-NIFTY-2025-11-04.txt": flat})
    (src / "NFO_symbols.txt").write_text("Exchange,Token,LotSize,Symbol,TradingSymbol,Expiry,Instrument,OptionType,"
                                         "StrikePrice,TickSize,\nNFO,55,75,NIFTY,NIFTY25N0426000CE,04-NOV-2025,OPTIDX,CE,26000,0.05,\n")
    report = run_ingest([str(src)], tmp_path / "w")
    assert (report.totals()["written"], report.totals()["quarantined"]) == (3, 3)
    got = connect(tmp_path / "w").sql("select split_part(source, '/', -1), position, reason from quarantine "
                                      "order by 1, 2").fetchall()
    assert got == [("04-11-25-123-merged-data.txt", "2025-11-4[1]", f"not UTF-8 at byte {at}"),
                   ("flattrade-NIFTY-2025-11-04.txt", "line 2", f"not UTF-8 at byte {flat_at}"),
                   ("flattrade-NIFTY-2025-11-04.txt", "line 3", "bad line: not a JSON object (list)")]


def test_the_scanner_reads_every_tick_exactly_as_the_python_reader(tmp_path):
    """Property over many odd but valid ticks: the Numba scanner's rows and quarantine reasons equal
    the Python reader's (the reader it hands unusual ticks to)."""
    import random

    from ingest.kite import _python_file, read_kite_file
    rng = random.Random(5)
    values = [None, 0, 1, -3, 2.5, 1e-05, 123.456789, -0.8333333333333334, 12345678901234567890, "7", True, [], {}]
    keys = ["last_price", "last_traded_quantity", "average_traded_price", "volume_traded", "total_buy_quantity",
            "change", "oi", "oi_day_high", "instrument_token", "extra"]
    ticks = []
    for i in range(3000):
        t = _tick(i % 60, round(rng.uniform(0.05, 900), 2))
        for k in rng.sample(keys, rng.randint(0, 3)):
            t[k] = rng.choice(values)
        if rng.random() < 0.3:
            t["ohlc"] = rng.choice([None, {}, {"open": 1.5, "close": None}, {"high": "2"}, {"low": 1e300}])
        if rng.random() < 0.3:
            lv = lambda: {"quantity": rng.choice([0, 15, 2.0]), "price": rng.choice([0, 99.95, None]), "orders": 3}  # noqa: E731
            t["depth"] = rng.choice([None, {"buy": [lv() for _ in range(rng.randint(0, 7))], "sell": None},
                                     {"sell": [lv(), None]}, {"buy": {}}])
        if rng.random() < 0.2:
            t["exchange_timestamp"] = rng.choice([None, "", "2025-11-04T03:45:00+00:00", "2025-11-04 09:15:00+05:30",
                                                  "2025-11-04T03:45:00.5Z", "2025-11-04T03:45:00", "2025-02-30T00:00:00Z", 5])
        ticks.append(t)
    text = json.dumps({"2025-11-4": ticks[:1500], "2025-11-5": ticks[1500:]}, indent=rng.choice([None, 1]))
    path = tmp_path / "04-11-25-123-merged-data.txt"
    path.write_text(text)
    tokens = {123: "NIFTY25N0426000CE", 7: "NIFTY25N0426000PE"}

    def flat(items):
        rows, rejected = {}, []
        for it in items:
            if hasattr(it, "reason"):
                rejected.append((it.position, it.reason))
            else:
                sym, cols, pos = it
                for i in range(len(cols["timestamp"])):
                    rows[pos(i)] = (sym, tuple(int(cols[c][i]) for c in cols))
        return rows, sorted(rejected)

    fast, python = flat(read_kite_file(path, tokens)), flat(_python_file(path.read_bytes(), tokens))
    assert len(fast[0]) > 1000 and len(fast[1]) > 300
    assert fast == python


def test_the_flattrade_scanner_reads_every_line_exactly_as_the_python_reader(tmp_path):
    import random

    from ingest.flattrade import python_line, read_flattrade_file
    rng = random.Random(9)
    odd = ["1.5", "1e3", "-2", "007", "", " 5", "abc", None, 3, 2.25, "9" * 25, "1_0"]
    lines = []
    for i in range(3000):
        rec = {"t": "tf", "e": "NFO", "tk": rng.choice(["55", "56", 55, "055"]), "lp": f"{rng.uniform(1, 500):.2f}",
               "v": str(75 * i), "time": f"04-11-2025 09:{15 + i // 60 % 40:02d}:{i % 60:02d}"}
        for k in range(1, 6):
            rec[f"bp{k}"], rec[f"bq{k}"] = f"{rng.uniform(1, 500):.2f}", str(rng.randint(0, 900))
        for key in rng.sample(list(rec), rng.randint(0, 2)):
            if rng.random() < 0.5:
                rec[key] = rng.choice(odd)
            else:
                del rec[key]
        text = json.dumps(rec, separators=rng.choice([(",", ":"), (", ", ": ")]))
        lines.append(rng.choice([text + ",", text, "  " + text + " ,", "", "[1]", text[:-3]]))
    path = tmp_path / "flattrade-NIFTY-2025-11-04.txt"
    path.write_text("\n".join(lines) + "\n")
    tokens = {"55": "NIFTY25N0426000CE", "56": "NIFTY25N0426000PE"}
    fast_rows, fast_rejected = {}, []
    for it in read_flattrade_file(path, tokens):
        if hasattr(it, "reason"):
            fast_rejected.append((it.position, it.reason))
        else:
            sym, cols, pos = it
            fast_rows.update({pos(i): (sym, [int(cols[c][i]) for c in cols]) for i in range(len(cols["timestamp"]))})
    py_rows, py_rejected = {}, []
    for no, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        text = line.strip().rstrip(b",")
        if text:
            got = python_line(text, 0, f"line {no}", tokens)
            if hasattr(got, "reason"):
                py_rejected.append((got.position, got.reason))
            else:
                py_rows[f"line {no}"] = got
    assert len(fast_rows) > 600 and len(fast_rejected) > 300
    assert {k: (s, list(r)) for k, (s, r) in py_rows.items()} == fast_rows
    assert sorted(fast_rejected) == sorted(py_rejected)
