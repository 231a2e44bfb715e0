"""The backtest commands' messages: a reversed date range, stored and unstored sweeps."""
import shutil
import subprocess
import sys

import pytest

from warehouse.catalog import connect


def tl(root, *args):
    return subprocess.run([sys.executable, "-m", "orchestration.cli", "--warehouse", str(root), *args],
                          capture_output=True, text=True)


def test_a_start_after_the_end_is_named_as_such(tmp_path):
    r = tl(tmp_path, "backtest", "--strategy", "orb_2min", "--start", "2025-11-05", "--end", "2025-11-03")
    assert r.returncode == 2 and "--start 2025-11-05 is after --end 2025-11-03" in r.stderr
    assert "materialize" not in r.stderr


@pytest.fixture(scope="module")
def scratch(landed, tmp_path_factory):
    _, root, _ = landed
    copy = tmp_path_factory.mktemp("sweep") / "wh"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".dagster"))
    return copy


def test_a_sweep_without_write_prints_no_run_id_and_says_how_to_store(scratch):
    before = connect(scratch).sql("select count(*) from backtest_runs").fetchall()[0][0]
    r = tl(scratch, "backtest", "--strategy", "micro_ema_flip", "--underlying", "NIFTY",
           "--sweep", "exits.target=1.5,3")
    assert r.returncode == 0, r.stderr
    assert "micro_ema_flip-" not in r.stdout and "add --write to store" in r.stdout
    assert "exits.target=1.5" in r.stdout and "exits.target=3" in r.stdout
    assert connect(scratch).sql("select count(*) from backtest_runs").fetchall()[0][0] == before


def test_a_sweep_with_write_prints_the_run_ids_it_stored(scratch):
    r = tl(scratch, "backtest", "--strategy", "micro_ema_flip", "--underlying", "NIFTY",
           "--sweep", "exits.target=1.5,3", "--write")
    assert r.returncode == 0, r.stderr
    printed = {w for line in r.stdout.splitlines() for w in line.split() if w.startswith("micro_ema_flip-")}
    stored = {x for (x,) in connect(scratch).sql("select run_id from backtest_runs").fetchall()}
    assert len(printed) == 2 and printed <= stored
    assert "ticklake report RUN_ID" in r.stdout
