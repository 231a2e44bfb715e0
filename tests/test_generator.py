"""The generated archive behaves like the recorder's: real formats, exact manifest, sane quotes."""
import datetime as dt
import functools
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from generator.config import GeneratorConfig
from generator.driver import generate, plan
from generator.market import RATE, YEAR_S, CarryState, simulate_day
from ingest.contracts import parse_table_name
from ingest.sqldump import DumpBatch, read_dump
from transforms.basket import basket


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_arguments_give_byte_identical_files_each_format_in_its_own_folder(tmp_path):
    cmd = [sys.executable, "-m", "orchestration.cli", "-q", "generate", "--days", "2", "--strikes", "0", "--seed", "7",
           "--underlyings", "NIFTY", "--formats", "sqldump,kite,flattrade,binance"]
    for d in ("a", "b"):
        subprocess.run(cmd + ["--out", str(tmp_path / d)], check=True)
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a == b
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["binance", "flattrade", "kite", "manifest.json", "sqldump"]
    assert sorted(k for k in a if k.startswith("sqldump/")) == ["sqldump/das_niftyopt_mod.sql.gz", "sqldump/das_nse_mod.sql.gz"]
    assert {"kite/instruments.csv", "flattrade/NFO_symbols.txt", "flattrade/flattrade-NIFTY-2025-11-04.txt",
            "binance/BTCUSDT-aggTrades-2025-11-03.csv"} <= set(a)
    assert len([k for k in a if k.startswith("kite/") and k.endswith("-merged-data.txt")]) == 2 * 4
    # the manifest names every data file by its path under --out, with its checksum
    m = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert {k: v["sha256"] for k, v in m["files"].items()} == {
        k: v for k, v in a.items() if k != "manifest.json" and not k.endswith(("instruments.csv", "NFO_symbols.txt"))}


def test_a_non_empty_out_is_refused_without_force_and_force_replaces_only_the_generators_own_files(tmp_path):
    out = tmp_path / "src"
    (out / "sqldump").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "sqldump" / "stale.sql.gz").write_bytes(b"old")
    cmd = [sys.executable, "-m", "orchestration.cli", "-q", "generate", "--out", str(out), "--days", "1", "--strikes",
           "0", "--underlyings", "NIFTY"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert str(out) in r.stderr and "--force" in r.stderr
    assert sorted(p.name for p in out.rglob("*")) == ["notes.txt", "sqldump", "stale.sql.gz"]   # nothing written
    r = subprocess.run(cmd + ["--force"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in (out / "sqldump").iterdir()) == ["das_niftyopt_mod.sql.gz", "das_nse_mod.sql.gz"]


def test_the_size_estimate_is_within_a_quarter_of_what_is_written(tmp_path):
    cfg = GeneratorConfig(out=tmp_path / "o", days=2, strikes=1, seed=3, formats=("sqldump", "binance"))
    estimate = plan(cfg).bytes
    generate(cfg)
    for folder, est in estimate.items():
        real = sum(p.stat().st_size for p in (tmp_path / "o" / folder).iterdir())
        assert 0.75 <= est / real <= 1.25, (folder, est, real)
    r = subprocess.run([sys.executable, "-m", "orchestration.cli", "generate", "--out", str(tmp_path / "p"),
                        "--days", "1", "--strikes", "0", "--underlyings", "NIFTY"], capture_output=True, text=True)
    assert r.returncode == 0 and "about " in r.stderr.splitlines()[0] and "sqldump/" in r.stderr.splitlines()[0]


def test_manifest_counts_every_row_and_quirk(archive):
    m = json.loads((archive / "manifest.json").read_text())
    assert set(m["quirks"]) == {"ts_1970", "duplicate_seconds", "volume_resets", "zero_price", "empty_depth_levels",
                                "malformed_rows", "preopen_rows", "postclose_rows", "interleaved_expiries"}
    assert all(v > 0 for v in m["quirks"].values()), m["quirks"]
    parsed = {}
    for f in (archive / "sqldump").glob("*.sql.gz"):
        for item in read_dump(f):
            if isinstance(item, DumpBatch):
                parsed[f"{item.db}.{item.table}"] = parsed.get(f"{item.db}.{item.table}", 0) + len(item.line)
    bad = m["quirks"]["malformed_rows"] + 1  # + the truncated statement's partial tuple
    assert sum(parsed.values()) + bad == sum(m["tables"].values())
    assert {f: v["source_rows"] for f, v in m["files"].items()} == {
        f: sum(n for t, n in m["tables"].items() if t.startswith(f.split("/")[-1].split("_mod")[0] + "."))
        for f in m["files"]}
    assert m["holidays_skipped"] == ["2025-11-05"] and m["days"] == ["2025-11-03", "2025-11-04", "2025-11-06"]
    kinds = {h["kind"] for h in m["holes"]}
    assert kinds == {"late_start", "intraday", "early_end", "partial_day", "missing_day"}


def test_all_four_table_name_patterns_appear(archive):
    tables = [t.split(".", 1)[1] for t in json.loads((archive / "manifest.json").read_text())["tables"]]
    stocks = {s for s, _ in basket("BANKNIFTY")}       # das_nse's stock tables (C-20's bank basket)
    assert stocks and stocks <= set(tables)
    options = [t for t in tables if not t.endswith("FUT") and t not in ("NIFTY", "BANKNIFTY", *stocks)]
    shapes = {("lower" if t.islower() else "upper", "weekly" if t.rstrip("CEPcep")[-7:-5].isdigit() and
               not any(m in t.upper() for m in ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP",
                                                  "OCT", "NOV", "DEC")) else "monthly") for t in options}
    assert shapes == {("upper", "weekly"), ("upper", "monthly"), ("lower", "weekly"), ("lower", "monthly")}
    for t in options:
        parse_table_name(t)


@pytest.fixture(scope="module")
def day():
    return simulate_day("NIFTY", dt.date(2025, 11, 4), 3, 5, CarryState())


def test_quotes_are_on_the_tick_grid_and_the_ltp_trades_inside_the_touch(day):
    for t in day.options:
        r = t.rows
        for c in ("price", "bp0", "sp0", "bp4", "sp4", "avgPrice"):
            if c != "avgPrice":
                assert (r[c] % 5 == 0).all(), (t.table, c)
        quoted = r["bp0"] > 0
        assert (r["sp0"][quoted] > r["bp0"][quoted]).all()
        mid = (r["bp0"] + r["sp0"]) / 2
        assert ((mid >= r["bp0"]) & (mid <= r["sp0"]))[quoted].all()
        assert t.lot == 75  # NIFTY weeklies and monthlies of Nov/Dec 2025


def _mids(rows, at):
    i = np.searchsorted(rows["timestamp"], at)
    return (rows["bp0"][i] + rows["sp0"][i]) / 200, (rows["sp0"][i] - rows["bp0"][i]) / 200


def test_put_call_parity_holds_within_the_spreads(day):
    """Across strikes, (C - P)(K) - (C - P)(K0) = (K0 - K) e^{-rT} up to the four half-spreads, at every
    second all four contracts recorded (every strike and expiry); and the forward the chain implies,
    (C - P)(K0) + K0 e^{-rT}, is the recorded index up to the index feed's own noise."""
    by = {(t.contract.expiry, t.contract.strike, t.contract.opt_type): t.rows for t in day.options}
    spot = dict(zip(day.index_rows["timestamp"], day.index_rows["price"] / 100))
    checked = 0
    for expiry in sorted({e for e, _, _ in by}):
        strikes = sorted({k for e, k, _ in by if e == expiry})
        k0 = strikes[len(strikes) // 2]
        close = (dt.datetime.combine(expiry, dt.time(15, 30)) - dt.datetime(1970, 1, 1)).total_seconds()
        for k in strikes:
            rows = [by[(expiry, x, o)] for x in (k, k0) for o in ("CE", "PE")]
            ts = functools.reduce(np.intersect1d, [r["timestamp"] for r in rows])
            (c, hc), (p, hp), (c0, hc0), (p0, hp0) = (_mids(r, ts) for r in rows)
            disc = np.exp(-RATE * (close - ts) / YEAR_S)
            err = np.abs((c - p) - (c0 - p0) - (k0 - k) * disc)
            assert (err <= hc + hp + hc0 + hp0 + 0.05).mean() >= 0.999, (expiry, k)
            checked += len(ts)
            if k == k0:
                sod = ts % 86400
                mid = (sod >= 11 * 3600) & (sod < 14 * 3600)
                dev = np.abs(c - p + k0 * disc - np.array([spot[s] for s in ts]))[mid]
                assert np.median(dev) <= 1.5 and np.quantile(dev, 0.99) <= 6.0, (expiry, np.median(dev))
    assert checked > 100_000


@pytest.mark.mariadb
def test_dump_loads_into_real_mariadb_with_the_manifest_counts(tmp_path, mariadb):
    out = tmp_path / "clean"
    m = generate(GeneratorConfig(out=out, days=1, strikes=1, seed=3, underlyings=("NIFTY",)))
    for f in sorted((out / "sqldump").glob("*.sql.gz")):
        mariadb.load_dump(f)
    for table, unique in m["unique_rows"].items():
        db, name = table.split(".")
        assert int(mariadb.query(f"select count(*) from `{db}`.`{name}`")) == unique, table
    assert sum(m["unique_rows"].values()) == sum(m["tables"].values()) - m["quirks"]["duplicate_seconds"]


@pytest.fixture(scope="module")
def chain():
    """A NIFTY day (Thursday 2025-11-06: nearest weekly 11-11, monthly 11-25), ATM+-5."""
    return simulate_day("NIFTY", dt.date(2025, 11, 6), 5, 3, CarryState())


def _book(t, lo: str, hi: str) -> tuple[float, float]:
    """(median spread in rupees, median lots at the best bid) of one table between two IST times."""
    r = t.rows
    sod = (r["timestamp"] % 86400)
    a, b = (int(x[:2]) * 3600 + int(x[3:]) * 60 for x in (lo, hi))
    m = (sod >= a) & (sod < b) & (r["bp0"] > 0)
    return float(np.median(r["sp0"][m] - r["bp0"][m]) / 100), float(np.median(r["bq0"][m]) / t.lot)


def test_spreads_and_depth_follow_moneyness_expiry_and_time_of_day(chain):
    """The fit's judgement, as the book shows it: ATM weekly spreads of Rs 0.05-0.10 mid-session,
    wider away from the money, on the monthly, at the open and toward the close; fewer lots at the
    touch away from the money."""
    sod = chain.index_rows["timestamp"] % 86400
    midday = chain.index_rows["price"][(sod >= 11 * 3600) & (sod < 14 * 3600)] / 100
    atm = int(round(float(np.median(midday)) / 50) * 50)
    weekly, monthly = sorted({t.contract.expiry for t in chain.options})
    by = {(t.contract.expiry, t.contract.strike, t.contract.opt_type): t for t in chain.options}
    mid = {k: _book(t, "11:00", "14:00") for k, t in by.items()}
    atm_spread, atm_lots = mid[(weekly, atm, "CE")]
    assert 0.05 <= atm_spread <= 0.10 and 0.05 <= mid[(weekly, atm, "PE")][0] <= 0.10
    strikes = sorted({k for _, k, _ in by})
    assert strikes[-1] - atm >= 150 and atm - strikes[0] >= 150
    far_otm = mid[(weekly, strikes[-1], "CE")]
    far_itm = mid[(weekly, strikes[0], "CE")]
    assert far_itm[0] > atm_spread and far_itm[1] < atm_lots and far_otm[1] < atm_lots
    assert mid[(monthly, atm, "CE")][0] >= 3 * atm_spread
    opening, _ = _book(by[(weekly, atm, "CE")], "09:15", "09:20")
    closing, _ = _book(by[(weekly, atm, "CE")], "15:20", "15:30")
    assert opening >= 1.5 * atm_spread and closing > atm_spread


def test_a_worthless_contract_is_still_bid_at_the_minimum_tick(day):
    """On an expiry afternoon (the `day` fixture is NIFTY's weekly expiry) out-of-the-money contracts
    go to zero: the book keeps a 0.05 bid under a higher offer, it never shows an empty bid."""
    far = [t for t in day.options if (t.rows["sp0"] <= 10).any()]
    assert len(far) >= 3
    for t in far:
        r = t.rows
        low = r["sp0"] <= 10
        assert (r["bp0"][low] == 5).all() and (r["sp0"][low] > r["bp0"][low]).all()


def test_calibrate_rebuilds_the_checked_in_fit_byte_for_byte(tmp_path):
    """The fit is data produced by a deterministic script from the real files (skipped without them)."""
    from generator.calibrate import OUT, main
    from tests.realdata import realdata

    main(["--realdata", str(realdata()), "--out", str(tmp_path / "fit.json"), "-q"])
    assert (tmp_path / "fit.json").read_bytes() == OUT.read_bytes()
