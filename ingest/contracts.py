"""Contract names: the recorder's table names <-> (underlying, expiry, opt_type, strike).

Every table-name pattern the recorder used is parsed and produced here, and nowhere else:

  monthly       BANKNIFTY25DEC48000CE   (YY + month name)
  weekly        NIFTY2581422600CE       (YY + month digit 1-9 or O/N/D + DD)
  lower weekly  banknifty2392148300ce, banknifty22n1038700pe
  lower monthly banknifty24nov52100pe
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from transforms.expiry import monthly_expiry, resolve_weekly

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKLY_MONTH = "123456789OND"
_NAME = re.compile(
    r"^(?P<underlying>BANKNIFTY|NIFTY)(?P<yy>\d{2})"
    r"(?:(?P<mon>JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)|(?P<m>[1-9OND])(?P<dd>\d{2}))"
    r"(?P<strike>\d{3,6})(?P<opt_type>CE|PE)$",
    re.IGNORECASE | re.ASCII,   # ASCII: Unicode digits and case folds (dotless i) are not contract names
)
# Names of the index and futures tables in das_nse.
INDEX_TABLES = {"NIFTY": "NIFTY", "BANKNIFTY": "BANKNIFTY"}
FUTURES_TABLES = {"NIFTYFUT": "NIFTY", "BANKNIFTYFUT": "BANKNIFTY"}
STYLES = ("monthly", "weekly", "lower_weekly", "lower_monthly")


@dataclass(frozen=True)
class Contract:
    underlying: str
    expiry: dt.date
    opt_type: str  # CE / PE
    strike: int


class ContractNameError(ValueError):
    """A table name that matches none of the recorder's patterns."""


def parse_table_name(name: str) -> Contract:
    """Contract of an option table name; raises ContractNameError naming the table."""
    if not name.isascii():
        raise ContractNameError(f"table {name!r}: not ASCII (a look-alike of a contract name?)")
    m = _NAME.fullmatch(name)
    if m is None:
        raise ContractNameError(f"table {name!r}: not an option contract name")
    underlying = m["underlying"].upper()
    year = 2000 + int(m["yy"])
    try:
        if m["mon"]:
            expiry = monthly_expiry(underlying, year, MONTHS.index(m["mon"].upper()) + 1)
        else:
            month = _WEEKLY_MONTH.index(m["m"].upper()) + 1
            expiry = resolve_weekly(underlying, dt.date(year, month, int(m["dd"])))
    except ValueError as exc:
        raise ContractNameError(f"table {name!r}: {exc}") from None
    return Contract(underlying, expiry, m["opt_type"].upper(), int(m["strike"]))


def canonical_symbol(table: str) -> str:
    """The contract's canonical name: the recorder's table name in upper case (older tables were
    named in lower case; the broker's tradingsymbol, and so every newer table, is upper case)."""
    return table.upper()


def table_name(c: Contract, style: str) -> str:
    """The recorder's table name for a contract in one of STYLES (monthly styles need a monthly expiry)."""
    yy = f"{c.expiry.year % 100:02d}"
    if style in ("monthly", "lower_monthly"):
        name = f"{c.underlying}{yy}{MONTHS[c.expiry.month - 1]}{c.strike}{c.opt_type}"
    elif style in ("weekly", "lower_weekly"):
        name = f"{c.underlying}{yy}{_WEEKLY_MONTH[c.expiry.month - 1]}{c.expiry.day:02d}{c.strike}{c.opt_type}"
    else:
        raise ValueError(f"unknown table-name style {style!r}")
    return name.lower() if style.startswith("lower") else name
