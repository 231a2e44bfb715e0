"""Sweeps on worker processes: a sweep killed with SIGKILL midway resumes without recomputing a
finished (config, day), and what it stores is byte for byte what one process (run_many) stores."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from backtest.run import available_days, run_many
from warehouse.catalog import connect

SWEEP = ["--strategy", "micro_ema_flip", "--underlying", "NIFTY", "--sweep", "exits.target=1.5,2,2.5,3",
         "--sweep", "exits.stop=1,2", "--workers", "2", "--write"]
CONFIGS = 8


def cli(root, *args):
    return [sys.executable, "-m", "orchestration.cli", "--warehouse", str(root), *args]


@pytest.fixture(scope="module")
def scratch(landed, tmp_path_factory):
    _, root, _ = landed
    copy = tmp_path_factory.mktemp("psweep") / "wh"
    # without the shared warehouse's own sweep checkpoints (other tests' sweeps leave theirs)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".dagster", "sweeps"))
    return copy


def markers(root):
    """Finished (config, day) checkpoints of the warehouse's sweeps: path -> mtime_ns."""
    return {p: p.stat().st_mtime_ns for p in (root / "backtests" / "sweeps").glob("*/c*/*.json")}


def stored_bytes(root, run_ids):
    """The bytes of every trade_legs/trade_events file of the runs, and their backtest_runs rows
    (without created_at, the one column that is a clock)."""
    files = {p.relative_to(root): p.read_bytes() for table in ("trade_legs", "trade_events")
             for r in run_ids for p in sorted((root / "backtests" / table / f"run_id={r}").rglob("*"))
             if p.is_file()}
    rows = connect(root).sql(f"select * exclude (created_at) from backtest_runs where run_id in "
                             f"({', '.join(repr(r) for r in run_ids)}) order by run_id").fetchall()
    return files, json.dumps(rows, default=str)


def test_a_killed_sweep_resumes_without_redoing_finished_pairs_and_stores_what_one_process_stores(scratch):
    days = available_days(scratch, "NIFTY", None, None)
    total = CONFIGS * len(days)
    killed = subprocess.Popen(cli(scratch, "backtest", *SWEEP, "--quiet"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 300
    while not markers(scratch) and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(killed.pid, signal.SIGKILL)            # the command and its worker processes, as Ctrl-\ would
    killed.wait()
    before = markers(scratch)
    assert 0 < len(before) < total, f"{len(before)} of {total} finished when killed: not midway"

    r = subprocess.run(cli(scratch, "backtest", *SWEEP), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    after = markers(scratch)
    assert len(after) == total
    assert {p: after[p] for p in before} == before                 # finished pairs were not written again
    (run_dir,) = {p.parent.parent for p in after}
    last = json.loads((run_dir / "last_run.json").read_text())
    assert (last["reused"], last["computed"]) == (len(before), total - len(before))
    assert len({c["pid"] for c in last["chunks"]}) == 2            # two worker processes ran the chunks
    assert f"sweep micro_ema_flip NIFTY: {total - len(before)}/{total - len(before)} config-days" in r.stderr
    assert "config-days/s" in r.stderr

    run_ids = json.loads((run_dir / "sweep.json").read_text())["runs"]
    assert len(set(run_ids)) == CONFIGS and all(x in r.stdout for x in run_ids)
    parallel = stored_bytes(scratch, run_ids)
    assert len(parallel[0]) >= 2 * CONFIGS * len(days)

    # one process over the same configs rewrites the same partitions: the same bytes
    from backtest.strategies import get
    from backtest.sweep import grid
    from backtest.config import apply_overrides
    import copy

    s = get("micro_ema_flip")
    jobs = [(s, apply_overrides(copy.deepcopy(s.default()), o))
            for o in grid("exits.target=1.5,2,2.5,3", "exits.stop=1,2")]
    single = run_many(scratch, jobs, "NIFTY", days, write=True)
    assert [x.run_id for x in single] == run_ids
    assert stored_bytes(scratch, run_ids) == parallel

    q = subprocess.run(cli(scratch, "backtest", *SWEEP, "--quiet"), capture_output=True, text=True)
    assert q.returncode == 0 and q.stderr == ""                     # --quiet: no progress; all from checkpoints
    assert json.loads((run_dir / "last_run.json").read_text())["computed"] == 0


def test_parallel_runs_in_memory_are_run_manys_whatever_the_chunking_and_after_a_resume(scratch, tmp_path):
    """run_parallel's RunResults (ids, metrics, legs, events, timings' cells) equal run_many's with
    events off (the CLI's unstored sweep: ids must name an events-free run, as run_many's do), on
    two processes with a chunk per config, and again when every (config, day) is reused."""
    import copy
    import math

    from backtest.config import apply_overrides
    from backtest.parallel import CheckpointedRun, count_checkpoints, run_parallel
    from backtest.strategies import get
    from backtest.sweep import grid

    days = available_days(scratch, "NIFTY", None, None)
    s = get("micro_ema_flip")
    jobs = [(s, apply_overrides(copy.deepcopy(s.default()), o)) for o in grid("exits.target=1.5,3", "exits.stop=1")]
    single = run_many(scratch, jobs, "NIFTY", days, log_events=False, write=False)
    assert sum(r.legs.num_rows for r in single) > 0

    def same(runs):
        assert all(isinstance(r, CheckpointedRun) for r in runs)
        assert [r.run_id for r in runs] == [r.run_id for r in single]
        for p, o in zip(runs, single):
            assert json.dumps(p.metrics, sort_keys=True) == json.dumps(o.metrics, sort_keys=True)
            assert p.legs.equals(o.legs, check_metadata=True) and p.events.equals(o.events, check_metadata=True)
            assert (p.strategy, p.days, p.stored, p.contract_seconds) == (o.strategy, o.days, o.stored,
                                                                          o.contract_seconds)
            assert p.engine_s > 0 and not math.isnan(p.metrics["net_pnl"])

    ckpt = tmp_path / "ckpt"
    same(run_parallel(scratch, jobs, "NIFTY", days, workers=2, chunk_configs=1, log_events=False, checkpoints=ckpt))
    first = json.loads((ckpt / "last_run.json").read_text())
    assert (first["computed"], first["reused"]) == (len(jobs) * len(days), 0)
    assert {"engine", "finish", "task"} <= set(first["chunks"][0]["phases"])
    seen = {}               # the progress poll's count: finished configs remembered, not listed again
    assert count_checkpoints(ckpt, seen, len(days)) == count_checkpoints(ckpt) == len(jobs) * len(days)
    assert sorted(seen) == [f"c{i:05d}" for i in range(len(jobs))]
    assert count_checkpoints(ckpt, seen, len(days)) == len(jobs) * len(days)
    same(run_parallel(scratch, jobs, "NIFTY", days, workers=1, log_events=False, checkpoints=ckpt))
    again = json.loads((ckpt / "last_run.json").read_text())
    assert (again["computed"], again["reused"]) == (0, len(jobs) * len(days))
