"""Files written whole or not at all, and checksums of files read: the one place for both.

Every file the project writes outside Parquet partitions (manifests, ledgers, watermarks, reports,
PNGs, staged Arrow fragments) goes through `atomic_write` or `atomic_path`: a temp name in the same
directory (a `.NAME.<unique>.tmp` file that readers and globs ignore), fsync, then rename. A crash
leaves the old file or the new one, never half of one; `sweep_temp_files` removes what a killed
writer left behind. Also here: the advisory lock that tells a live writer from a dead one
(`FileLock`), and the crash points the kill tests use (`crash_point`).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import uuid
from pathlib import Path
from typing import Iterator

from warehouse.store import is_remote, local_mirror


def temp_name(path: Path) -> Path:
    """A unique temp file beside `path` (same filesystem, so the rename is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


@contextlib.contextmanager
def atomic_path(path: Path, fsync: bool = True) -> Iterator[Path]:
    """Yield a temp path to write `path`'s new content to; renamed into place on success, removed
    on failure (a failed write never leaves a temp file that a rerun would trip over). On an object
    store the temp file is local and uploaded on success: one PUT, which S3 makes visible whole."""
    if is_remote(path):
        with _uploaded(path) as tmp:
            yield tmp
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _uploaded(path) -> Iterator[Path]:
    tmp = temp_name(local_mirror(path))
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield tmp
        path.fs.put_file(str(tmp), path.path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes | str, fsync: bool = True) -> Path:
    """Replace `path` with `data` atomically (text is written as UTF-8)."""
    if is_remote(path):                 # one PUT: visible whole or not at all
        path.fs.pipe_file(path.path, data.encode() if isinstance(data, str) else data)
        return path
    with atomic_path(path, fsync) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def atomic_write_json(path: Path, obj, fsync: bool = True) -> Path:
    return atomic_write(path, json.dumps(obj, sort_keys=True, indent=1, default=str), fsync)


def read_json(path: Path, default=None):
    """A JSON file's content, or `default` when the file does not exist."""
    return json.loads(path.read_text()) if path.exists() else default


def sweep_temp_files(directory: Path) -> int:
    """Remove temp files a killed writer left in `directory`; returns how many."""
    n = 0
    if is_remote(directory):            # uploads are whole objects: no temp files on the store
        return 0
    if directory.exists():
        for p in directory.glob(".*.tmp"):
            p.unlink(missing_ok=True)
            n += 1
    return n


def sweep_temp_files_under(root: Path) -> int:
    """`sweep_temp_files` for every directory below `root` (what a writer killed anywhere left)."""
    n = 0
    if is_remote(root):
        return 0
    if root.exists():
        for p in root.rglob(".*.tmp"):
            if p.is_file():
                p.unlink(missing_ok=True)
                n += 1
    return n


def remove_empty_dirs(root: Path, keep_root: bool = True) -> None:
    """Delete empty directories below `root`, deepest first (what consumed inputs leave behind)."""
    if is_remote(root) or not root.exists():     # an object store has no empty directories
        return
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            d.rmdir()
    if not keep_root:
        with contextlib.suppress(OSError):
            root.rmdir()


def _lock_path(path) -> Path:
    """An object store has no flock: a local file (in scratch space) stands in for a remote path."""
    if not is_remote(path):
        return path
    mirror = local_mirror(path)
    return mirror.with_name(mirror.name + ".lock")


class FileLock:
    """An exclusive advisory lock (flock) on a file, released when closed or when the process dies in
    any way (the kernel drops it with the file descriptor, SIGKILL included): who holds it is alive."""

    def __init__(self, path: Path):
        self.path = _lock_path(path)
        self.fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock (wait for it, or give up at once when not `blocking`). A directory can be
        the lock: it is opened, never created or deleted."""
        for attempt in range(5):               # a concurrent sweep may remove the empty parent
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDONLY) if self.path.is_dir() else \
                    os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                break
            except FileNotFoundError:
                if attempt == 4:
                    raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self, unlink: bool = False) -> None:
        if self.fd is not None:
            if unlink:      # while held: whoever opened it before gets it only after this holder is done
                self.path.unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "FileLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def is_locked(path: Path) -> bool:
    """Does a live process hold the FileLock at `path`? (False when there is no such file.)"""
    try:
        fd = os.open(_lock_path(path), os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


CRASH_ENV = "TICKLAKE_CRASH_AT"
_crash_hits: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Fault injection for the crash tests: with TICKLAKE_CRASH_AT=name (or name#k, the k-th time the
    point is reached) the process kills itself with SIGKILL right here, as the OOM killer or a power
    cut would. Unset (always, outside tests) this is one dictionary lookup."""
    want = os.environ.get(CRASH_ENV)
    if not want:
        return
    point, _, nth = want.partition("#")
    if point != name:
        return
    _crash_hits[name] = _crash_hits.get(name, 0) + 1
    if _crash_hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def sha256_file(path: Path, chunk: int = 8 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks (sources can be many GB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
