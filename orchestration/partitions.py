"""Partitions: (trading date x underlying). Dates are dynamic: added when staging sees them."""
from __future__ import annotations

import datetime as dt

import dagster as dg

from transforms.expiry import UNDERLYINGS

trading_dates = dg.DynamicPartitionsDefinition(name="trading_dates")
tick_partitions = dg.MultiPartitionsDefinition(
    {"date": trading_dates, "underlying": dg.StaticPartitionsDefinition(list(UNDERLYINGS))}
)


def key_of(day: dt.date, underlying: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"date": day.isoformat(), "underlying": underlying})


def parse_key(context: dg.AssetExecutionContext) -> tuple[dt.date, str]:
    keys = context.partition_key.keys_by_dimension
    return dt.date.fromisoformat(keys["date"]), keys["underlying"]
