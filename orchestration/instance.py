"""The Dagster instance lives beside the warehouse, so runs, materialisations and the UI persist.

Its `dagster.yaml` turns off what a trader on a laptop does not want: telemetry, and the community
sign-up pop-up ("nux") the UI otherwise opens over the first page of every new browser profile.

For a cluster (many machines, one run history) the instance's storage is PostgreSQL instead of the
local SQLite files: set `TICKLAKE_DAGSTER_PG=postgresql://user@host:5432/db` and dagster.yaml gets a
`storage: postgres:` block that reads the URL from that variable when the instance loads (the URL,
password included, is never written into the file; a bare postgresql:// URL is given the psycopg2
driver in this process's environment, which dagster-postgres needs). Unset, the block is removed:
SQLite again.
A warehouse on an object store keeps its Dagster home in the local scratch directory.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

SETTINGS = {"telemetry": {"enabled": False}, "nux": {"enabled": False}}
PG_ENV = "TICKLAKE_DAGSTER_PG"
PG_STORAGE = {"postgres": {"postgres_url": {"env": PG_ENV}}}


def dagster_home(root: Path) -> Path:
    """`<root>/.dagster` (the scratch dir's for an object store), with our settings merged into its
    dagster.yaml (other keys are kept)."""
    from warehouse.store import scratch_dir

    home = scratch_dir(root) / ".dagster"
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    current = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    wanted = {**current, **SETTINGS}
    if os.environ.get(PG_ENV):
        os.environ[PG_ENV] = pg_url(os.environ[PG_ENV])
        wanted["storage"] = PG_STORAGE
    elif wanted.get("storage") == PG_STORAGE:
        del wanted["storage"]
    if wanted != current:
        from warehouse.files import atomic_write

        atomic_write(path, yaml.safe_dump(wanted, sort_keys=True))
    return home


def pg_url(url: str) -> str:
    """The URL with the psycopg2 driver named: dagster-postgres sends psycopg2-style statements, and
    SQLAlchemy 2.1 would open a bare postgresql:// URL with psycopg 3."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql+psycopg2://{rest}" if sep and scheme in ("postgresql", "postgres") else url


def dagster_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(dagster_home(root))
    env["TICKLAKE_WAREHOUSE"] = str(root)
    return env


def instance_for(root: Path):
    """The warehouse's persistent Dagster instance (the one `ticklake ui` shows)."""
    import dagster as dg

    return dg.DagsterInstance.from_config(str(dagster_home(root)))
