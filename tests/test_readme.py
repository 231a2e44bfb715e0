"""The README's "Using it" block, run as written, top to bottom, in a fresh directory with no
warehouse and no landing folder (only `.venv` and `examples/` linked from the clone): each command
through bash, exit code 0, and the rows each step must leave, counted independently of ticklake.

Substituted, because they must be: the recorder URL (the test's MariaDB, loaded with the same
generated day), RUN_ID/TRADE_ID (from the query before), the UI's port (the machine is shared).
"""
from __future__ import annotations

import collections
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from backtest.strategies import DAILY

ROOT = Path(__file__).resolve().parents[1]
README_URL = "mysql+pymysql://user@127.0.0.1:3306"


def blocks(section: str, lang: str) -> list[str]:
    """The fenced `lang` code blocks of one README section."""
    text = (ROOT / "README.md").read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{lang}\n(.*?)```", body, re.S)


def commands() -> list[str]:
    return [ln for ln in blocks("Using it", "sh")[0].splitlines() if ln.strip()]


def table(root: Path, name: str):
    """Every stored row of a warehouse table, read with pyarrow (not through ticklake's catalog)."""
    from warehouse.layout import table_dir

    return ds.dataset(table_dir(root, name), format="parquet").to_table()


def by_file(root: Path) -> dict[str, int]:
    """source_rows per source file name (or db.table) from the stored ingest_runs."""
    runs = table(root, "ingest_runs")
    out = collections.Counter()
    for source, n in zip(runs["source"].to_pylist(), runs["source_rows"].to_pylist()):
        out[Path(source).name] += n
    return out


def test_the_readme_block_is_what_this_test_runs():
    cmds = commands()
    assert all(c.startswith(".venv/bin/ticklake ") for c in cmds)
    assert [shlex.split(c, comments=True)[1] for c in cmds] == [
        "generate", "ingest", "ingest", "ingest", "materialize", "materialize", "quality", "backtest", "backtest",
        "strategies", "backtest", "audit", "report", "report", "sql", "sql", "trade-chart", "ui"]
    assert "'2025-11-03|NIFTY'" in blocks("Using it", "sh")[0]        # quoted: | is a shell pipe


@pytest.mark.mariadb
def test_the_readme_runs_as_written_on_a_fresh_directory(tmp_path, mariadb):
    work = tmp_path / "clone"
    work.mkdir()
    (work / ".venv").symlink_to(ROOT / ".venv")
    (work / "examples").symlink_to(ROOT / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TICKLAKE_", "DAGSTER_"))}
    cmds = commands()

    # the recorder's database, holding the same generated day as the README's dumps
    generate = shlex.split(cmds[0], comments=True)
    opts = generate[2:generate.index("--formats")]
    opts[opts.index("--out") + 1] = str(tmp_path / "db-src")
    loaded = subprocess.run([str(ROOT / ".venv/bin/ticklake"), "-q", "generate", *opts, "--formats", "mariadb",
                             "--mariadb", mariadb.url], cwd=work, env=env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    db_rows = sum(json.loads((tmp_path / "db-src/manifest.json").read_text())["unique_rows"].values())

    root = work / "warehouse"
    outputs = []
    for i, line in enumerate(cmds):
        cmd = line.replace(README_URL, mariadb.url)
        if "trade-chart" in cmd:
            run_id, trade_id = outputs[-1].splitlines()[1].split(",")
            cmd = cmd.replace("RUN_ID", run_id).replace("TRADE_ID", trade_id)
        if re.search(r"ticklake ui\b", cmd):
            check_ui(cmd, work, env)
            continue
        r = subprocess.run(["bash", "-c", cmd], cwd=work, env=env, capture_output=True, text=True)
        assert r.returncode == 0, f"{line}\n{r.stdout}\n{r.stderr}"
        outputs.append(r.stdout)
        check_step(i, cmd, r.stdout, work, root, db_rows)

    # the README's Python block: catalog.duckdb opened directly, in IST
    (snippet,) = blocks("Using it", "python")
    r = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", snippet], cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    hours = table(root, "spot")["ts"]
    first_hour = pc.sum(pc.equal(pc.hour(hours), 9)).as_py()     # pyarrow's hour() of an IST-zoned column
    assert r.stdout.splitlines()[0].startswith(f"[(9, {first_hour}), (10, 3600)")
    assert "size-weighted touch" in r.stdout.splitlines()[1]


def check_step(i: int, cmd: str, out: str, work: Path, root: Path, db_rows: int) -> None:
    """What each README line must leave behind."""
    manifest = json.loads((work / "src/manifest.json").read_text()) if (work / "src/manifest.json").exists() else {}
    # the generator writes one subfolder per format; ingest_runs names each file by its path
    files = {Path(name).name: f["source_rows"] for name, f in manifest.get("files", {}).items()}
    verb = shlex.split(cmd, comments=True)[1]
    if verb == "generate":
        assert {"das_niftyopt_mod.sql.gz", "das_nse_mod.sql.gz", "BTCUSDT-aggTrades-2025-11-03.csv"} <= set(files)
    elif verb == "ingest" and ".sql.gz" in cmd:
        got = by_file(root)
        assert {n: got[n] for n in files if n.endswith(".sql.gz")} == {n: v for n, v in files.items() if n.endswith(".sql.gz")}
        runs = table(root, "ingest_runs").filter(pc.equal(table(root, "ingest_runs")["target"], "options"))
        assert table(root, "options").num_rows == pc.sum(runs["written"]).as_py() > 0
    elif verb == "ingest" and ".csv" in cmd:
        got = by_file(root)
        json_files = [n for n in files if n.endswith(".txt") and n != "NFO_symbols.txt"]
        assert json_files and {n: got[n] for n in json_files} == {n: files[n] for n in json_files}
        assert table(root, "crypto").num_rows == files["BTCUSDT-aggTrades-2025-11-03.csv"]
    elif verb == "ingest":
        got = by_file(root)
        assert sum(n for source, n in got.items() if not source.endswith((".sql", ".sql.gz", ".txt", ".csv"))) == db_rows
        runs = table(root, "ingest_runs")
        accounted = pc.add(pc.add(runs["written"], runs["deduped"]), runs["quarantined"])
        assert pc.all(pc.equal(runs["source_rows"], accounted)).as_py()
    elif verb == "materialize" and "--partition" not in cmd:
        # the README's archive is NIFTY only: BANKNIFTY's day is built too, as a missing day (its gaps say so)
        for group in ("gaps", "quality", "features", "backtests"):
            assert f"{group}: 2 partitions" in out, out
        assert table(root, "gaps").filter(pc.equal(table(root, "gaps")["underlying"], "BANKNIFTY"))["kind"].to_pylist() \
            == ["missing_day"]
        assert table(root, "features_options").num_rows == table(root, "options_grid").num_rows > 0
        assert set(table(root, "backtest_runs")["strategy"].to_pylist()) == set(DAILY)   # every daily strategy
    elif verb == "materialize":
        assert "gaps: 1 partitions" in out and "features" not in out
    elif verb == "quality":
        assert "0 failed expectations" in out and Path(out.strip().splitlines()[-1]).exists()
    elif verb == "backtest" and "--config" in cmd:
        run_id = out.split()[0]
        runs = table(root, "backtest_runs").to_pylist()
        config = json.loads(next(r["config"] for r in runs if r["run_id"] == run_id))
        assert config["risk"]["qty_lots"] == 2 and config["execution"]["latency"]["seconds"] == 2   # examples/overrides.toml
    elif verb == "backtest" and "--family" in cmd:
        from backtest.strategies.cards import cards

        theta = {n for c in cards() if c.family == "theta" for n in c.strategies}
        assert theta and theta <= set(table(root, "backtest_runs")["strategy"].to_pylist())
        assert f"{len(theta)} strategies, each day read once" in out
    elif verb == "backtest":
        assert "6 combinations" in out
    elif verb == "strategies":
        assert "not_testable" in out and "micro_ema_flip" in out
    elif verb == "audit":
        findings = table(root, "audit_findings")
        assert findings.num_rows == 0 or "error" not in findings["severity"].to_pylist()
        assert f"{len(set(table(root, 'backtest_runs')['run_id'].to_pylist()))} runs audited" in out
    elif verb == "report" and "--all" in cmd:
        html = Path(out.strip()).read_text()
        assert "micro_ema_flip" in html and "theta" in html.lower()
    elif verb == "report":
        html = Path(out.strip()).read_text()
        assert "micro_ema_flip" in html and "guarded_straddle" in html
    elif verb == "sql" and "--format csv" in cmd:
        # one row per trade: its legs' net P&L summed (computed here from the stored legs, not the view)
        per_trade = table(root, "trade_legs").group_by(["run_id", "trade_id"]).aggregate([("net_pnl", "sum")])
        trades = per_trade.sort_by([("net_pnl_sum", "descending")]).slice(0, 1).to_pylist()[0]
        assert out.splitlines() == ["run_id,trade_id", f"{trades['run_id']},{trades['trade_id']}"]
    elif verb == "sql":
        counts = collections.Counter(table(root, "options")["symbol"].to_pylist()).most_common(3)
        for symbol, n in counts:
            assert re.search(rf"\| {symbol}\s+\|\s+{n} \|", out), out
    elif verb == "trade-chart":
        png = Path(out.strip())
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000


def check_ui(cmd: str, work: Path, env: dict) -> None:
    """`ticklake ui` serves the Dagster webserver (stopped again: it runs until Ctrl-C)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["bash", "-c", f"exec {cmd.split('#')[0].strip()} --port {port}"], cwd=work, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
