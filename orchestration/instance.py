"""The Dagster instance lives beside the warehouse, so runs, materialisations and the UI persist."""
from __future__ import annotations

import os
from pathlib import Path


def dagster_home(root: Path) -> Path:
    home = root / ".dagster"
    home.mkdir(parents=True, exist_ok=True)
    yaml = home / "dagster.yaml"
    if not yaml.exists():
        yaml.write_text("telemetry:\n  enabled: false\n")
    return home


def dagster_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(dagster_home(root))
    env["TICKLAKE_WAREHOUSE"] = str(root)
    return env
