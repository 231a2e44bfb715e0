"""Code versions: a short hash of the source of the layers that produced a table, so a change in
the code that wrote a partition is visible in its manifest (and in Dagster code versions), and the
one hash of project sources that Numba's cache directory is keyed by (transforms.numba_cache)."""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

PACKAGE_VERSION = "0.1.0"
# every top-level package of the project is a sibling of this one (a checkout or site-packages)
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def source_digest(packages: tuple[str, ...], suffixes: tuple[str, ...] = (".py", ".csv"),
                  root: Path = PROJECT_ROOT) -> str:
    """Hex SHA-256 of the relative path and bytes of every file with one of `suffixes` in the
    named packages (sorted, so the same sources give the same digest on any machine). Packages are
    read as files, never imported: the Numba cache asks for this while the packages import."""
    h = hashlib.sha256()
    for package in sorted(packages):
        for path in _package_files(root / package, suffixes):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


SHIPPED_DATA = ("data", "templates")   # non-package folders of a package that hold its own data


def _package_files(base: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The package's own files: its sub-packages and their data folders, never anything else below
    it (the `warehouse` package folder is also the default warehouse root, full of user data)."""
    out: list[Path] = []
    for d, dirs, files in os.walk(base):
        here = Path(d)
        shipped = any(part in SHIPPED_DATA for part in here.relative_to(base).parts)
        dirs[:] = sorted(x for x in dirs if x != "__pycache__" and
                         (shipped or x in SHIPPED_DATA or (here / x / "__init__.py").exists()))
        out += [here / f for f in files if Path(f).suffix in suffixes]
    return sorted(out)


@lru_cache(maxsize=None)
def code_version(*packages: str) -> str:
    """'0.1.0+<12 hex>' over the .py and data files of the named top-level packages."""
    return f"{PACKAGE_VERSION}+{source_digest(tuple(packages))[:12]}"
