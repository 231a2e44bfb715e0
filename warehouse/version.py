"""Code versions: a short hash of the source of the layers that produced a table, so a change in
the code that wrote a partition is visible in its manifest (and in Dagster code versions)."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

PACKAGE_VERSION = "0.1.0"


@lru_cache(maxsize=None)
def code_version(*packages: str) -> str:
    """'0.1.0+<12 hex>' over the .py and data files of the named top-level packages."""
    h = hashlib.sha256()
    for pkg in sorted(packages):
        root = resources.files(pkg)
        for path in sorted(_walk(root), key=str):
            h.update(str(path.relative_to(root) if hasattr(path, "relative_to") else path).encode())
            h.update(path.read_bytes())
    return f"{PACKAGE_VERSION}+{h.hexdigest()[:12]}"


def _walk(node):
    for child in node.iterdir():
        if child.is_dir():
            if child.name != "__pycache__":
                yield from _walk(child)
        elif child.name.endswith((".py", ".csv")):
            yield child
