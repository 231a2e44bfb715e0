"""In-process materialisation (`ticklake materialize`, the demo): the UI's own named jobs, run in this
process and recorded in the warehouse's Dagster instance under the UI's code location, so the UI
lists them (runs, timeline, partitions, checks) as if it had launched them.

The order comes from the asset graph, never from a hand-kept list: groups in dependency order; per
group, unpartitioned assets with no partitioned ancestor first (landed_sources), then the
partitioned ones per (date, underlying), then the unpartitioned rest once (the backtest summary,
the audit). A step runs where one of its assets is missing or older than an input (a re-ingested
partition rebuilds its grid, then its features, then its backtests); `rebuild` or explicit
partitions run everything asked for (e.g. after a code change).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from transforms.expiry import UNDERLYINGS

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
TAGS = {"ticklake/command": "materialize"}


class NothingToBuild(RuntimeError):
    """The warehouse holds nothing the selected groups could build."""


@dataclass
class Step:
    group: str                       # the asset group, also the name of the job that runs it
    keys: list[dg.AssetKey]
    partitioned: bool
    phase: int                       # 0: before every partition, 1: per partition, 2: after


def _group_order(graph) -> list[str]:
    """Asset groups in dependency order (a group after every group it reads from)."""
    group_of = {k: graph.get(k).group_name for k in graph.materializable_asset_keys}
    needs = {g: set() for g in group_of.values()}
    for k, g in group_of.items():
        needs[g] |= {group_of[p] for p in graph.get(k).parent_keys if p in group_of and group_of[p] != g}
    order = []
    while needs:
        ready = sorted(g for g, n in needs.items() if not n - set(order))
        if not ready:
            raise RuntimeError(f"asset groups depend on each other in a circle: {sorted(needs)}")
        order += ready
        for g in ready:
            del needs[g]
    return order


def plan(graph, groups: list[str]) -> list[Step]:
    """The steps that materialise `groups`, in execution order (see the module docstring)."""
    def has_partitioned_ancestor(key, seen=None) -> bool:
        seen = set() if seen is None else seen
        for p in graph.get(key).parent_keys:
            if p in seen or not graph.has(p):
                continue
            seen.add(p)
            if graph.get(p).partitions_def is not None or has_partitioned_ancestor(p, seen):
                return True
        return False

    steps = []
    for group in [g for g in _group_order(graph) if g in groups]:
        keys = sorted((k for k in graph.materializable_asset_keys if graph.get(k).group_name == group),
                      key=lambda k: k.to_user_string())
        part = [k for k in keys if graph.get(k).partitions_def is not None]
        before = [k for k in keys if k not in part and not has_partitioned_ancestor(k)]
        after = [k for k in keys if k not in part and k not in before]
        steps += [Step(group, ks, p, phase) for ks, p, phase in ((before, False, 0), (part, True, 1), (after, False, 2))
                  if ks]
    return sorted(steps, key=lambda s: s.phase)   # stable: group order kept within a phase


def _origin(job_name: str):
    """The UI's code location (`-m orchestration.definitions`) as the run's origin: without one the
    UI leaves a run out of its timeline and cannot link it to its job."""
    from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.workspace.load_target import location_origin_from_module_name

    from orchestration.definitions import LOCATION

    location = location_origin_from_module_name(LOCATION, None, str(Path.cwd()), location_name=LOCATION)
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), job_name)


def execute(defs: dg.Definitions, instance: dg.DagsterInstance, job: str, keys: list[dg.AssetKey],
            partition: str | None = None, run_config: dict | None = None,
            cluster: tuple[str, Path, Path] | None = None) -> dg.ExecutionResult:
    """One named-job run in this process (or its steps on a Dask cluster: `cluster` = (scheduler
    address, warehouse root, landing folder)), recorded under the UI's code location; an asset check that fails with
    ERROR severity fails the command."""
    config = {**QUIET_LOGS, **(run_config or {})}
    if cluster is not None:
        from orchestration.cluster_runs import execute_on_dask

        result = execute_on_dask(*cluster, instance, job, keys, partition, config, TAGS)
    else:
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance, partition_key=partition, asset_selection=keys, raise_on_error=True, tags=TAGS,
            run_config=config)
    instance.run_storage.replace_job_origin(result.dagster_run, _origin(job))
    failed = [c for c in result.get_asset_check_evaluations()
              if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    if failed:
        names = ", ".join(f"{c.asset_key.to_user_string()}:{c.check_name}" for c in failed)
        raise RuntimeError(f"asset checks failed{f' on {partition}' if partition else ''}: {names}")
    return result


class Freshness:
    """Which materialisations are missing or older than their inputs. The event log's storage ids
    order every materialisation (a run's, or one recorded by `ticklake ingest`); what this command
    built counts as newer than anything stored."""

    def __init__(self, instance: dg.DagsterInstance, graph):
        self.instance, self.graph = instance, graph
        self._ids: dict[dg.AssetKey, dict[str | None, int]] = {}
        self._clock = 1 << 62

    def _load(self, key: dg.AssetKey) -> dict[str | None, int]:
        if key not in self._ids:
            if self.graph.get(key).partitions_def is not None:
                self._ids[key] = dict(self.instance.get_latest_storage_id_by_partition(
                    key, dg.DagsterEventType.ASSET_MATERIALIZATION))
            else:
                records = self.instance.fetch_materializations(key, limit=1).records
                self._ids[key] = {None: records[0].storage_id} if records else {}
        return self._ids[key]

    def latest(self, key: dg.AssetKey, partition: str | None) -> int:
        """0 when never materialised; for a partitioned input of an unpartitioned asset, its newest partition."""
        ids = self._load(key)
        if partition is None and self.graph.get(key).partitions_def is not None:
            return max(ids.values(), default=0)
        return ids.get(partition, 0)

    def needs(self, step: "Step", partition: str | None) -> bool:
        own = [self.latest(k, partition) for k in step.keys]
        if not all(own):
            return True
        inputs = {p for k in step.keys for p in self.graph.get(k).parent_keys
                  if p not in step.keys and self.graph.has(p)
                  and (partition is None or self.graph.get(p).partitions_def is not None)}
        return max((self.latest(p, partition) for p in inputs), default=0) > min(own)

    def built(self, step: "Step", partition: str | None) -> None:
        self._clock += 1
        for k in step.keys:
            self._load(k)[partition] = self._clock


def rows_of(result: dg.ExecuteInProcessResult) -> int:
    """Rows the run's materialisations report (`dagster/row_count`)."""
    total = 0
    for m in result.get_asset_materialization_events():
        value = m.materialization.metadata.get("dagster/row_count")
        total += int(value.value) if value is not None else 0
    return total


def _build_partition(target: tuple[str, Path, Path], chain: list, key: str, force: bool) -> list[tuple[int, int]]:
    """In an orchestrating process: one partition's steps in order, where stale (all with `force`),
    each a run whose steps are Dask tasks; returns (index in `chain`, rows) of the steps run."""
    from orchestration.definitions import build_definitions
    from orchestration.instance import instance_for
    from orchestration.resources import WarehouseResource
    _address, root, landing = target
    defs = build_definitions(WarehouseResource(root=str(root), landing_dir=str(landing)))
    instance = instance_for(root)
    fresh = Freshness(instance, defs.resolve_asset_graph())
    out = []
    for i, step in enumerate(chain):
        if force or fresh.needs(step, key):
            result = execute(defs, instance, step.group, step.keys, key, None, target)
            fresh.built(step, key)
            out.append((i, rows_of(result)))
    return out


def build_on_cluster(target: tuple[str, Path, Path], slots: int, chain: list, keys: list[str], force: bool):
    """Every key's chain of steps, `slots` partitions at once. Dagster's run orchestration is not
    thread-safe (each run configures the process's logging), so each partition is orchestrated by
    a process of its own (a light one: it waits on its runs' Dask tasks). Yields (step, key, rows)
    per step run, as partitions finish."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max(1, min(slots, len(keys))), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_build_partition, target, chain, key, force): key for key in keys}
        try:
            for f in as_completed(futures):
                for i, rows in f.result():
                    yield chain[i], futures[f], rows
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def _check_known(root: Path, requested, known: set) -> None:
    missing = sorted(set(requested) - known)
    if missing:
        have = sorted(known)
        text = ", ".join(f"{d}|{u}" for d, u in have[:6]) + (" ..." if len(have) > 6 else "") if have else "none"
        raise NothingToBuild(f"no ingested ticks for partition {', '.join(f'{d}|{u}' for d, u in missing)} in "
                             f"{root} (ingested: {text}); run `ticklake ingest SOURCE...` first")


def _requested(partitions: list[str] | None):
    from orchestration.partitions import parse_partition

    return [parse_partition(p) for p in partitions or []]


def materialize_groups(root: Path, groups: list[str] | None = None, partitions: list[str] | None = None,
                       quiet: bool = False, run_config: dict | None = None, rebuild: bool = False,
                       cluster: str | None = None) -> str:
    """Materialise asset groups (default: all) over every ingested partition where an asset is
    missing or older than its inputs (every one with `rebuild`), or over the given
    'YYYY-MM-DD|UNDERLYING' ones; returns a summary. `run_config` goes to the staging of landed
    sources. `cluster`: a Dask scheduler address; every run's steps go to its workers and the
    partitions run side by side (orchestration.cluster_runs). Raises NothingToBuild when there are no
    ingested partitions."""
    from orchestration.assets.ingest import ledger, new_landing_files, pending_partition_keys
    from orchestration.definitions import build_definitions
    from orchestration.instance import dagster_home, instance_for
    from orchestration.partitions import key_of, stored_partitions
    from orchestration.progress import Progress
    from orchestration.register import mirror_ingest
    from orchestration.resources import WarehouseResource
    from warehouse.layout import warehouse_root

    root = warehouse_root(root)
    t0 = time.perf_counter()
    requested = _requested(partitions)
    warehouse = WarehouseResource(root=str(root))
    defs = build_definitions(warehouse)
    graph = defs.resolve_asset_graph()
    known = _group_order(graph)
    unknown = sorted(set(groups or []) - set(known))
    if unknown:
        raise ValueError(f"unknown asset group(s): {', '.join(unknown)}; known: {', '.join(known)}")
    steps = plan(graph, list(groups or known))
    instance = instance_for(root)
    progress = Progress("materialize", quiet=quiet, unit="runs")
    lines: list[str] = []
    done = [0, 0]    # runs, rows

    target = None
    if cluster:
        from orchestration.cluster import connect

        with connect(cluster, root) as client:          # every worker checked: imports this code, sees this root
            slots = sum(client.nthreads().values())
        target = (cluster, root.resolve(), warehouse.landing.resolve())

    def run(step: Step, partition: str | None = None, config: dict | None = None) -> None:
        progress({"source": f"{step.group} {partition or ''}".rstrip()})     # what runs now
        result = execute(defs, instance, step.group, step.keys, partition, config, target)
        counted(rows_of(result))

    def counted(rows: int) -> None:
        done[0] += 1
        done[1] += rows
        progress({"files_done": done[0], "rows": done[1]})

    def chains(chain: list[Step], keys: list[str], force: bool, fresh: "Freshness | None" = None):
        """Each key's steps in order, where stale (all with `force`): partition by partition, so a
        day is usable as soon as it is built; on a cluster, partitions side by side
        (orchestration.cluster_runs). Yields (step, rows) for each step run."""
        if target is not None:
            for step, key, rows in build_on_cluster(target, slots, chain, keys, force):
                if fresh is not None:
                    fresh.built(step, key)
                yield step, rows
            return
        for key in keys:
            for step in chain:
                if force or fresh.needs(step, key):
                    progress({"source": f"{step.group} {key}"})
                    result = execute(defs, instance, step.group, step.keys, key)
                    if fresh is not None:
                        fresh.built(step, key)
                    yield step, rows_of(result)

    ingest_steps = [s for s in steps if s.group == "ingest"]
    other = [s for s in steps if s.group != "ingest"]
    part_steps = [s for s in other if s.partitioned]
    for step in ingest_steps:
        if not step.partitioned:
            if new_landing_files(warehouse.landing, ledger(root)) or run_config:
                progress({"files_total": 1})
                run(step, config=run_config)
            else:
                lines.append(f"ingest: nothing new in the landing folder {warehouse.landing}")
            continue
        pending = [(dt.date.fromisoformat(k.keys_by_dimension["date"]), k.keys_by_dimension["underlying"])
                   for k in pending_partition_keys(root)]
        _check_known(root, requested, set(stored_partitions(root)) | set(pending))
        keys = [str(key_of(d, u)) for d, u in requested or pending]
        progress({"files_done": done[0], "files_total": done[0] + len(keys)})
        for _step, rows in chains([step], keys, True):
            counted(rows)
        lines.append(f"ingest: {len(keys)} partitions")
    stored = mirror_ingest(root, instance=instance)
    # every underlying of every ingested date: a day with ticks of one index and none of the other is a
    # missing day of the other (its gaps say so), not a partition to leave out
    pairs = requested or sorted({(d, u) for d, _ in stored for u in UNDERLYINGS})
    if part_steps:
        _check_known(root, requested, set(stored))
        if not pairs:
            raise NothingToBuild(f"no ingested partitions in {root}: run `ticklake ingest SOURCE...` first "
                                 f"(or drop recorder dumps into {warehouse.landing})")
    after = [s for s in other if not s.partitioned]
    fresh = Freshness(instance, graph)
    force = rebuild or bool(requested)
    keys = [str(key_of(d, u)) for d, u in pairs]
    # the estimate for the ETA: in a partition, every step from the first stale one on (what a step
    # rebuilds makes the steps after it stale); whether a step runs is decided when its turn comes
    estimate = sum(len(part_steps) - next((i for i, st in enumerate(part_steps) if force or fresh.needs(st, key)),
                                          len(part_steps)) for key in keys)
    progress({"files_done": done[0], "files_total": done[0] + estimate + len(after)})
    built = {id(step): 0 for step in part_steps}
    for step, rows in chains(part_steps, keys, force, fresh):
        counted(rows)
        built[id(step)] += 1
    for step in part_steps:
        n = built[id(step)]
        lines.append(f"{step.group}: {n} partitions" + (f", {len(keys) - n} up to date" if n < len(keys) else ""))
    for step in after:
        names = ", ".join(k.to_user_string() for k in step.keys)
        if force or fresh.needs(step, None):
            run(step)
            fresh.built(step, None)
            if not any(s.group == step.group for s in part_steps):
                lines.append(f"{step.group}: {names}")
        else:
            lines.append(f"{step.group}: {names} up to date")
    progress.done()
    lines.append(f"materialized {done[0]} runs in {time.perf_counter() - t0:,.1f}s; Dagster home {dagster_home(root)}")
    return "\n".join(lines)
