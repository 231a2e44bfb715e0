"""The `ticklake` command line as a user runs it: exit codes, one-line errors, IST output, the UI."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from ingest.pipeline import run_ingest


def tl(*args, env=None):
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("src")
    r = tl("-q", "generate", "--out", str(out), "--days", "1", "--strikes", "0", "--underlyings", "NIFTY",
           "--formats", "sqldump,binance")
    assert r.returncode == 0, r.stderr
    root = tmp_path_factory.mktemp("wh")
    run_ingest([str(p) for p in sorted((out / "sqldump").glob("*nse*.sql.gz"))] +
               [str(p) for p in sorted((out / "binance").glob("*.csv"))], root)
    return out, root


def test_sql_csv_has_a_header_and_ist_timestamps(small):
    _, root = small
    r = tl("--warehouse", str(root), "sql", "select underlying, ts, price from spot_ticks order by ts limit 2",
           "--format", "csv")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and lines[0] == "underlying,ts,price"
    assert lines[1].startswith("NIFTY,2025-11-03 09:15:00+05:30,")


def test_sql_json_and_every_view_answers(small):
    _, root = small
    for view in ("options_ticks", "spot_ticks", "futures_ticks", "crypto_trades", "ingest_runs", "quarantine", "gaps",
                 "features_options", "trades", "backtest_runs"):
        r = tl("--warehouse", str(root), "sql", f"select count(*) n from {view}", "--format", "json")
        assert r.returncode == 0, (view, r.stderr)
        assert "n" in json.loads(r.stdout)[0]
    r = tl("--warehouse", str(root), "sql", "select count(*) n from crypto_trades", "--format", "json")
    assert json.loads(r.stdout) == [{"n": 20_000}]


def test_failures_exit_non_zero_with_one_line_on_stderr(tmp_path):
    r = tl("--warehouse", str(tmp_path), "ingest", str(tmp_path / "missing.sql.gz"))
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "missing.sql.gz" in r.stderr
    r = tl("--warehouse", str(tmp_path), "sql", "select * from no_such_view")
    assert r.returncode == 1 and r.stderr.startswith("ticklake sql:")


@pytest.mark.mariadb
def test_generate_loads_a_real_mariadb(tmp_path, mariadb):
    r = tl("-q", "generate", "--out", str(tmp_path), "--days", "1", "--strikes", "0", "--underlyings", "NIFTY",
           "--formats", "sqldump,mariadb", "--mariadb", mariadb.url, "--seed", "31")
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "manifest.json").read_text())
    for table, rows in m["unique_rows"].items():
        db, name = table.split(".")
        assert int(mariadb.query(f"select count(*) from `{db}`.`{name}`")) == rows


def test_ui_serves_the_dagster_webserver_on_loopback(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "--warehouse", str(tmp_path), "ui", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = ""
        for _ in range(120):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(1)
        assert "dagster_webserver_version" in body
    finally:
        proc.terminate()
        proc.wait(30)


# --- `ticklake sql`: DuckDB's own writers ---------------------------------------------------------

def test_sql_csv_and_json_come_from_duckdbs_writers(small):
    """Booleans, decimals, quoted text and NULL as DuckDB writes them (Python's csv module would print
    `True`, and json.dumps a decimal as a string)."""
    _, root = small
    q = "select true b, 1.50::decimal(10, 2) d, 'a,\"b\"' s, null n, timestamptz '2025-11-03 09:15:00.25+05:30' ts"
    r = tl("--warehouse", str(root), "sql", q, "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout == 'b,d,s,n,ts\ntrue,1.50,"a,""b""",,2025-11-03 09:15:00.25+05:30\n'
    r = tl("--warehouse", str(root), "sql", q, "--format", "json")
    assert json.loads(r.stdout) == [{"b": True, "d": 1.5, "s": 'a,"b"', "n": None, "ts": "2025-11-03 09:15:00.25+05:30"}]
    r = tl("--warehouse", str(root), "sql", "select 1 x where false", "--format", "json")
    assert json.loads(r.stdout) == []


# --- the catalog outside ticklake: quoted paths, the IST guard ------------------------------------

def test_a_warehouse_path_with_an_apostrophe_works_end_to_end(small, tmp_path):
    """The path used to be pasted into the view SQL unquoted: the catalog failed after all data was
    written (and a crafted path could run SQL)."""
    out, _ = small
    root = tmp_path / "o'brien's warehouse"
    r = tl("-q", "--warehouse", str(root), "ingest", str(out / "sqldump" / "das_nse_mod.sql.gz"))
    assert r.returncode == 0, r.stderr
    r = tl("--warehouse", str(root), "sql", "select count(*) n from spot_ticks", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"n": 22_501}]
    import duckdb

    con = duckdb.connect(str(root / "catalog.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'Asia/Kolkata'")
    assert con.sql("select count(*) from spot_ticks").fetchall() == [(22_501,)]


def test_catalog_duckdb_opened_directly_gives_the_same_answers_or_fails(small):
    """DuckDB's Python API opens catalog.duckdb in the machine's zone (UTC here): `hour(ts) = 9` would
    select other rows than `ticklake sql` does. The views refuse to answer until the session is IST."""
    import duckdb

    _, root = small
    r = tl("--warehouse", str(root), "sql", "select count(*) n from spot_ticks where hour(ts) = 9", "--format", "json")
    cli = json.loads(r.stdout)[0]["n"]
    assert cli == 45 * 60                       # 09:15:00 .. 09:59:59 of the one NIFTY day
    con = duckdb.connect(str(root / "catalog.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    with pytest.raises(duckdb.InvalidInputException, match=r"SET TimeZone = 'Asia/Kolkata'"):
        con.sql("select count(*) from spot_ticks where hour(ts) = 9").fetchall()
    con.execute("SET TimeZone = 'Asia/Kolkata'")
    assert con.sql("select count(*) from spot_ticks where hour(ts) = 9").fetchall() == [(cli,)]


# --- quality: one severity --------------------------------------------------------------------------

def _write(root, table, keys, rows, schema):
    import pyarrow as pa

    from warehouse.writer import PartitionManifest, write_partition

    write_partition(root, table, keys, pa.Table.from_pylist(rows, schema=schema), schema,
                    PartitionManifest(table, {k: str(v) for k, v in keys.items()}, 0, "test", "test"))


def test_thin_coverage_is_a_warning_and_only_errors_fail_strict(tmp_path):
    import datetime as dt

    from warehouse import schema as S

    root = tmp_path / "wh"
    day = dt.date(2025, 11, 3)
    cov = [{"underlying": "NIFTY", "date": day, "symbol": s, "instrument": "option", "real_rows": n,
            "session_seconds": 22_501, "coverage": n / 22_501} for s, n in (("NIFTY25N1125000CE", 22_000),
                                                                              ("NIFTY25N1125000PE", 9_000))]
    _write(root, "coverage", {"underlying": "NIFTY", "date": day}, cov, S.COVERAGE)
    runs = [{"run_id": "r1", "source": "a.sql.gz", "target": "options", "partition": "NIFTY/2025-11-03",
             "source_rows": 10, "written": 8, "deduped": 1, "quarantined": 1, "repaired": 0}]
    _write(root, "ingest_runs", {"run_id": "r1", "part": "p"}, runs, S.INGEST_RUNS)
    r = tl("-q", "--warehouse", str(root), "quality", "--strict")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "WARN   coverage NIFTY/2025-11-03: coverage_above_floor" in r.stdout
    assert "FAILED" not in r.stdout
    assert "0 failed expectations, 1 warnings" in r.stdout
    runs[0]["written"] = 7                                      # 10 != 7 + 1 + 1: an error
    _write(root, "ingest_runs", {"run_id": "r1", "part": "p"}, runs, S.INGEST_RUNS)
    r = tl("-q", "--warehouse", str(root), "quality", "--strict")
    assert r.returncode == 1
    assert "FAILED ingest_runs ingest_runs: reconciles" in r.stdout
    assert "1 failed expectations, 1 warnings" in r.stdout
    assert tl("-q", "--warehouse", str(root), "quality").returncode == 0      # without --strict: a report
    page = (root / "quality/gx/uncommitted/data_docs/local_site/overview.html").read_text()
    assert "1 with failing expectations" in page and "1 with warnings only" in page
    assert "coverage_above_floor [warning]" in page


# --- progress ---------------------------------------------------------------------------------------

def test_long_commands_show_progress_lines_off_a_terminal_and_quiet_silences_them(small):
    """Not a TTY (a CI log): plain lines with batches done, rows, rows/s, MB/s and the ETA; -q: nothing."""
    _, root = small
    r = tl("--warehouse", str(root), "quality", env={"TICKLAKE_PROGRESS_INTERVAL": "0"})
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("quality: ")]
    assert len(lines) >= 4
    assert "\r" not in r.stderr and "\x1b" not in r.stderr
    assert re.search(r"^quality: 1/\d+ batches \| [\d,]+ rows \| [\d,]+ rows/s \| [\d.,]+ MB/s \| \d+% ETA ", lines[0])
    assert re.search(r"^quality: (\d+)/\1 batches \| [\d,]+ rows \| .* done in ", lines[-1])
    r = tl("-q", "--warehouse", str(root), "quality", env={"TICKLAKE_PROGRESS_INTERVAL": "0"})
    assert r.returncode == 0 and r.stderr == ""


def test_the_cli_module_imports_no_asset_module():
    import ast
    from pathlib import Path

    import orchestration.cli

    tree = ast.parse(Path(orchestration.cli.__file__).read_text())
    names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
            {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in names if m and m.startswith("orchestration.assets")}
