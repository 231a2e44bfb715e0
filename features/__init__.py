from transforms import numba_cache  # noqa: F401 - before any kernel is compiled
