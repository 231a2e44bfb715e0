"""Strategy cards: what each strategy of the trader's catalogue is, as data
(backtest/strategies/cards/*.toml, one file per family), read by one loader for the CLI and the
reports. A card names its catalogue strategy (and variants) when it runs; otherwise its status says
why not (not_testable: the data cannot show it; execution_rule: an order rule, not a strategy;
missing: testable but not built). A runnable card's parameters are its strategy's default config.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

STATUSES = ("runs", "not_testable", "execution_rule", "missing")
FIELDS = ("id", "name", "family", "strategy", "lines", "shape", "legs", "entry", "exits", "position", "features",
          "inputs", "proxy", "status", "trades_per_day")


@dataclass(frozen=True)
class Card:
    id: str
    name: str
    family: str
    strategy: str
    lines: str
    shape: str
    legs: str
    entry: str
    exits: str
    position: str
    features: tuple[str, ...]
    inputs: str
    proxy: str
    status: str
    trades_per_day: str
    reason: str = ""
    variants: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""

    @property
    def strategies(self) -> tuple[str, ...]:
        return ((self.strategy,) if self.strategy else ()) + self.variants

    def expected_trades(self) -> tuple[float, float] | None:
        """(low, high) trades a day the conversation expects, when it says."""
        text = self.trades_per_day.strip()
        if not text:
            return None
        lo, _, hi = text.partition("-")
        return float(lo), float(hi or lo)


def _card(row: dict, source: str) -> Card:
    missing = [f for f in FIELDS if f not in row]
    unknown = sorted(set(row) - set(FIELDS) - {"reason", "variants"})
    where = f"{source}: card {row.get('id', '?')}"
    if missing or unknown:
        raise ValueError(f"{where}: missing fields {missing}, unknown fields {unknown}")
    if row["status"] not in STATUSES:
        raise ValueError(f"{where}: status {row['status']!r} is not one of {', '.join(STATUSES)}")
    if (row["status"] == "runs") != bool(row["strategy"]):
        raise ValueError(f"{where}: a card runs exactly when it names its strategy")
    if row["status"] != "runs" and not row.get("reason"):
        raise ValueError(f"{where}: status {row['status']} needs a reason")
    return Card(**{**row, "features": tuple(row["features"]), "variants": tuple(row.get("variants", ())),
                   "source": source})


@lru_cache(maxsize=1)
def cards() -> tuple[Card, ...]:
    """Every card, file by file (scalps, specs, theta, pond), in the files' order."""
    out: list[Card] = []
    folder = resources.files("backtest.strategies").joinpath("cards")
    for name in ("scalps.toml", "specs.toml", "theta.toml", "pond.toml"):
        for row in tomllib.loads(folder.joinpath(name).read_text())["card"]:
            out.append(_card(row, name))
    ids = [c.id for c in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"strategy cards: ids repeat: {dup}")
    return tuple(out)


def card(key: str) -> Card:
    """A card by its id (#4, C-1, S-6, T-6, DGS, P-2) or by a strategy it runs (micro_ema_flip)."""
    for c in cards():
        if key.lower() == c.id.lower() or key in c.strategies:
            return c
    raise KeyError(f"no strategy card {key!r}; `ticklake strategies` lists them")


def card_of_strategy(name: str) -> Card | None:
    return next((c for c in cards() if name in c.strategies), None)


def families() -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.family for c in cards()))
