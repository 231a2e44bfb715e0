"""The live recorder database as the recorder really leaves it (tests/recorder_db.py: the layout of
rthennan/ZerodhaWebsocket's DAS_Ticker.py, DAS_dailyBackup.py, nifty500Updater.py, dasConfig.json),
ingested from a real MariaDB."""
import datetime as dt
import os
import subprocess
import sys

import numpy as np
import pytest

from ingest import normalize as N
from ingest.pipeline import run_ingest
from ingest.recorder_format import EPOCH_1970_IST, NULL_INT
from tests import recorder_db as R
from tests.recorder_rows import option_rows, wall
from warehouse.catalog import connect

pytestmark = pytest.mark.mariadb
D1, D2, D3 = dt.date(2025, 11, 3), dt.date(2025, 11, 4), dt.date(2025, 11, 6)   # 11-05 is a holiday


def sql(root, q):
    return connect(root).sql(q).fetchall()


def cli(root, *args, env=None):
    return subprocess.run([sys.executable, "-m", "orchestration.cli", "--warehouse", str(root), *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


def nifty_index(server, db=R.NSE, day=D2, n=3):
    R.create_instrument_table(server, db, "NIFTY", index=True)
    R.replace_rows(server, db, "NIFTY", R.index_rows([wall(day, f"09:15:0{i}") for i in range(n)],
                                                     [2500010 + i for i in range(n)]))


def test_working_tables_are_skipped_and_listed_once_per_run_never_quarantined(mariadb, tmp_path):
    """dailytable (the day's ticks, with text columns) and backupsuccesstables (no `timestamp`)
    beside the instrument tables: the run reads the instruments, lists the two tables as skipped
    with the reason on every run, and never quarantines their rows."""
    R.working_tables(mariadb)
    nifty_index(mariadb)
    first = run_ingest([mariadb.url], tmp_path)
    second = run_ingest([mariadb.url], tmp_path)
    assert first.totals()["written"] == 3 and second.totals()["source_rows"] == 0
    assert sql(tmp_path, "select count(*) from quarantine") == [(0,)]
    listed = sql(tmp_path, "select run_id, table_name, reason from ingest_skipped order by run_id, table_name")
    assert [r[1:] for r in listed] == [(f"{R.NSE}.backupsuccesstables", "the recorder's working table, not an instrument table"),
                                       (f"{R.NSE}.dailytable", "the recorder's working table, not an instrument table")] * 2
    assert sorted({r[0] for r in listed}) == sorted([first.run_id, second.run_id])
    assert first.sources[0].extra["skipped"] == [
        {"table_name": f"{R.NSE}.backupsuccesstables", "reason": "the recorder's working table, not an instrument table", "rows": 0},
        {"table_name": f"{R.NSE}.dailytable", "reason": "the recorder's working table, not an instrument table", "rows": 0}]


def test_a_mariadb_dump_of_the_recorder_database_skips_its_working_tables_too(mariadb, tmp_path):
    """The same database dumped with mariadb-dump (the trader's backups): the working tables' rows
    (text values, a column list without `timestamp`) are counted as skipped, never quarantined as
    malformed tuples, and the instrument rows are those of the live read."""
    import shutil

    exe = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    if exe is None:
        pytest.skip("mariadb-dump is not installed")
    R.working_tables(mariadb)
    nifty_index(mariadb)
    dump = tmp_path / f"{R.NSE}_mod.sql"
    with open(dump, "wb") as f:
        subprocess.run([exe, "--protocol=TCP", "-h", "127.0.0.1", "-P", str(mariadb.port), "-u", "root",
                        "--databases", R.NSE], stdout=f, check=True)
    text = dump.read_text()
    assert "INSERT INTO `dailytable`" in text and "CREATE TABLE `backupsuccesstables`" in text
    report = run_ingest([str(dump)], tmp_path / "w")
    live = sql(tmp_path / "w", "select count(*) from quarantine")
    assert live == [(0,)]
    assert report.totals()["written"] == 3
    daily = mariadb.query(f"select count(*) from `{R.NSE}`.dailytable").split()[-1]
    backups = mariadb.query(f"select count(*) from `{R.NSE}`.backupsuccesstables").split()[-1]
    assert sql(tmp_path / "w", "select table_name, rows from ingest_skipped order by 1") == [
        (f"{R.NSE}.backupsuccesstables", int(backups)), (f"{R.NSE}.dailytable", int(daily))]


def test_a_table_without_the_recorder_columns_is_skipped_not_quarantined(mariadb, tmp_path):
    nifty_index(mariadb)
    mariadb.query(f"create table `{R.NSE}`.notes (id int, body text); insert into `{R.NSE}`.notes values (1, 'x')")
    mariadb.query(f"create table `{R.NSE}`.lookup (`timestamp` datetime, token bigint); "
                  f"insert into `{R.NSE}`.lookup values ('2025-11-04 09:15:00', 1)")
    report = run_ingest([mariadb.url], tmp_path)
    assert report.totals() == {"source_rows": 3, "written": 3, "deduped": 0, "quarantined": 0, "repaired": 0}
    assert sql(tmp_path, "select table_name, reason from ingest_skipped order by 1") == [
        (f"{R.NSE}.lookup", "not the recorder's columns (timestamp, token)"),
        (f"{R.NSE}.notes", "not the recorder's columns (id, body)")]


def test_aws_das_databases_are_read_by_default_and_a_database_in_the_url_alone(mariadb, tmp_path):
    """The recorder's shipped configuration names its databases aws_das_*; a URL naming one
    database reads that one; a server without any is an error that says so."""
    nifty_index(mariadb)
    R.create_instrument_table(mariadb, R.NIFTYOPT, "NIFTY25N0426000CE")
    R.replace_rows(mariadb, R.NIFTYOPT, "NIFTY25N0426000CE", option_rows([wall(D2, "09:15:00")], [10000], [75]))
    mariadb.query("create database other_app; create table other_app.NIFTY (`timestamp` datetime, price decimal(12,2))")
    everything = run_ingest([mariadb.url], tmp_path / "all")
    assert everything.sources[0].extra["databases"] == [R.NIFTYOPT, R.NSE]
    assert sql(tmp_path / "all", "select count(*) from options_ticks") == [(1,)]
    assert sql(tmp_path / "all", "select count(*) from spot_ticks") == [(3,)]
    one = run_ingest([f"{mariadb.url}/{R.NSE}"], tmp_path / "one")
    assert one.sources[0].extra["databases"] == [R.NSE] and one.totals()["source_rows"] == 3
    listed = run_ingest([f"{mariadb.url}?databases={R.NIFTYOPT}"], tmp_path / "listed")
    assert listed.sources[0].extra["databases"] == [R.NIFTYOPT] and listed.totals()["source_rows"] == 1
    out = cli(tmp_path / "cli", "ingest", f"{mariadb.url}/{R.NSE}")
    assert out.returncode == 0 and f"read {R.NSE}: 1 table" in out.stdout, out.stdout + out.stderr
    mariadb.reset()
    mariadb.query("create database other_app")
    out = cli(tmp_path / "none", "-q", "ingest", mariadb.url)
    assert out.returncode == 1 and "no das_* / aws_das_* database on the server" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_stocks_and_other_indices_land_in_equity_and_spot_with_the_canonical_book(mariadb, tmp_path):
    """aws_das_nse holds Nifty-500 stock tables (the 46-column layout, M&M stored as M_M) and SENSEX
    beside NIFTY and BANKNIFTY; SENSEX options and futures have no calendar here: listed as skipped."""
    ts = [wall(D2, "09:15:00"), wall(D2, "09:15:01")]
    for stock in ("HDFCBANK", "M_M"):
        R.create_instrument_table(mariadb, R.NSE, stock)
        R.replace_rows(mariadb, R.NSE, stock, option_rows(ts, [160010, 160020], [500, 900]))
    R.create_instrument_table(mariadb, R.NSE, "SENSEX", index=True)
    R.replace_rows(mariadb, R.NSE, "SENSEX", R.index_rows(ts, [8200012, 8200034]))
    R.create_instrument_table(mariadb, R.NSE, "SENSEXFUT")
    R.create_instrument_table(mariadb, R.SENSEXOPT, "SENSEX25N0682000CE")
    run_ingest([mariadb.url], tmp_path)
    got = sql(tmp_path, """select underlying, symbol, source_table, strftime(ts, '%H:%M:%S'), session, price, volume,
                           vol_delta, bid_px0, ask_px4, ask_qty4 from equity_ticks order by symbol, ts""")
    assert got == [("HDFCBANK", "HDFCBANK", "HDFCBANK", "09:15:00", "regular", 1600.10, 500, 500, 1600.05, 1600.35, 150),
                   ("HDFCBANK", "HDFCBANK", "HDFCBANK", "09:15:01", "regular", 1600.20, 900, 400, 1600.15, 1600.45, 150),
                   ("M_M", "M_M", "M_M", "09:15:00", "regular", 1600.10, 500, 500, 1600.05, 1600.35, 150),
                   ("M_M", "M_M", "M_M", "09:15:01", "regular", 1600.20, 900, 400, 1600.15, 1600.45, 150)]
    book = [c for c in connect(tmp_path).sql("select * from options_ticks").columns if c.startswith(("bid_", "ask_"))]
    assert book and set(book) <= set(connect(tmp_path).sql("select * from equity_ticks").columns)
    assert sql(tmp_path, "select underlying, price from spot_ticks order by ts") == [("SENSEX", 82000.12), ("SENSEX", 82000.34)]
    assert sql(tmp_path, "select count(*) from quarantine") == [(0,)]
    assert sql(tmp_path, "select table_name, reason from ingest_skipped order by 1") == [
        (f"{R.NSE}.SENSEXFUT", "SENSEX futures: no expiry calendar for SENSEX"),
        (f"{R.SENSEXOPT}.SENSEX25N0682000CE", "SENSEX options: no expiry calendar for SENSEX")]


def test_every_hostile_table_is_reported_on_its_own_and_real_tables_are_read(mariadb, tmp_path):
    hostile = ["x`; drop table y; --", " NIFTY", "nifty'", "a.b", "NIFTY/..", "dr\u00f8p", "NIFTY\u0662\u0665NOV",
               "semi;colon", "new\nline", "NIFTY;"]
    nifty_index(mariadb)
    for name in hostile:
        mariadb.query(f"create table `{R.NSE}`.`{name.replace('`', '``')}` (`timestamp` datetime unique, price decimal(12,2))")
        mariadb.query(f"insert into `{R.NSE}`.`{name.replace('`', '``')}` values ('2025-11-04 09:15:00', 1.00)")
    report = run_ingest([mariadb.url], tmp_path)
    listed = sql(tmp_path, "select table_name, reason from ingest_skipped order by 1")
    assert sorted(t for t, _ in listed) == sorted(f"{R.NSE}.{n}" for n in hostile)
    assert {r for _, r in listed} == {"unsafe name, not read: not [A-Za-z0-9_]{1,64}"}
    assert report.totals()["written"] == 3 and sql(tmp_path, "select count(*) from spot_ticks") == [(3,)]
    assert mariadb.query(f"select count(*) from information_schema.tables where table_schema = '{R.NSE}'") == "11"


def test_the_password_comes_from_the_environment_or_a_file_and_is_never_shown(mariadb, tmp_path):
    secret = "s3cr3t-Pa55"
    mariadb.query(f"create user 'reader'@'127.0.0.1' identified by '{secret}'; "
                  f"grant select on *.* to 'reader'@'127.0.0.1'")
    nifty_index(mariadb)
    url = mariadb.url.replace("root@", "reader@")
    denied = cli(tmp_path / "w0", "ingest", url)
    assert denied.returncode == 1 and secret not in denied.stderr and "Access denied" in denied.stderr
    by_env = cli(tmp_path / "w1", "ingest", url, env={"TICKLAKE_MARIADB_PASSWORD": secret})
    plain = tmp_path / "pw"
    plain.write_text(secret + "\n")
    by_file = cli(tmp_path / "w2", "ingest", url, "--password-file", str(plain))
    cnf = tmp_path / "my.cnf"
    cnf.write_text(f"[client]\nuser = reader\npassword = {secret}\n")
    by_cnf = cli(tmp_path / "w3", "ingest", url, "--password-file", str(cnf))
    by_url_option = cli(tmp_path / "w4", "ingest", f"{url}?read_default_file={cnf}")
    for i, r in enumerate((by_env, by_file, by_cnf, by_url_option), start=1):
        assert r.returncode == 0, r.stderr
        assert secret not in r.stdout + r.stderr
        assert sql(tmp_path / f"w{i}", "select count(*) from spot_ticks") == [(3,)]
        stored = [p for p in (tmp_path / f"w{i}").rglob("*") if p.is_file()]
        assert not any(secret.encode() in p.read_bytes() for p in stored)


def test_a_row_that_does_not_decode_is_quarantined_once_not_on_every_run(mariadb, tmp_path):
    mariadb.query(f"create database {R.NSE}; create table {R.NSE}.NIFTY (`timestamp` datetime unique, price varchar(20)); "
                  f"insert into {R.NSE}.NIFTY values ('2025-11-04 09:15:00', '25000.50'), ('2025-11-04 09:15:01', 'n/a')")
    assert run_ingest([mariadb.url], tmp_path).totals()["quarantined"] == 1
    assert run_ingest([mariadb.url], tmp_path).totals()["source_rows"] == 0
    assert sql(tmp_path, "select raw from quarantine") == [('{"timestamp":"2025-11-04T09:15:01+05:30","price":"n/a"}',)]


# --- incremental reads equal a full read --------------------------------------------------------

TICK_CONTENT = """
    select 'o', count(*), md5(string_agg(concat_ws('|', symbol, source_table, ts, price, volume, vol_delta, ts_repaired),
                                          ',' order by symbol, source_table, ts)) from options_ticks
    union all select 'f', count(*), md5(string_agg(concat_ws('|', symbol, ts, session, price, vol_delta, ts_repaired),
                                          ',' order by ts)) from futures_ticks
    union all select 's', count(*), md5(string_agg(concat_ws('|', underlying, ts, session, price), ',' order by ts))
                                          from spot_ticks order by 1"""
TOTALS = "select sum(source_rows), sum(written), sum(deduped), sum(quarantined), sum(repaired) from ingest_runs"


def _day_rows(rng: np.random.Generator, day: dt.date, kind: str):
    """One recorder day of a contract: 20 seconds from 09:15 (some missing), plus a 1970 row whose
    lastTradeTime is free (placed), taken (quarantined), or missing (quarantined), and sometimes
    a NULL-timestamp row (several may pile up: UNIQUE allows many NULLs)."""
    secs = np.sort(rng.choice(np.arange(20), size=14, replace=False))
    ts = [wall(day, "09:15:00") + int(s) for s in secs]
    ltt = list(ts)
    fate = kind if kind != "random" else rng.choice(["free", "taken", "none"])
    free = next(wall(day, "09:15:00") + s for s in range(20) if s not in secs)
    ts.append(EPOCH_1970_IST)
    ltt.append({"free": free, "taken": ts[3], "none": NULL_INT}[fate])
    if rng.random() < 0.5:
        ts.append(NULL_INT)
        ltt.append(ts[0])
    n = len(ts)
    return option_rows(ts, list(10000 + 5 * rng.integers(0, 40, n)), list(np.cumsum(rng.integers(0, 500, n))), ltt)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ingesting_day_by_day_equals_one_full_read_of_the_final_database(mariadb, tmp_path, seed):
    """Property: three recorder days written the way the backup writes them (REPLACE: the day's
    1970 row replaces the day before's), ingested incrementally after each day, give the same
    ticks and the same reconciled totals as one full read of the final database."""
    rng = np.random.default_rng(seed)
    tables = {(R.NIFTYOPT, "NIFTY25N1126000CE"): "free", (R.NIFTYOPT, "nifty25nov26000pe"): "random",
              (R.NSE, "NIFTYFUT"): "random"}
    for db, t in tables:
        R.create_instrument_table(mariadb, db, t)
    R.create_instrument_table(mariadb, R.NSE, "NIFTY", index=True)
    for day in (D1, D2, D3):
        for (db, t), kind in tables.items():
            R.replace_rows(mariadb, db, t, _day_rows(rng, day, kind))
        R.replace_rows(mariadb, R.NSE, "NIFTY", R.index_rows([wall(day, "09:15:00"), EPOCH_1970_IST, wall(day, "09:15:05")],
                                                             [2500000, 1, int(rng.integers(2500000, 2600000))]))
        run_ingest([mariadb.url], tmp_path / "daily")
    run_ingest([mariadb.url], tmp_path / "daily")          # a run with nothing new changes nothing
    run_ingest([mariadb.url], tmp_path / "full")
    assert sql(tmp_path / "daily", TICK_CONTENT) == sql(tmp_path / "full", TICK_CONTENT)
    assert sql(tmp_path / "daily", TOTALS) == sql(tmp_path / "full", TOTALS)
    ((src, w, d, q, _),) = sql(tmp_path / "full", TOTALS)
    assert src == w + d + q and src == int(mariadb.query(
        "select (select count(*) from aws_das_niftyopt.NIFTY25N1126000CE) + (select count(*) from aws_das_niftyopt.nifty25nov26000pe)"
        " + (select count(*) from aws_das_nse.NIFTYFUT) + (select count(*) from aws_das_nse.NIFTY)"))
    # the placed 1970 row of the first table is the last day's: the earlier ones were replaced
    assert sql(tmp_path / "daily", "select date from options_ticks where ts_repaired and source_table = "
                                   "'NIFTY25N1126000CE'") == [(D3,)]
    assert sql(tmp_path / "daily", f"select count(*) from quarantine where reason = '{N.R_NULL_TS}'") == \
        sql(tmp_path / "full", f"select count(*) from quarantine where reason = '{N.R_NULL_TS}'")
