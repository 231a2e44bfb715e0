"""`ticklake demo` as a user runs it (the smallest archive): it ends with exit 0, the stage timings,
where everything is (and it is there) and what to run next; every runnable strategy of the catalogue
ran, was audited without an error finding and is on the leaderboard; `--full` and the size options
are wired."""
import os
import re
import subprocess
import sys

from backtest.strategies.cards import cards
from orchestration.demo import DEFAULT, FULL, demo_size


def test_the_demo_sizes():
    assert demo_size(False, None, None) == DEFAULT == (2, 2)
    assert demo_size(True, None, None) == FULL == (3, 5)
    assert demo_size(True, 1, 0) == (1, 0) and demo_size(False, 4, None) == (4, 2)


def test_a_small_demo_runs_end_to_end_and_says_where_everything_is(tmp_path):
    root = tmp_path / "wh"          # not ./warehouse: the next commands must name it
    env = {**os.environ, "TICKLAKE_WAREHOUSE": str(root)}
    env.pop("TICKLAKE_LANDING", None)
    r = subprocess.run([sys.executable, "-m", "orchestration.cli", "demo", "--out", str(tmp_path / "demo"), "--days", "1",
                        "--strikes", "0"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    stages = re.findall(r"^  (\w+(?: docs)?)\s+[\d.]+s\s+[\d.]+%\s+[\d.]+s$", out, re.M)
    assert stages == ["generate", "ingest", "gaps", "quality", "features", "backtests", "catalogue", "audits",
                      "leaderboard", "data docs", "summary"]
    where = dict(re.findall(r"^  (source archive|warehouse|backtest report|leaderboard|data quality|Dagster runs)"
                            r"\s+(\S+?)/?(?:\s|$)", out, re.M))
    assert len(where) == 6, out[-2000:]
    assert all(os.path.exists(p) for p in where.values()), where
    assert os.path.exists(os.path.join(where["source archive"], "sqldump", "das_nse_mod.sql.gz"))
    assert f"TICKLAKE_WAREHOUSE={root} " in out and " ui " in out and "sql \"select" in out
    assert "demo --full" not in out           # a sized demo does not advertise the bigger one
    # the whole catalogue: every strategy a card runs, each day read once, every run audited clean
    runnable = sorted(n for c in cards() if c.status == "runs" for n in c.strategies)
    assert len(runnable) >= 54
    assert re.search(rf"^catalogue: {len(runnable)} strategies run over 1 day, each day read once .*leaderboard "
                     rf"{re.escape(where['leaderboard'])}$", out, re.M), out[-3000:]
    # every quality expectation holds, the trades' own too (slippage once sold options below the tick)
    assert re.search(r"^quality: \d+ batches validated, 0 failed expectations$", out, re.M), out[-3000:]
    audit = re.search(r"^audit: (\d+) runs, (\d+) trade legs replayed independently, (\d+) error findings$", out, re.M)
    assert audit and int(audit[1]) >= 2 * len(runnable) and audit[3] == "0", out[-3000:]
    board = open(where["leaderboard"]).read()
    assert sorted(set(re.findall(r"<a href='(\w+)\.html'>", board))) == runnable
    assert all(os.path.exists(os.path.join(os.path.dirname(where["leaderboard"]), f"{n}.html")) for n in runnable)
    # the guarded straddle and its variants 2A-2D ran, and one report puts them side by side
    family = re.search(r"^  guarded family\s+(\S+)", out, re.M)
    assert family and os.path.exists(family[1]), out[-2000:]
    html = open(family[1]).read()
    names = ("guarded_straddle", "guarded_strangle_2a", "guarded_hedged_2b", "guarded_delta_flat_2c", "guarded_ladder_2d")
    assert all(n in html for n in names)
    assert "dynamic_theta_straddle" not in html and "micro_ema_flip" not in html
