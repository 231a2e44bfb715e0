"""Counts survive crashes, reruns and re-ingests: after a kill at any point, a rerun, a re-ingest of
the same content (under any path) or an overlapping source, the ledger holds one reconciled entry
per source and partition, sum(written) equals the rows stored, and no quarantine row is doubled."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from generator.config import GeneratorConfig
from generator.driver import generate
from ingest.pipeline import run_ingest
from warehouse.catalog import connect
from warehouse.files import CRASH_ENV

CONTENT = """select 'o' t, md5(string_agg(concat_ws('|', symbol, ts, price, volume, vol_delta, bid_px0, ask_qty4), ','
                 order by symbol, ts)) from options_ticks
             union all select 's', md5(string_agg(concat_ws('|', underlying, ts, price), ',' order by underlying, ts))
                 from spot_ticks
             union all select 'f', md5(string_agg(concat_ws('|', symbol, ts, price), ',' order by symbol, ts))
                 from futures_ticks order by 1"""
LEDGER = """select source, target, partition, source_rows, written, deduped, quarantined, repaired
            from ingest_runs order by all"""
TOTALS = "select sum(source_rows), sum(written), sum(deduped), sum(quarantined), sum(repaired) from ingest_runs"


def q(root: Path, sql: str):
    return connect(root).sql(sql).fetchall()


def cli(root: Path, *args: str, env: dict | None = None, quiet: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "orchestration.cli", *(["-q"] if quiet else []), "--warehouse", str(root), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """The day the issue was found with: 266,911 option rows with every row-level quirk (a placed
    1970 row, one that cannot be placed, duplicate seconds, pre-open and post-close rows)."""
    out = tmp_path_factory.mktemp("archive")
    generate(GeneratorConfig(out=out, days=1, strikes=1, seed=5, underlyings=("NIFTY",)))
    return out


def files_of(archive: Path) -> list[str]:
    return sorted(str(p) for p in (archive / "sqldump").glob("*.sql.gz"))


@pytest.fixture(scope="module")
def reference(archive, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("reference")
    run_ingest(files_of(archive), root)
    return root


def ledger_is_whole(root: Path, archive: Path, reference: Path) -> None:
    """The warehouse after any crash and rerun holds what one clean run writes, and its ledger
    reconciles: one entry per source and partition, rows per file as the generator wrote them."""
    assert q(root, CONTENT) == q(reference, CONTENT)
    assert q(root, "select source, target, partition from ingest_runs group by all having count(*) > 1") == []
    assert q(root, "select count(*) from ingest_runs where source_rows != written + deduped + quarantined")[0][0] == 0
    per_file = dict(q(root, "select regexp_extract(source, '[^/]+$'), sum(source_rows) from ingest_runs group by 1"))
    manifest = json.loads((archive / "manifest.json").read_text())
    assert per_file == {name.rsplit("/", 1)[-1]: f["source_rows"] for name, f in manifest["files"].items()}
    stored = sum(q(root, f"select count(*) from {t}")[0][0] for t in ("options_ticks", "spot_ticks", "futures_ticks"))
    assert q(root, "select sum(written) from ingest_runs")[0][0] == stored
    assert q(root, "select source, position, reason from quarantine group by all having count(*) > 1") == []
    assert q(root, TOTALS) == q(reference, TOTALS)
    assert q(root, "select count(*) from quarantine") == q(reference, "select count(*) from quarantine")
    assert not (root / "_pending").exists(), sorted(p.name for p in (root / "_pending").rglob("*"))
    assert not list(root.rglob("*.tmp"))


def test_the_rerun_after_a_kill_once_a_stage_committed_does_not_count_twice(archive, reference, tmp_path):
    """The issue's case: SIGKILL (as the OOM killer sends) right after the first stage committed."""
    root = tmp_path / "w"
    proc = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "-q", "--warehouse", str(root), "ingest",
                             *files_of(archive)[::-1]])      # the big file second: time to kill in between
    markers = root / "_pending" / "_committed"
    deadline = time.time() + 120
    while not (markers.exists() and any(markers.iterdir())) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert cli(root, "ingest", *files_of(archive)).returncode == 0
    ledger_is_whole(root, archive, reference)


CRASH_POINTS = ["stage-flushed", "stage-committed", "stage-committed#2", "run-staged",
                "finalize-quarantine-written", "finalize-data-written", "finalize-ledger-written",
                "consume-started", "finalize-consumed#3"]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_kill_at_any_point_then_a_rerun_leaves_one_reconciled_ledger(point, archive, reference, tmp_path):
    root = tmp_path / "w"
    killed = cli(root, "ingest", *files_of(archive), env={CRASH_ENV: point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    rerun = cli(root, "ingest", *files_of(archive))
    assert rerun.returncode == 0, rerun.stderr
    ledger_is_whole(root, archive, reference)


def test_a_worker_killed_while_staging_fails_the_run_and_the_rerun_is_whole(archive, reference, tmp_path):
    root = tmp_path / "w"
    killed = cli(root, "ingest", "--workers", "2", *files_of(archive), env={CRASH_ENV: "stage-flushed"})
    assert killed.returncode == 1 and "BrokenProcessPool" in killed.stderr, killed.stderr
    assert cli(root, "ingest", "--workers", "2", *files_of(archive)).returncode == 0
    ledger_is_whole(root, archive, reference)


def test_the_same_content_is_recognised_under_any_path_and_never_counted_twice(archive, reference, tmp_path):
    root = tmp_path / "w"
    files = files_of(archive)
    assert cli(root, "ingest", *files).returncode == 0
    ledger = q(root, LEDGER)
    quarantine = q(root, "select * from quarantine order by all")
    again = cli(root, "ingest", *files, quiet=False)
    assert again.returncode == 0
    assert again.stdout.count("same content as") == 2 and "already ingested" in again.stdout
    copy = tmp_path / "downloads" / Path(files[0]).name
    copy.parent.mkdir()
    shutil.copy(files[0], copy)
    moved = cli(root, "ingest", str(copy), quiet=False)
    assert f"skipped {copy}: same content as {files[0]}" in moved.stdout
    assert q(root, LEDGER) == ledger and q(root, "select * from quarantine order by all") == quarantine
    # read again on purpose: its entries are replaced, its placed 1970 row is still placed
    assert cli(root, "ingest", "--reingest", str(copy)).returncode == 0
    moved_ledger = [(str(copy) if s == files[0] else s, *rest) for s, *rest in ledger]
    assert q(root, LEDGER) == sorted(moved_ledger)
    assert q(root, TOTALS) == q(reference, TOTALS) and q(root, TOTALS)[0][4] == 1
    assert q(root, CONTENT) == q(reference, CONTENT)


def spot_dump(path: Path, seconds: range, price: int) -> str:
    rows = ",".join(f"('2025-11-04 09:{15 + s // 60:02d}:{s % 60:02d}',{price + s}.00)" for s in seconds)
    path.write_text(f"USE `das_nse`;\nREPLACE INTO `NIFTY` VALUES {rows};\n")
    return str(path)


def test_a_later_overlapping_source_moves_rows_between_entries_and_written_stays_the_rows_stored(tmp_path):
    a = spot_dump(tmp_path / "a.sql", range(0, 100), 25000)
    b = spot_dump(tmp_path / "b.sql", range(60, 110), 26000)     # 40 seconds of a's, 10 new
    root = tmp_path / "w"
    run_ingest([a], root)
    run_ingest([b], root)
    ledger = "select source, source_rows, written, deduped, quarantined from ingest_runs order by 1"
    assert q(root, ledger) == [(a, 100, 60, 40, 0), (b, 50, 50, 0, 0)]
    assert q(root, "select count(*), sum(price) from spot_ticks") == [
        (110, sum(25000 + s for s in range(60)) + sum(26000 + s for s in range(60, 110)))]
    run_ingest([a], root, reingest=True)                        # read last now: its prices win again
    assert q(root, ledger) == [(a, 100, 100, 0, 0), (b, 50, 10, 40, 0)]
    assert q(root, "select count(*) from spot_ticks")[0][0] == q(root, "select sum(written) from ingest_runs")[0][0]


def test_workers_die_with_the_ingest_process_and_commit_nothing_after_it(tmp_path):
    src = tmp_path / "src"
    generate(GeneratorConfig(out=src, days=1, strikes=3, seed=8, quirks=False))
    root = tmp_path / "w"
    proc = subprocess.Popen([sys.executable, "-m", "orchestration.cli", "-q", "--warehouse", str(root), "ingest",
                             "--workers", "2", *sorted(str(p) for p in (src / "sqldump").glob("*opt*.sql.gz"))])
    parent = psutil.Process(proc.pid)
    deadline = time.time() + 120
    workers: list[psutil.Process] = []
    while time.time() < deadline and proc.poll() is None:      # both workers busy staging
        workers = [c for c in parent.children() if c.cpu_times().user > 0.5]
        if len(workers) == 2:
            break
        time.sleep(0.05)
    assert len(workers) == 2, "the workers never got busy"
    markers = root / "_pending" / "_committed"
    before = set(os.listdir(markers)) if markers.exists() else set()
    proc.send_signal(signal.SIGKILL)                             # what the OOM killer does
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=3)
    alive = [w for w in alive if w.status() != psutil.STATUS_ZOMBIE]
    for w in alive:
        w.kill()
    assert alive == []
    time.sleep(1)
    assert (set(os.listdir(markers)) if markers.exists() else set()) == before


def test_worker_processes_report_progress_while_they_stage(archive, tmp_path):
    seen: list[dict] = []
    run_ingest(files_of(archive), tmp_path / "w", workers=2, progress=seen.append)
    during = [p for p in seen if p.get("files_done") == 0 and p.get("rows", 0) > 0]
    assert during and all(p["files_total"] == 2 and p["total_bytes"] > 0 for p in during)
    assert {p["source"] for p in during} <= set(files_of(archive))
    final = [p for p in seen if "files_done" in p][-1]
    assert final["files_done"] == 2 and final["bytes"] == final["total_bytes"]
    assert final["rows"] == sum(json.loads((archive / "manifest.json").read_text())["tables"].values())


def test_a_warehouse_with_the_per_run_ledger_layout_is_migrated_and_counted_once(tmp_path):
    """Warehouses written before this ledger kept one ledger and quarantine file per run (a source
    ingested twice counted twice) and no source per stored row: their files are merged into one
    entry per source and partition, and a later overlapping source is counted against them."""
    import pyarrow.parquet as pq

    from warehouse.layout import partition_dir
    from warehouse.writer import PartitionManifest, read_manifest, read_partition, write_partition
    from warehouse import schema as S

    a = spot_dump(tmp_path / "a.sql", range(0, 100), 25000)
    Path(a).write_text(Path(a).read_text() + "REPLACE INTO `NIFTY` VALUES ('2025-11-04 09:17:00',x);\n")
    root = tmp_path / "w"
    run_ingest([a], root)
    ledger = "select source, target, source_rows, written, deduped, quarantined from ingest_runs order by all"
    assert q(root, ledger) == [(a, "options", 1, 0, 0, 1), (a, "spot", 100, 100, 0, 0)]
    for table in ("ingest_runs", "quarantine"):          # back to the old layout, written by two runs
        for part in sorted((root / table).glob("part=*")):
            for run in ("ingest-old1", "ingest-old2"):
                old = root / table / f"run_id={run}" / part.name
                old.mkdir(parents=True)
                pq.write_table(pq.read_table(part / "part-0.parquet"), old / "part-0.parquet")
            shutil.rmtree(part)
    keys = {"underlying": "NIFTY", "date": "2025-11-04"}
    manifest = read_manifest(partition_dir(root, "spot", keys))
    write_partition(root, "spot", keys, read_partition(root, "spot", keys), S.SPOT_TICKS,
                    PartitionManifest(**{k: v for k, v in manifest.items() if k != "extra"}))   # no row sources
    b = spot_dump(tmp_path / "b.sql", range(60, 110), 26000)
    run_ingest([b], root)
    assert not list((root / "ingest_runs").glob("run_id=*")) and not list((root / "quarantine").glob("run_id=*"))
    assert q(root, ledger) == [(a, "options", 1, 0, 0, 1), (a, "spot", 100, 60, 40, 0), (b, "spot", 50, 50, 0, 0)]
    assert q(root, "select count(*), count(distinct position) from quarantine") == [(1, 1)]
    assert q(root, "select count(*) from spot_ticks")[0][0] == q(root, "select sum(written) from ingest_runs")[0][0]
