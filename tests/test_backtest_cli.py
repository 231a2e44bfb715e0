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


def test_broker_queue_and_stress_options_of_a_run_are_applied_stored_and_printed(scratch):
    """--broker rs20 charges Rs 20 an order (the stored config names the broker and the queue);
    --stress-jumps prints the stressed P&L beside the plain one; an unknown broker is refused."""
    r = tl(scratch, "backtest", "--strategy", "micro_ema_flip", "--underlying", "NIFTY", "--broker", "rs20",
           "--queue", "prob", "--stress-jumps", "2", "--stress-seed", "3")
    assert r.returncode == 0, r.stderr
    run_id = r.stdout.split()[0]
    assert "execution: broker rs20 (Rs 20/order); queue prob (power, n=3.0)" in r.stdout
    assert "stress (2 jumps of 0.6 % a day, seed 3):" in r.stdout and "(plain " in r.stdout
    con = connect(scratch)
    config, = con.sql("select config from backtest_runs where run_id = ?", params=[run_id]).fetchall()[0]
    assert '"broker": "rs20"' in config and '"model": "prob"' in config
    legs, brokerage = con.sql("""select count(*), min(fees) from trade_legs where run_id = ?""",
                              params=[run_id]).fetchall()[0]
    assert legs > 0 and brokerage >= 40.0          # two orders a round trip at Rs 20 each
    bad = tl(scratch, "backtest", "--strategy", "micro_ema_flip", "--broker", "dhan")
    assert bad.returncode != 0 and "unknown broker 'dhan'" in bad.stderr
