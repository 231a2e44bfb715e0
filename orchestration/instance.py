"""The Dagster instance lives beside the warehouse, so runs, materialisations and the UI persist.

Its `dagster.yaml` turns off what a trader on a laptop does not want: telemetry, and the community
sign-up pop-up ("nux") the UI otherwise opens over the first page of every new browser profile.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

SETTINGS = {"telemetry": {"enabled": False}, "nux": {"enabled": False}}


def dagster_home(root: Path) -> Path:
    """`<root>/.dagster`, with our settings merged into its dagster.yaml (other keys are kept)."""
    home = root / ".dagster"
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    current = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    wanted = {**current, **SETTINGS}
    if wanted != current:
        from warehouse.files import atomic_write

        atomic_write(path, yaml.safe_dump(wanted, sort_keys=True))
    return home


def dagster_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(dagster_home(root))
    env["TICKLAKE_WAREHOUSE"] = str(root)
    return env


def instance_for(root: Path):
    """The warehouse's persistent Dagster instance (the one `ticklake ui` shows)."""
    import dagster as dg

    return dg.DagsterInstance.from_config(str(dagster_home(root)))
