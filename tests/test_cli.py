"""The `ticklake` command line as a user runs it: exit codes, one-line errors, IST output, the UI."""
import json
import os
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
