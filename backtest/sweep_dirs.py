"""Sweep checkpoint directories (`<warehouse>/backtests/sweeps/<sweep id>/`, backtest.parallel): the
lock a running sweep holds, and their collection by `ticklake gc`.

A sweep keeps its checkpoints after it finishes (a rerun is instant), so they pile up. `collect()`
removes the directories nothing has written to for a while (or all of them), never one in use:
- every sweep started through backtest.sweep holds a shared lock (flock) on `<sweeps>/.lock` while it
  runs; gc takes it exclusively without waiting, and when it cannot (a sweep is running) removes
  nothing. While gc holds it, a sweep that starts waits for gc to finish rather than resuming into a
  directory being deleted;
- a caller of backtest.parallel.run_parallel that does not take the lock (a benchmark, a parent on
  another machine of a shared file system) writes a checkpoint every (config, day): a directory with
  a file written in the last IDLE_S seconds is kept whatever the options say.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from backtest.parallel import SWEEPS_DIR

IDLE_S = 600.0              # a directory written to more recently than this may be in use: always kept
LOCK_NAME = ".lock"


def sweeps_dir(root) -> Path:
    return Path(root) / SWEEPS_DIR


@contextlib.contextmanager
def sweeps_in_use(root):
    """Held (shared) by a running sweep: gc removes nothing meanwhile (an object-store warehouse
    has no local file to lock: nothing is held)."""
    from warehouse.store import is_remote

    if is_remote(root):
        yield
        return
    base = sweeps_dir(root)
    base.mkdir(parents=True, exist_ok=True)
    with open(base / LOCK_NAME, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def _exclusive(base: Path):
    """Yields True holding the lock exclusively, False when a sweep holds it (never waits)."""
    base.mkdir(parents=True, exist_ok=True)
    with open(base / LOCK_NAME, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def sweep_running(root) -> bool:
    """Does a sweep hold the lock now?"""
    with _exclusive(sweeps_dir(root)) as got:
        return not got


@dataclass(frozen=True)
class SweepDir:
    path: Path
    files: int
    bytes: int
    newest: float            # the mtime of its newest file (of the directory itself when empty)


def sweep_dirs(root) -> list[SweepDir]:
    """Every sweep checkpoint directory of the warehouse, by name."""
    base = sweeps_dir(root)
    out = []
    for d in sorted(p for p in base.iterdir() if p.is_dir()) if base.exists() else []:
        files, size, newest = 0, 0, None
        for dirpath, _, names in os.walk(d):
            for n in names:
                try:
                    st = os.stat(os.path.join(dirpath, n))
                except FileNotFoundError:      # a writer's temporary file renamed meanwhile
                    continue
                files, size, newest = files + 1, size + st.st_size, max(newest or 0.0, st.st_mtime)
        out.append(SweepDir(d, files, size, d.stat().st_mtime if newest is None else newest))
    return out


@dataclass
class Collected:
    removed: list[SweepDir]                  # removed (with dry_run: would be)
    kept: list[tuple[SweepDir, str]]         # and why
    running: bool                            # a sweep held the lock: nothing removed


def collect(root, older_than_s: float | None, dry_run: bool = False, now: float | None = None,
            idle_s: float = IDLE_S) -> Collected:
    """Remove the sweep directories whose newest file is older than `older_than_s` seconds (None:
    every one), except those written in the last `idle_s` seconds; nothing when a sweep is running."""
    now = time.time() if now is None else now
    base = sweeps_dir(root)
    if not base.exists():
        return Collected([], [], False)
    with _exclusive(base) as got:
        found = sweep_dirs(root)
        if not got:
            return Collected([], [(d, "a sweep is running") for d in found], True)
        removed, kept = [], []
        for d in found:
            age = now - d.newest
            if age < idle_s:
                kept.append((d, f"written {age:.0f} s ago (may be in use)"))
            elif older_than_s is not None and age < older_than_s:
                kept.append((d, f"written {age / 86400:.1f} days ago"))
            else:
                if not dry_run:
                    shutil.rmtree(d.path)
                removed.append(d)
        return Collected(removed, kept, False)
