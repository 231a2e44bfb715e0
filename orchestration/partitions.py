"""Partitions: (trading date x underlying). Dates are dynamic: registered from what the warehouse holds.

The warehouse is the truth: every (date, underlying) with stored ticks is a partition, whichever
route wrote it (CLI files, CLI MariaDB, the landing sensor, the nightly schedule).
"""
from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import dagster as dg

from transforms.expiry import UNDERLYINGS
from warehouse.writer import current_files

# asset checks take these partitions (a result per partition, shown on the check's page): "preview" in 1.13
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning)

trading_dates = dg.DynamicPartitionsDefinition(name="trading_dates")
tick_partitions = dg.MultiPartitionsDefinition(
    {"date": trading_dates, "underlying": dg.StaticPartitionsDefinition(list(UNDERLYINGS))}
)
TICK_KINDS = ("options", "futures", "spot")
PARTITION_FORM = f"YYYY-MM-DD|UNDERLYING (UNDERLYING one of {', '.join(UNDERLYINGS)}), e.g. '2025-11-03|NIFTY'"

Pair = tuple[dt.date, str]


def key_of(day: dt.date, underlying: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"date": day.isoformat(), "underlying": underlying})


def parse_key(context: dg.AssetExecutionContext) -> tuple[dt.date, str]:
    keys = context.partition_key.keys_by_dimension
    return dt.date.fromisoformat(keys["date"]), keys["underlying"]


def parse_partition(text: str) -> Pair:
    """'2025-11-03|NIFTY' -> (date, underlying); ValueError naming the valid form otherwise."""
    day, sep, underlying = text.strip().partition("|")
    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError:
        parsed = None
    if not sep or parsed is None or underlying not in UNDERLYINGS:
        raise ValueError(f"{text!r} is not a partition; the form is {PARTITION_FORM}")
    return parsed, underlying


def stored_tick_partitions(root: Path) -> list[tuple[str, dt.date, str]]:
    """Every stored (kind, date, underlying) tick partition."""
    out = []
    for kind in TICK_KINDS:
        for data in current_files(root, kind):
            underlying = data.parent.parent.name.split("=", 1)[1]
            if underlying in UNDERLYINGS:
                out.append((kind, dt.date.fromisoformat(data.parent.name.split("=", 1)[1]), underlying))
    return out


def stored_partitions(root: Path) -> list[Pair]:
    """Every (date, underlying) with a stored option, futures or spot tick partition, sorted."""
    return sorted({(d, u) for _, d, u in stored_tick_partitions(root)})


def register_dates(instance: dg.DagsterInstance, days) -> list[str]:
    """Add trading dates the instance does not know yet; returns the new ones."""
    known = set(instance.get_dynamic_partitions(trading_dates.name))
    new = sorted({d.isoformat() if isinstance(d, dt.date) else str(d) for d in days} - known)
    if new:
        instance.add_dynamic_partitions(trading_dates.name, new)
    return new
