"""`ticklake gc` and sweep checkpoint directories: those not written for a week (or all with
--all-sweeps) are deleted, a dry run lists them, one written in the last ten minutes is kept, and
nothing is deleted while a sweep holds the lock (a real second process)."""
import os
import subprocess
import sys
import time

from backtest.parallel import SWEEPS_DIR
from orchestration.cli import main

DAY = 86400.0


def _sweep(root, name: str, age_s: float, files: int = 3) -> None:
    d = root / SWEEPS_DIR / name / "c00000"
    d.mkdir(parents=True)
    when = time.time() - age_s
    for k in range(files):
        p = d / f"2025-11-0{k + 3}.json"
        p.write_text("x" * 1000)
        os.utime(p, (when, when))
    (root / SWEEPS_DIR / name / "sweep.json").write_text("{}")
    os.utime(root / SWEEPS_DIR / name / "sweep.json", (when - 60, when - 60))   # the newest file counts


def _left(root) -> list[str]:
    return sorted(p.name for p in (root / SWEEPS_DIR).iterdir() if p.is_dir())


def test_gc_deletes_sweep_checkpoints_by_age_or_all_never_one_in_use(tmp_path, capsys):
    root = tmp_path / "wh"
    _sweep(root, "old10days", 10 * DAY)
    _sweep(root, "old3days", 3 * DAY)
    _sweep(root, "justnow", 120.0)
    gc = ["gc", "--warehouse", str(root)]

    assert main([*gc, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "gc: would remove sweep old10days  4 files  0.0 MB  last written " in out
    assert "sweeps not written for 7 days): would remove 1 directories, 0.0 MB; kept 2" in out
    assert "keep sweep old3days: written 3.0 days ago" in out and "keep sweep justnow: written 120 s ago" in out
    assert _left(root) == ["justnow", "old10days", "old3days"]

    assert main(gc) == 0
    assert "removed 1 directories" in capsys.readouterr().out
    assert _left(root) == ["justnow", "old3days"]
    assert main([*gc, "--sweeps-older-than", "2"]) == 0 and _left(root) == ["justnow"]

    # a running sweep (another process holding the lock a sweep takes): nothing is removed
    _sweep(root, "old20days", 20 * DAY)
    holder = subprocess.Popen([sys.executable, "-c", "import sys; from backtest.sweep_dirs import sweeps_in_use\n"
                               f"with sweeps_in_use({str(root)!r}):\n    print('held', flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main([*gc, "--all-sweeps"]) == 0
        assert "a sweep is running: no sweep checkpoints removed (2 directories)" in capsys.readouterr().err
        assert _left(root) == ["justnow", "old20days"]
    finally:
        holder.communicate("")
    # once it is done: every directory but the one written two minutes ago
    assert main([*gc, "--all-sweeps"]) == 0
    assert "(all sweeps): removed 1 directories" in capsys.readouterr().out
    assert _left(root) == ["justnow"]
