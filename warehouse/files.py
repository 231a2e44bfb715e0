"""Files written whole or not at all, and checksums of files read: the one place for both.

Every file the project writes outside Parquet partitions (manifests, ledgers, watermarks, reports,
PNGs, staged Arrow fragments) goes through `atomic_write` or `atomic_path`: a temp name in the same
directory (a `.NAME.<unique>.tmp` file that readers and globs ignore), fsync, then rename. A crash
leaves the old file or the new one, never half of one; `sweep_temp_files` removes what a killed
writer left behind.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Iterator


def temp_name(path: Path) -> Path:
    """A unique temp file beside `path` (same filesystem, so the rename is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


@contextlib.contextmanager
def atomic_path(path: Path, fsync: bool = True) -> Iterator[Path]:
    """Yield a temp path to write `path`'s new content to; renamed into place on success, removed
    on failure (a failed write never leaves a temp file that a rerun would trip over)."""
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


def atomic_write(path: Path, data: bytes | str, fsync: bool = True) -> Path:
    """Replace `path` with `data` atomically (text is written as UTF-8)."""
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
    if directory.exists():
        for p in directory.glob(".*.tmp"):
            p.unlink(missing_ok=True)
            n += 1
    return n


def sha256_file(path: Path, chunk: int = 8 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks (sources can be many GB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
