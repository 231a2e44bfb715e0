"""The source-archive generator: a tool that writes realistic recorder archives (SQL dumps, a live
MariaDB, Kite/FlatTrade JSON, Binance CSV) with a ground-truth manifest. Not part of ingest: it sits
above it and uses ingest's format definitions to write what ingest reads."""
from transforms import numba_cache  # noqa: F401 - before any kernel is compiled
