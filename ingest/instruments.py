"""Instrument masters that map broker tokens to contracts: Kite `instruments` CSV and the
Shoonya/FlatTrade NFO symbols file. Read and written here (the generator writes both)."""
from __future__ import annotations

import csv
import io
import zlib
from pathlib import Path

from ingest.contracts import Contract, table_name
from transforms.expiry import expiry_kind

KITE_COLUMNS = ("instrument_token", "exchange_token", "tradingsymbol", "name", "last_price", "expiry", "strike",
                "tick_size", "lot_size", "instrument_type", "segment", "exchange")
SHOONYA_COLUMNS = ("Exchange", "Token", "LotSize", "Symbol", "TradingSymbol", "Expiry", "Instrument", "OptionType",
                   "StrikePrice", "TickSize")
KITE_MASTER = "instruments.csv"
SHOONYA_MASTER = "NFO_symbols.txt"


def kite_symbol(c: Contract) -> str:
    """Kite's tradingsymbol: month name for monthly expiries, YY M DD for weeklies."""
    return table_name(c, "monthly" if expiry_kind(c.underlying, c.expiry) == "monthly" else "weekly")


def kite_token(c: Contract) -> int:
    return 10_000_000 + zlib.crc32(kite_symbol(c).encode()) % 9_000_000


def shoonya_token(c: Contract) -> int:
    return 30_000 + zlib.crc32(("ft" + kite_symbol(c)).encode()) % 60_000


def write_masters(out: Path, contracts: list[tuple[Contract, int]]) -> None:
    """Both masters for the generated contracts (with lots), sorted, deterministic."""
    rows = sorted({(kite_symbol(c), c, lot) for c, lot in contracts}, key=lambda r: r[0])
    k = io.StringIO()
    w = csv.writer(k, lineterminator="\n")
    w.writerow(KITE_COLUMNS)
    for sym, c, lot in rows:
        w.writerow([kite_token(c), kite_token(c) >> 8, sym, c.underlying, "0.0", c.expiry.isoformat(),
                    f"{float(c.strike)}", "0.05", lot, c.opt_type, "NFO-OPT", "NFO"])
    (out / KITE_MASTER).write_text(k.getvalue())
    s = io.StringIO()
    s.write(",".join(SHOONYA_COLUMNS) + ",\n")
    for sym, c, lot in rows:
        s.write(f"NFO,{shoonya_token(c)},{lot},{c.underlying},{sym},{c.expiry:%d-%b-%Y},OPTIDX,{c.opt_type},"
                f"{c.strike},0.05,\n")
    (out / SHOONYA_MASTER).write_text(s.getvalue())


def read_kite_master(path: Path) -> dict[int, str]:
    """instrument_token -> tradingsymbol (a leading unnamed index column is allowed)."""
    out = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            out[int(r["instrument_token"])] = r["tradingsymbol"]
    return out


def read_shoonya_master(path: Path) -> dict[str, str]:
    """Token -> trading symbol (lines end with a comma)."""
    out = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            out[r["Token"]] = r["TradingSymbol"]
    return out
