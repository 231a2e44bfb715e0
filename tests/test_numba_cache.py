"""Numba's cache stamps a function with its own file only: a caller compiled against an old callee
must not survive the callee's change (the cache directory is keyed by every kernel source)."""
import subprocess
import sys
from pathlib import Path

import numba
from transforms.numba_cache import ROOT, cache_dir, source_digest

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


def test_this_project_caches_under_its_source_digest():
    assert numba.config.CACHE_DIR == cache_dir() and cache_dir().endswith(source_digest())
