"""`ticklake materialize --cluster`: the same named-job runs as in-process (orchestration.run), each
executed by dagster-dask's executor, so every step of a run is a Dask task on the cluster's workers;
the (date, underlying) partitions' runs are launched side by side, as many at once as the cluster
has worker threads (orchestration.run.build_on_cluster).

Why this shape: dagster-dask 0.29 (Dagster 1.13) offers one thing, an executor that turns the steps
of one run into Dask futures (`cluster: {existing: {address}}`); we use it with its task keys made
run-scoped (`_RunScopedDaskExecutor`: its own keys collide between concurrent runs of one job). A
run is one partition of an asset job, so the partition fan-out is ours: one run per partition,
its steps on Dask, each partition's runs orchestrated by a process of its own (Dagster's run
orchestration configures the process's logging and deadlocks when two runs start in threads of
one process). The executor needs a reconstructable job (the worker rebuilds it from this module,
`dask_job`) and a persistent instance (the warehouse's own, `<root>/.dagster`, on the shared
filesystem), and it does not retry a step itself (RetryMode.DISABLED): a worker lost mid-step has
its task rerun on another worker by the Dask scheduler, and the step's partition write is an
atomic replace, so a rerun writes the partition once, never twice.
"""
from __future__ import annotations

from pathlib import Path

import dagster as dg


class _RunScopedDaskExecutor:
    """dagster-dask's executor with one change: its Dask task keys name the run. dagster-dask keys a
    step's task `<job>.<step>`, the same for every run of a job, and Dask treats equal keys as one
    task: two partitions' runs of `gaps` at once would share one task (one partition built, the
    other's run "succeeding" with nothing written)."""

    @staticmethod
    def build(address: str) -> dg.ExecutorDefinition:
        import dask.distributed
        from dagster._core.definitions.executor_definition import executor as executor_decorator
        from dagster_dask.executor import DaskExecutor, get_dask_resource_requirements, query_on_dask_worker

        class Executor(DaskExecutor):
            def execute(self, plan_context, execution_plan):
                run_id = plan_context.dagster_run.run_id
                with dask.distributed.Client(self.cluster_configuration["address"]) as client:
                    # level by level, each step's future released once its events are read: a
                    # finished step's result held on a worker that dies later would be recomputed by
                    # Dask, i.e. the step run (and its partition materialised) a second time
                    for level in execution_plan.get_steps_to_execute_by_level():
                        futures = [client.submit(
                            query_on_dask_worker, [], plan_context.reconstructable_job,
                            plan_context.dagster_run, plan_context.run_config, [step.key],
                            plan_context.instance.get_ref(), execution_plan.known_state,
                            key=f"{plan_context.job_name}.{step.key}.{run_id}",
                            resources=get_dask_resource_requirements(step.tags)) for step in level]
                        for future, events in dask.distributed.as_completed(futures, with_results=True):
                            future.release()
                            yield from events

        @executor_decorator(name="dask", requirements=dg.multiple_process_executor_requirements())
        def run_scoped_dask(_init_context):
            return Executor("existing", {"address": address})

        return run_scoped_dask


def dask_job(group: str, root: str, landing: str, address: str) -> dg.JobDefinition:
    """The named job `group` bound to the warehouse `root` and `landing` folder (as this process
    resolves them: a worker's environment is not ours), its steps on the Dask scheduler at `address`
    (rebuilt on each worker from these arguments)."""
    from orchestration.definitions import build_definitions
    from orchestration.resources import WarehouseResource

    executor = _RunScopedDaskExecutor.build(address)
    defs = build_definitions(WarehouseResource(root=root, landing_dir=landing), executor=executor)
    return defs.resolve_job_def(group)


def execute_on_dask(address: str, root: Path, landing: Path, instance: dg.DagsterInstance, job: str,
                    keys: list[dg.AssetKey], partition: str | None, run_config: dict, tags: dict) -> dg.ExecutionResult:
    """One named-job run whose steps run on the cluster; raises when a step failed."""
    recon = dg.build_reconstructable_job("orchestration.cluster_runs", "dask_job",
                                         reconstructable_args=(job, str(root), str(landing), address))
    if partition is not None:
        tags = {**tags, **recon.get_definition().get_tags_for_partition_key(partition, keys)}
    with dg.execute_job(recon, instance, run_config=run_config, tags=tags, asset_selection=keys,
                        raise_on_error=True) as result:
        return result

