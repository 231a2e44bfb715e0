"""Nested dataclasses from and merged with plain data (the dicts, lists, numbers and strings a TOML
or JSON config holds): the typed reading behind backtest.config, with errors naming the config path."""
from __future__ import annotations

import dataclasses
import types
import typing
from functools import lru_cache


@lru_cache(maxsize=None)
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _is_dataclass_type(tp) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def build(tp, value, where: str):
    """`value` (from a file: dicts, lists, numbers, strings) as the annotated type `tp`."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return build(inner[0], value, where) if len(inner) == 1 else value
    if _is_dataclass_type(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise TypeError(f"{where}: expected a table of {tp.__name__} fields, got {value!r}")
        return from_dict(tp, value, where)
    if origin is list:
        (arg,) = typing.get_args(tp) or (typing.Any,)
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{where}: expected a list, got {value!r}")
        return [build(arg, x, f"{where}[{n}]") for n, x in enumerate(value)]
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(build(args[0], x, where) for x in value)
        return tuple(value)
    return value


def from_dict(cls, data: dict, where: str):
    """A dataclass from a dict; missing fields take their defaults, unknown keys fail."""
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise KeyError(f"{where}: unknown keys {', '.join(unknown)}")
    try:
        return cls(**{k: build(hints[k], v, f"{where}.{k}") for k, v in data.items()})
    except TypeError as e:
        raise TypeError(f"{where}: {e}") from None


def merge_dataclass(obj, overrides: dict, where: str):
    """A copy of `obj` with the fields of `overrides` merged in (nested dataclasses field by field)."""
    hints = _hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise KeyError(f"{where}: unknown keys {', '.join(unknown)}")
    changes = {}
    for k, v in overrides.items():
        cur, path = getattr(obj, k), f"{where}.{k}"
        if dataclasses.is_dataclass(cur) and isinstance(v, dict):
            changes[k] = merge_dataclass(cur, v, path)
        elif isinstance(cur, list) and isinstance(v, dict) and cur and all(hasattr(x, "name") for x in cur):
            changes[k] = _merge_named(cur, v, path)
        else:
            changes[k] = build(hints[k], v, path)
    return dataclasses.replace(obj, **changes)


def _merge_named(items: list, overrides: dict, where: str) -> list:
    """List items with a `name` (legs), some merged by name."""
    by_name = {x.name: n for n, x in enumerate(items)}
    unknown = sorted(set(overrides) - set(by_name))
    if unknown:
        raise KeyError(f"{where}: unknown names {', '.join(unknown)}; known: {', '.join(by_name)}")
    out = list(items)
    for name, over in overrides.items():
        out[by_name[name]] = merge_dataclass(out[by_name[name]], over, f"{where}.{name}")
    return out
