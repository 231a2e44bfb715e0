"""Named jobs, one per asset group, so every run in the UI says what it did (not
`__ephemeral_asset_job__`); `nightly` is the ingest job reading the recorder's MariaDB."""
import dagster as dg

GROUP_JOBS = {
    "ingest": "Stage landed or given sources and assemble their (date, underlying) tick partitions.",
    "gaps": "Feed gaps, padded 1-second grids and coverage of a partition.",
    "quality": "Great Expectations suites as asset checks on a partition, and its coverage heatmap.",
    "features": "Option and spot features of a partition (computed once, shared by every strategy).",
    "backtests": "Every strategy over a partition's day, then the summary of all runs.",
    "audits": "Independent replay audit of every backtest run.",
}
NIGHTLY_CONFIG = {"ops": {"landed_sources": {"config": {"include_mariadb": True}}}}

JOBS = {name: dg.define_asset_job(name, selection=dg.AssetSelection.groups(name), description=text)
        for name, text in GROUP_JOBS.items()}
JOBS["nightly"] = dg.define_asset_job(
    "nightly", selection=dg.AssetSelection.assets("landed_sources"), config=NIGHTLY_CONFIG,
    description="After the close: stage new rows of the recorder's MariaDB ($TICKLAKE_MARIADB_URL); the "
                "pending-partitions sensor then assembles them.")
