"""Every hole the generator injected is found with its exact bounds and kind; padding never starts
before a contract's first real row (issue 4 acceptance, on a generated archive)."""
import datetime as dt
import json

from ingest.contracts import INDEX_TABLES, canonical_symbol
from transforms.gaps import gaps_table
from transforms.pad import padded_grid
from warehouse.writer import read_partition

INDEX_SYMBOL = {u: t for t, u in INDEX_TABLES.items()}


def test_every_injected_hole_is_found_exactly(archive, warehouse):
    m = json.loads((archive / "manifest.json").read_text())
    found = set()
    for day in m["days"]:
        d = dt.date.fromisoformat(day)
        for u in ("BANKNIFTY", "NIFTY"):
            keys = {"underlying": u, "date": d}
            t = gaps_table(u, d, read_partition(warehouse, "options", keys), read_partition(warehouse, "futures", keys),
                           read_partition(warehouse, "spot", keys), INDEX_SYMBOL[u])
            for g in t.to_pylist():
                found.add((g["symbol"], day, g["gap_start"].strftime("%Y-%m-%d %H:%M:%S"),
                           g["gap_end"].strftime("%Y-%m-%d %H:%M:%S"), g["kind"]))
    # the manifest names the recorder table; the warehouse its canonical (upper-case) symbol
    want = {(canonical_symbol(h["symbol"]), h["date"], h["gap_start"], h["gap_end"], h["kind"]) for h in m["holes"]}
    assert want == found


def test_padding_never_precedes_the_first_real_row(warehouse):
    d = dt.date(2025, 11, 3)
    ticks = read_partition(warehouse, "options", {"underlying": "NIFTY", "date": d})
    grid = padded_grid(ticks, d)
    first_real = {}
    for sym, ts in zip(ticks["symbol"].to_pylist(), ticks["ts"].to_pylist()):
        first_real.setdefault(sym, ts)
    first_grid = {}
    for sym, ts, pad in zip(grid["symbol"].to_pylist(), grid["ts"].to_pylist(), grid["is_pad"].to_pylist()):
        if sym not in first_grid:
            first_grid[sym] = (ts, pad)
    assert {s: v[0] for s, v in first_grid.items()} == first_real
    assert not any(pad for _, pad in first_grid.values())
    assert grid.num_rows == sum(22501 - (ts.hour * 3600 + ts.minute * 60 + ts.second - 33300) for ts in first_real.values())
