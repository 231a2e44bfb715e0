"""The generated archive behaves like the recorder's: real formats, exact manifest, sane quotes."""
import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from generator.config import GeneratorConfig
from generator.driver import generate
from generator.market import RATE, YEAR_S, CarryState, simulate_day
from ingest.contracts import parse_table_name
from ingest.sqldump import DumpBatch, read_dump


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_same_arguments_give_byte_identical_files(tmp_path):
    cmd = [sys.executable, "-m", "orchestration.cli", "-q", "generate", "--days", "2", "--strikes", "5", "--seed", "7"]
    for d in ("a", "b"):
        subprocess.run(cmd + ["--out", str(tmp_path / d)], check=True)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["das_bankopt_mod.sql.gz", "das_niftyopt_mod.sql.gz", "das_nse_mod.sql.gz", "manifest.json"]
    assert [sha(tmp_path / "a" / n) for n in names] == [sha(tmp_path / "b" / n) for n in names]


def test_manifest_counts_every_row_and_quirk(archive):
    import json
    m = json.loads((archive / "manifest.json").read_text())
    assert set(m["quirks"]) == {"ts_1970", "duplicate_seconds", "volume_resets", "zero_price", "empty_depth_levels",
                                "malformed_rows", "preopen_rows", "postclose_rows", "interleaved_expiries"}
    assert all(v > 0 for v in m["quirks"].values()), m["quirks"]
    parsed = {}
    for f in archive.glob("*.sql.gz"):
        for item in read_dump(f):
            if isinstance(item, DumpBatch):
                parsed[f"{item.db}.{item.table}"] = parsed.get(f"{item.db}.{item.table}", 0) + len(item.line)
    bad = m["quirks"]["malformed_rows"] + 1  # + the truncated statement's partial tuple
    assert sum(parsed.values()) + bad == sum(m["tables"].values())
    assert {f: v["source_rows"] for f, v in m["files"].items()} == {
        f: sum(n for t, n in m["tables"].items() if t.startswith(f.split("_mod")[0] + ".")) for f in m["files"]}
    assert m["holidays_skipped"] == ["2025-11-05"] and m["days"] == ["2025-11-03", "2025-11-04", "2025-11-06"]
    kinds = {h["kind"] for h in m["holes"]}
    assert kinds == {"late_start", "intraday", "early_end", "partial_day", "missing_day"}


def test_all_four_table_name_patterns_appear(archive):
    import json
    tables = [t.split(".", 1)[1] for t in json.loads((archive / "manifest.json").read_text())["tables"]]
    options = [t for t in tables if not t.endswith("FUT") and t not in ("NIFTY", "BANKNIFTY")]
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


def test_put_call_parity_holds_within_the_spreads(day):
    """C - P = (F - K) e^{-rT} up to the two half-spreads, at every common second (checked over all
    rows of every strike and expiry)."""
    spot = dict(zip(day.index_rows["timestamp"], day.index_rows["price"] / 100))
    by = {}
    for t in day.options:
        by[(t.contract.expiry, t.contract.strike, t.contract.opt_type)] = t.rows
    checked = 0
    worst = 0.0
    for (expiry, strike, kind), ce in by.items():
        if kind != "CE":
            continue
        pe = by[(expiry, strike, "PE")]
        ts = np.intersect1d(ce["timestamp"], pe["timestamp"])
        ci, pi = np.searchsorted(ce["timestamp"], ts), np.searchsorted(pe["timestamp"], ts)
        close = (dt.datetime.combine(expiry, dt.time(15, 30)) - dt.datetime(1970, 1, 1)).total_seconds()
        T = (close - ts) / YEAR_S
        S = np.array([spot[s] for s in ts])
        c_mid = (ce["bp0"][ci] + ce["sp0"][ci]) / 200
        p_mid = (pe["bp0"][pi] + pe["sp0"][pi]) / 200
        parity = S - strike * np.exp(-RATE * T)
        tol = (ce["sp0"][ci] - ce["bp0"][ci] + pe["sp0"][pi] - pe["bp0"][pi]) / 200 + 0.05
        quoted = (ce["bp0"][ci] > 0) & (pe["bp0"][pi] > 0)
        err = np.abs(c_mid - p_mid - parity)[quoted]
        assert (err <= tol[quoted]).mean() >= 0.999, (expiry, strike)
        worst = max(worst, float((err / tol[quoted]).max()))
        checked += quoted.sum()
    assert checked > 100_000


@pytest.mark.mariadb
def test_dump_loads_into_real_mariadb_with_the_manifest_counts(tmp_path, mariadb):
    out = tmp_path / "clean"
    m = generate(GeneratorConfig(out=out, days=1, strikes=1, seed=3, underlyings=("NIFTY",)))
    for f in sorted(out.glob("*.sql.gz")):
        mariadb.load_dump(f)
    for table, unique in m["unique_rows"].items():
        db, name = table.split(".")
        assert int(mariadb.query(f"select count(*) from `{db}`.`{name}`")) == unique, table
    assert sum(m["unique_rows"].values()) == sum(m["tables"].values()) - m["quirks"]["duplicate_seconds"]
