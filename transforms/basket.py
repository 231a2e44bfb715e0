"""The bank basket C-20 compares the index with (transforms/data/bank_basket.csv): per underlying,
its stocks and their weights. The conversation says "top 3 banking stocks" (L1596) without naming
them; the CSV names HDFCBANK, ICICIBANK and SBIN with EQUAL weights as the stated default (its
notes say how they were chosen). The generator writes these stocks; features_spot reads them.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=None)
def _rows() -> tuple[tuple[str, str, float], ...]:
    text = resources.files("transforms").joinpath("data/bank_basket.csv").read_text()
    return tuple((r["underlying"], r["symbol"], float(r["weight"])) for r in csv.DictReader(text.splitlines()))


def basket(underlying: str) -> tuple[tuple[str, float], ...]:
    """(symbol, weight) of the underlying's basket, weights summing to 1; () when it has none."""
    rows = [(s, w) for u, s, w in _rows() if u == underlying]
    total = sum(w for _, w in rows)
    return tuple((s, w / total) for s, w in rows)
