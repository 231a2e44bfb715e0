"""Where Numba keeps compiled kernels: one directory per version of the project's sources.

Numba stamps a cached function with its own file only. A kernel that inlines another module's
(engine.run_single_leg calls fills.walk_book; the kernels read constants from params) would keep
running the old machine code after that module changed: wrong fills, or a crash on a changed array
layout. Keying the cache directory by a hash of every source file of the packages that hold
kernels makes any change start a fresh cache. Imported by those packages' __init__ before any
kernel module is decorated (Numba picks the directory at decoration time).
"""
from __future__ import annotations

import os
from pathlib import Path

import numba

from warehouse.version import PROJECT_ROOT, source_digest

KERNEL_PACKAGES = ("backtest", "features", "generator", "ingest", "transforms")


def cache_dir(base: str | None = None, root: Path = PROJECT_ROOT, packages: tuple[str, ...] = KERNEL_PACKAGES) -> str:
    """<base or NUMBA_CACHE_DIR or ~/.cache/ticklake/numba>/<source digest>."""
    base = base or os.environ.get("NUMBA_CACHE_DIR") or str(Path.home() / ".cache" / "ticklake" / "numba")
    return str(Path(base) / source_digest(packages, (".py",), root)[:16])


numba.config.CACHE_DIR = cache_dir()
