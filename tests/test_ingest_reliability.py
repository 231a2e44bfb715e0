"""Reliability of ingest: killed mid-run, bounded memory, the live MariaDB path, broken inputs."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from generator.config import GeneratorConfig
from generator.driver import generate
from ingest.mariadb_source import R_BAD_ROW
from ingest.pipeline import run_ingest
from ingest.sqldump import DumpBatch, Rejected, read_dump
from warehouse.catalog import connect

CONTENT = """select 'o' t, md5(string_agg(concat_ws('|', symbol, ts, price, volume, vol_delta, bid_px0, ask_qty4), ','
                 order by symbol, ts)) from options_ticks
             union all select 's', md5(string_agg(concat_ws('|', underlying, ts, price), ',' order by underlying, ts))
                 from spot_ticks
             union all select 'f', md5(string_agg(concat_ws('|', symbol, ts, price), ',' order by symbol, ts))
                 from futures_ticks order by 1"""


def content(root: Path):
    return connect(root).sql(CONTENT).fetchall()


def ingest_cmd(root: Path, files: list[str]) -> list[str]:
    return [sys.executable, "-m", "orchestration.cli", "-q", "--warehouse", str(root), "ingest", *files]


def visible_partitions_are_whole(root: Path) -> int:
    """Every Parquet file a reader can see is complete and matches its embedded manifest."""
    n = 0
    for p in (root / "ticks").rglob("*.parquet"):
        meta = pq.read_metadata(p)
        manifest = pq.read_schema(p).metadata[b"ticklake.manifest"]
        assert f'"rows": {meta.num_rows}' in manifest.decode()
        n += 1
    return n


@pytest.fixture(scope="module")
def clean_files(tmp_path_factory):
    """Two days, one underlying, every row-level quirk, no malformed SQL (MariaDB must load it)."""
    out = tmp_path_factory.mktemp("clean")
    generate(GeneratorConfig(out=out, days=2, strikes=1, seed=5, underlyings=("NIFTY",)))
    return sorted(str(p) for p in (out / "sqldump").glob("*.sql.gz"))


def test_a_killed_ingest_leaves_no_partial_partition_and_the_rerun_matches(clean_files, tmp_path):
    ref = tmp_path / "ref"
    run_ingest(clean_files, ref)
    expected = content(ref)
    for delay in (0.8, 2.5, 4.5):
        root = tmp_path / f"killed-{delay}"
        proc = subprocess.Popen(ingest_cmd(root, clean_files))
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if root.exists():
            visible_partitions_are_whole(root)
        subprocess.run(ingest_cmd(root, clean_files), check=True)
        assert visible_partitions_are_whole(root) > 0
        assert content(root) == expected, f"killed after {delay}s"


def test_peak_memory_does_not_grow_with_the_dump(tmp_path):
    """A dump 4x larger (4 days vs 1) stays within 1.3x the peak RSS."""
    rss = {}
    for days in (1, 4):
        out = tmp_path / f"d{days}"
        generate(GeneratorConfig(out=out, days=days, strikes=1, seed=9, underlyings=("NIFTY",), quirks=False))
        code = ("import resource, sys; from pathlib import Path; from ingest.pipeline import run_ingest; "
                "run_ingest([str(p) for p in sorted(Path(sys.argv[1]).glob('*.sql.gz'))], Path(sys.argv[2])); "
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        r = subprocess.run([sys.executable, "-c", code, str(out / "sqldump"), str(tmp_path / f"w{days}")], check=True,
                           capture_output=True, text=True)
        rss[days] = int(r.stdout.strip().splitlines()[-1])
    assert rss[4] <= 1.3 * rss[1], rss


@pytest.mark.mariadb
def test_the_same_archive_from_the_dump_and_from_mariadb_gives_identical_rows(clean_files, mariadb, tmp_path):
    for f in clean_files:
        mariadb.load_dump(Path(f))
    run_ingest(clean_files, tmp_path / "dump")
    report = run_ingest([mariadb.url], tmp_path / "db")
    assert content(tmp_path / "dump") == content(tmp_path / "db")
    assert report.totals()["deduped"] == 0            # the server's REPLACE already kept the last row
    again = run_ingest([mariadb.url], tmp_path / "db")  # nightly run: nothing new above the marks
    assert again.totals()["source_rows"] == 0


@pytest.mark.mariadb
def test_hostile_table_names_are_refused_not_executed(mariadb, tmp_path):
    mariadb.query("create database if not exists das_nse; create table das_nse.`x``; drop table y; --` (a int)")
    report = run_ingest([mariadb.url], tmp_path)
    rows = connect(tmp_path).sql("select reason, table_name from ingest_skipped").fetchall()
    assert rows == [("unsafe name, not read: not [A-Za-z0-9_]{1,64}", "das_nse.x`; drop table y; --")]
    assert report.totals()["source_rows"] == 0 and mariadb.query("show tables from das_nse") == "x`; drop table y; --"


def test_truncated_gzip_keeps_every_row_before_the_damage(clean_files, tmp_path):
    src = Path(clean_files[0])
    data = src.read_bytes()
    cut = tmp_path / src.name
    cut.write_bytes(data[: len(data) // 2])
    items = list(read_dump(cut))
    rows = sum(len(i.line) for i in items if isinstance(i, DumpBatch))
    errors = [i for i in items if isinstance(i, Rejected)]
    # the statement cut by the damage loses its partial tuple; then the file-level error, last
    assert rows > 10_000 and len(errors) == 2
    assert errors[0].reason.startswith("truncated statement at end of file")
    assert "truncated gzip stream at compressed byte" in errors[1].reason
    assert errors[1].source == str(cut) and errors[1].position.startswith("after line")


def test_a_table_with_unknown_columns_is_skipped_and_a_statement_without_layout_quarantined(tmp_path):
    dump = tmp_path / "das_nse_mod.sql"
    dump.write_text("USE `das_nse`;\nCREATE TABLE `NIFTY` (\n  `timestamp` DATETIME,\n  `mystery` DECIMAL(12,2)\n);\n"
                    "REPLACE INTO `NIFTY` VALUES ('2025-11-04 09:15:00',1.00),('2025-11-04 09:15:01',2.00);\n"
                    "REPLACE INTO `ODDTABLE` VALUES (1,2,3);\n")
    report = run_ingest([str(dump)], tmp_path / "w")
    t = report.totals()
    # a table without the recorder's columns holds no instrument data: skipped and listed, not quarantined
    assert (t["source_rows"], t["written"], t["quarantined"]) == (1, 0, 1)
    reasons = sorted(r[0].split(":")[0].split(" (")[0] for r in
                     connect(tmp_path / "w").sql("select reason from quarantine").fetchall())
    assert reasons == ["malformed tuple"]
    assert connect(tmp_path / "w").sql("select table_name, reason, rows from ingest_skipped").fetchall() == [
        ("das_nse.NIFTY", "not the recorder's columns (timestamp, mystery)", 2)]


@pytest.mark.mariadb
def test_a_row_whose_values_do_not_decode_is_quarantined_and_the_rest_written(mariadb, tmp_path):
    # schema drift: the index table's price became text; one value is not a number
    mariadb.query("create database if not exists das_nse; create table das_nse.NIFTY (`timestamp` datetime, "
                  "`price` varchar(20), unique key (`timestamp`)); insert into das_nse.NIFTY values "
                  "('2025-11-04 09:15:00', '25000.50'), ('2025-11-04 09:15:01', 'n/a'), ('2025-11-04 09:15:02', '25001')")
    t = run_ingest([mariadb.url], tmp_path).totals()
    assert (t["source_rows"], t["written"], t["quarantined"]) == (3, 2, 1)
    db = connect(tmp_path)
    assert db.sql("select reason, position, raw from quarantine").fetchall() == [
        (R_BAD_ROW, "row 1 after mark None", '{"timestamp":"2025-11-04T09:15:01+05:30","price":"n/a"}')]
    assert db.sql("select price from spot_ticks order by ts").fetchall() == [(25000.5,), (25001.0,)]
    # each table's connection went back to the pool usable: the nightly run finds nothing new
    assert run_ingest([mariadb.url], tmp_path).totals()["source_rows"] == 0
