"""Numba's cache stamps a function with its own file only: a caller compiled against an old callee
must not survive the callee's change (the cache directory is keyed by every kernel source)."""
import subprocess
import sys
from pathlib import Path

import numba
from transforms.numba_cache import KERNEL_PACKAGES, cache_dir
from warehouse.version import PROJECT_ROOT as ROOT

CALLER = "import numba\nfrom kern.callee import f\n\n@numba.njit(cache=True)\ndef g():\n    return f()\n"
CALLEE = "import numba\n\n@numba.njit(cache=True)\ndef f():\n    return {}\n"


def run_caller(project: Path, base: Path, keyed: bool) -> int:
    code = (f"import sys, numba\nsys.path.insert(0, {str(ROOT)!r})\nfrom transforms.numba_cache import cache_dir\n"
            f"sys.path.insert(0, {str(project)!r})\nfrom pathlib import Path\n"
            f"numba.config.CACHE_DIR = cache_dir({str(base)!r}, Path({str(project)!r}), ('kern',)) "
            f"if {keyed} else {str(base)!r}\nfrom kern.caller import g\nprint(g())\n")
    return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)


def test_a_changed_callee_is_recompiled_into_its_cached_caller(tmp_path):
    project = tmp_path / "project"
    (project / "kern").mkdir(parents=True)
    (project / "kern" / "__init__.py").write_text("")
    (project / "kern" / "caller.py").write_text(CALLER)
    for keyed in (False, True):
        (project / "kern" / "callee.py").write_text(CALLEE.format(1))
        base = tmp_path / f"cache-{keyed}"
        assert run_caller(project, base, keyed) == 1
        (project / "kern" / "callee.py").write_text(CALLEE.format(2))
        # a cache keyed by the caller's file alone runs the old callee; keyed by every source, the new one
        assert run_caller(project, base, keyed) == (2 if keyed else 1)


def test_editing_any_kernel_package_moves_the_cache_directory(tmp_path):
    """The project's own cache key covers every kernel package: a changed byte in any of them
    (here a copy of the tree with one comment added per package) gives another directory."""
    import shutil

    copy = tmp_path / "tree"
    for package in KERNEL_PACKAGES:
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    base = str(tmp_path / "cache")
    before = cache_dir(base, copy)
    assert before == cache_dir(base, ROOT)            # same bytes, same key (paths are relative)
    seen = {before}
    for package in KERNEL_PACKAGES:
        init = copy / package / "__init__.py"
        init.write_text(init.read_text() + "# edited\n")
        seen.add(cache_dir(base, copy))
    assert len(seen) == len(KERNEL_PACKAGES) + 1
    assert numba.config.CACHE_DIR == cache_dir()


def test_the_source_digest_reads_the_package_and_its_data_never_the_warehouse_data_beside_it(tmp_path):
    """The `warehouse` package folder is also the default warehouse root: partitions and exports under
    it are user data, and must neither slow the digest down nor change the code version."""
    from warehouse.version import source_digest

    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "data").mkdir()
    (pkg / "options" / "part=1").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("x = 1\n")
    (pkg / "data" / "rules.csv").write_text("a,b\n")
    before = source_digest(("pkg",), root=tmp_path)
    (pkg / "options" / "part=1" / "export.csv").write_text("user,data\n")
    (pkg / "options" / "stray.py").write_text("print('not code of ours')\n")
    assert source_digest(("pkg",), root=tmp_path) == before
    (pkg / "data" / "rules.csv").write_text("a,b\n1,2\n")
    changed = source_digest(("pkg",), root=tmp_path)
    (pkg / "sub" / "__init__.py").write_text("x = 2\n")
    assert len({before, changed, source_digest(("pkg",), root=tmp_path)}) == 3
