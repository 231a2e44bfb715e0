"""The feature registry: which features exist and what each needs, read from the one declaration
of the feature columns (`warehouse/data/features.csv`, loaded by warehouse.schema).

Each feature declares its family (the kernel group that computes it), the grid/spot inputs it
reads, its window, stored dtype and version. Strategies declare the features they need; the
feature assets compute only the families those features require; a version bump changes the
registry hash that stored partitions and Dagster code versions carry, so stale tables rebuild.
"""
from __future__ import annotations

import hashlib

import pyarrow as pa

from warehouse.schema import FEATURE_COLUMNS, FEATURES_OPTIONS_BASE, FeatureColumn, features_options_schema


Feature = FeatureColumn        # a registry row: name, family, inputs, window, dtype, version, description
_FEATURES = [c for c in FEATURE_COLUMNS if c.table == "features_options"]
REGISTRY: dict[str, Feature] = {f.name: f for f in _FEATURES}
BASE_COLUMNS = FEATURES_OPTIONS_BASE


def resolve(names: list[str] | None) -> list[Feature]:
    """Features to build for a request (None = all), in registry order; unknown names fail loudly."""
    if names is None:
        return list(_FEATURES)
    unknown = sorted(set(names) - set(REGISTRY) - {n for n, _ in BASE_COLUMNS})
    if unknown:
        raise KeyError(f"unknown features: {', '.join(unknown)}")
    wanted = set(names)
    return [f for f in _FEATURES if f.name in wanted]


def families(features: list[Feature]) -> set[str]:
    return {f.family for f in features}


def schema(features: list[Feature]) -> pa.Schema:
    return features_options_schema(features)


def registry_version(features: list[Feature] | None = None) -> str:
    """Hash of (name, family, version, dtype) of the features: a stored table's data version."""
    h = hashlib.sha256()
    for f in features if features is not None else _FEATURES:
        h.update(f"{f.name}:{f.family}:{f.version}:{f.dtype}".encode())
    return h.hexdigest()[:12]
