"""Sweeps over worker processes (or a cluster): configs split into chunks, each chunk runs every day
of the sweep in order, every (config, day) result checkpointed, results merged as `run_many` would.

`run_parallel(root, jobs, underlying, days, executor=...)` is the one entry point; see its docstring
for the contract an executor (a ProcessPoolExecutor, Dask's `client.get_executor()`) must meet.

Why a chunk is "a set of configs x every day" and not "configs x one day":
- a config's days are not independent: the Kelly sizing carries the tracked capital from one day to
  the next (backtest.run's `_Job.capital`), so one config's days run in order in one task;
- sweeps have many more configs than days (the demo has 2 days, a sweep 100 configs): splitting by
  config keeps every core busy where splitting by day could not;
- a chunk reads each day once (two threads read ahead, as in `run_many`) and runs all its configs on
  it; with the default of one chunk per worker, each worker reads each day once.
Progress and resume do not need small tasks: a chunk writes a checkpoint per (config, day) as it
goes, the parent counts them for progress, and a rerun skips them.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from backtest.models import FeeModel
from backtest.run import Needs, RunResult, _finish, _Job, _write_day, load_inputs, partition_version
from backtest.simulate import DayResult, make_run_id, simulate_day
from backtest.strategies import CATALOGUE, Strategy
from backtest.strategies.base import StrategyConfig
from warehouse import schema as S
from warehouse.files import atomic_path, atomic_write_json, read_json
from warehouse.readahead import map_ahead
from warehouse.version import code_version

SWEEPS_DIR = "backtests/sweeps"     # under the warehouse root: one directory per sweep
POLL_S = 0.5                        # how often the parent counts checkpoints for progress
PRELOAD_BYTES = 1 << 30             # days' inputs the parent loads for its forked workers, at most (_preload)

# (root, underlying, day, needs) -> load_inputs' result, loaded by the parent before it forks its own
# worker processes, which inherit it (copy-on-write) instead of each reading every day (_preload)
_PRELOADED: dict[tuple, tuple | None] = {}


@dataclass(frozen=True)
class ChunkJob:
    """One config of a chunk: its position in the sweep, its strategy (a catalogue name, resolved in
    the worker: the catalogue's signal functions are closures and do not pickle; or a picklable
    Strategy), config, fee model and run id."""

    index: int
    strategy: str | Strategy
    cfg: StrategyConfig
    fees: FeeModel
    run_id: str


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs, all picklable: the warehouse root and the checkpoint directory
    (both paths the worker must see: a local disk or a shared file system), the days in order, the
    columns/expiries every config of the whole sweep needs (the same for every chunk, so each day
    loads exactly as in a single-process run)."""

    root: str
    checkpoints: str
    underlying: str
    days: tuple[dt.date, ...]
    needs: Needs
    jobs: tuple[ChunkJob, ...]
    log_events: bool = True
    write: bool = False
    versions: tuple[str, ...] = ()      # the days' partition versions (backtest_runs' data_version)


@dataclass
class ChunkReport:
    """What `run_chunk` returns (small: the rows stay in the checkpoint files): the sweep indexes of
    its configs, and the (config index, day) pairs it computed and those it found checkpointed."""

    indexes: list[int]
    computed: list[tuple[int, str]] = field(default_factory=list)
    reused: list[tuple[int, str]] = field(default_factory=list)
    pid: int = 0
    runs: dict[int, tuple[dict, float, float]] = field(default_factory=dict)  # index -> (metrics, engine_s, cells)
    phases: dict[str, list[float]] = field(default_factory=dict)   # [wall, CPU] seconds by phase (Clock)
    faults: int = 0          # minor page faults of the task's process meanwhile (memory mapped in afresh)


class Clock:
    """Seconds by phase (`with clock("engine"): ...`), summed, as [wall, CPU of this thread]: the
    profile a sweep leaves in its last_run.json, so a benchmark (or a user) sees where a sweep's time
    went; on a busy machine the CPU column is what a phase costs, the wall column what it took."""

    def __init__(self) -> None:
        self.phases: dict[str, list[float]] = {}

    def add(self, phase: str, wall: float, cpu: float) -> None:
        w, c = self.phases.get(phase, (0.0, 0.0))
        self.phases[phase] = [w + wall, c + cpu]

    @contextlib.contextmanager
    def __call__(self, phase: str):
        t, c = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.add(phase, time.perf_counter() - t, time.thread_time() - c)


# -- checkpoints --------------------------------------------------------------------------------
def _paths(checkpoints: str | Path, index: int, day: dt.date) -> tuple[Path, Path, Path]:
    base = Path(checkpoints) / f"c{index:05d}" / day.isoformat()
    return base.with_suffix(".legs.arrow"), base.with_suffix(".events.arrow"), base.with_suffix(".json")


def _write_table(path: Path, table: pa.Table) -> None:
    # no fsync: a checkpoint must survive a killed process (the page cache does), not a power cut
    with atomic_path(path, fsync=False) as tmp, ipc.new_file(tmp, table.schema) as w:
        w.write_table(table)


def _read_table(path: Path) -> pa.Table:
    with ipc.open_file(path) as r:
        return r.read_all()


def write_checkpoint(checkpoints: str | Path, index: int, day: dt.date, res: DayResult | None,
                     engine_s: float = 0.0, cells: int = 0) -> None:
    """One (config, day) result: legs and events as Arrow IPC files, then the JSON marker (written
    last, atomically: it is what says the checkpoint is complete). `res` None: the day had no
    option features (the run skips it)."""
    legs_p, events_p, marker = _paths(checkpoints, index, day)
    if res is not None:
        _write_table(legs_p, res.legs)
        _write_table(events_p, res.events)
    atomic_write_json(marker, {"loaded": res is not None, "gross": res.gross if res else 0.0,
                               "engine_s": engine_s, "cells": cells}, fsync=False)


def read_checkpoint(checkpoints: str | Path, index: int, day: dt.date) -> tuple[dict, DayResult | None] | None:
    """The marker and the day's result of a finished (config, day), or None when it is not finished
    (no marker, or files a killed writer left unreadable)."""
    legs_p, events_p, marker = _paths(checkpoints, index, day)
    try:
        m = read_json(marker)
        if m is None:
            return None
        if not m["loaded"]:
            return m, None
        return m, DayResult(_read_table(legs_p), _read_table(events_p), m["gross"])
    except (OSError, ValueError, KeyError, pa.ArrowInvalid):
        return None


def count_checkpoints(checkpoints: str | Path, done: dict[str, int] | None = None, days: int = 0) -> int:
    """Finished (config, day) pairs in a sweep's checkpoint directory. With `done` (a dict kept
    between calls) and the sweep's number of `days`, a config directory once found with every day
    finished is remembered there and not listed again: the progress poll of a sweep of thousands
    of configs lists only the unfinished ones."""
    base = Path(checkpoints)
    if not base.exists():
        return 0
    done = {} if done is None else done
    n = 0
    for d in os.scandir(base):
        if d.name in done or not d.is_dir():
            continue
        k = sum(1 for f in os.scandir(d.path) if f.name.endswith(".json"))
        if days and k >= days:
            done[d.name] = k
        else:
            n += k
    return n + sum(done.values())


# -- the task -----------------------------------------------------------------------------------
def _strategy(ref: str | Strategy) -> Strategy:
    return CATALOGUE[ref] if isinstance(ref, str) else ref


def run_chunk(task: ChunkTask) -> ChunkReport:
    """Run a chunk (executed in a worker): each day in order, read once when one of the chunk's
    configs has not finished it, every unfinished config simulated on it and checkpointed (with
    `write`, its trade_legs/trade_events partitions written first, as `run_many` does). A finished
    (config, day) is not recomputed: its checkpoint gives the day's legs, events and gross P&L, which
    moves the Kelly sizing's tracked capital exactly as the run did. After the last day each config
    is summarised here by backtest.run's own `_finish` (its metrics, and with `write` its
    backtest_runs row): the parent then reads no rows back, it gets the metrics in the report."""
    t0, c0, f0 = time.perf_counter(), time.process_time(), _faults()
    clock = Clock()
    report = ChunkReport([j.index for j in task.jobs], pid=os.getpid())
    states = {j.index: _Job(_strategy(j.strategy), j.cfg, j.fees, j.run_id, [], []) for j in task.jobs}
    with clock("scan"):
        done = {(j.index, day): _finished(task.checkpoints, j.index, day) for j in task.jobs for day in task.days}
    work = [day for day in task.days if any(done[j.index, day] is None for j in task.jobs)]
    to_read = set(work)

    def load(day):
        key = (task.root, task.underlying, day, task.needs)
        if key in _PRELOADED:           # a forked worker: its parent loaded the day
            return _PRELOADED[key]
        with clock("load (threads)"):
            return load_inputs(Path(task.root), task.underlying, day, task.needs)

    loaded_days = iter(map_ahead(load, work, workers=2))
    for day in task.days:
        with clock("wait for load"):
            loaded = next(loaded_days) if day in to_read else None
        for j in task.jobs:
            st = states[j.index]
            if done[j.index, day] is not None:
                with clock("read back"):
                    _reuse(st, task.checkpoints, j.index, day)
                report.reused.append((j.index, day.isoformat()))
                continue
            if loaded is None:
                with clock("checkpoint"):
                    write_checkpoint(task.checkpoints, j.index, day, None)
            else:
                data, spot = loaded
                t1, c1 = time.perf_counter(), time.thread_time()
                res = simulate_day(st.strategy, st.cfg, data, st.run_id, task.log_events, spot, st.fees, st.capital)
                engine_s = time.perf_counter() - t1
                clock.add("engine", engine_s, time.thread_time() - c1)
                cells = data.Q.shape[0] * data.Q.shape[1]
                if task.write:
                    with clock("write partitions"):
                        _write_day(Path(task.root), st.run_id, {"underlying": task.underlying, "date": day}, res)
                with clock("checkpoint"):
                    write_checkpoint(task.checkpoints, j.index, day, res, engine_s, cells)
                _add(st, res, engine_s, cells)
            report.computed.append((j.index, day.isoformat()))
    with clock("finish"):
        for i, st in states.items():
            run = _finish(Path(task.root), st, task.underlying, list(task.days), list(task.versions), task.write)
            report.runs[i] = (run.metrics, run.engine_s, run.contract_seconds)
    report.phases = {**clock.phases, "task": [time.perf_counter() - t0, time.process_time() - c0]}
    report.faults = _faults() - f0
    return report


def _faults() -> int:
    try:
        import resource
    except ImportError:           # not on Unix: not counted
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _add(st: _Job, res: DayResult, engine_s: float, cells: int) -> None:
    """A day's result into a config's run, as run_many adds it (the capital moved by its gross)."""
    st.capital = (st.cfg.risk.capital if st.capital is None else st.capital) + res.gross
    st.engine_s += engine_s
    st.cells += cells
    st.legs.append(res.legs)
    st.events.append(res.events)


def _reuse(st: _Job, checkpoints: str, index: int, day: dt.date) -> None:
    """A finished (config, day) into its run from the checkpoint (a day without data adds nothing)."""
    got = read_checkpoint(checkpoints, index, day)
    if got is None:
        raise RuntimeError(f"sweep {checkpoints}: the checkpoint of config {index} ({st.run_id}) on {day} "
                           f"is unreadable; delete {Path(checkpoints) / f'c{index:05d}'} and rerun")
    marker, res = got
    if res is not None:
        _add(st, DayResult(_cast(res.legs, S.TRADE_LEGS), _cast(res.events, S.TRADE_EVENTS), res.gross),
             marker["engine_s"], marker["cells"])


def _finished(checkpoints: str, index: int, day: dt.date) -> dict | None:
    """The marker of a finished (config, day), or None (no marker, or its legs file missing)."""
    legs_p, _, marker = _paths(checkpoints, index, day)
    try:
        m = read_json(marker)
    except ValueError:          # cannot happen with an atomic write; treated as unfinished
        return None
    return m if m is not None and (not m["loaded"] or legs_p.exists()) else None


# -- the parent ---------------------------------------------------------------------------------
def sweep_id(run_ids: list[str], underlying: str, log_events: bool, write: bool, fees: FeeModel | None) -> str:
    """Names a sweep's checkpoint directory: the same configs, days, data and code (the run ids hash
    them) with the same options give the same directory, so a rerun resumes."""
    key = json.dumps([run_ids, underlying, log_events, write, repr(fees), code_version("backtest")])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def chunked(n: int, slots: int, chunk_configs: int | None = None) -> list[range]:
    """Config indexes 0..n-1 in contiguous chunks: `chunk_configs` each, default one chunk per slot."""
    size = chunk_configs or max(1, math.ceil(n / max(slots, 1)))
    return [range(i, min(i + size, n)) for i in range(0, n, size)]


def _default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_parallel(root, jobs: list[tuple[Strategy, StrategyConfig]], underlying: str, days: list[dt.date], *,
                 executor: cf.Executor | None = None, workers: int | None = None, chunk_configs: int | None = None,
                 log_events: bool = True, fees: FeeModel | None = None, write: bool = False,
                 progress=None, checkpoints: str | os.PathLike | None = None) -> list[RunResult]:
    """The runs of `jobs` (strategy, config) over `days` of one underlying, spread over an executor;
    the same RunResults (run ids, legs, events, metrics, stored partitions) as
    `run_many(root, jobs, underlying, days, log_events, fees, write)`, in the same order.

    Contract (for a caller passing its own executor, e.g. Dask's `client.get_executor()`):
    - `executor.submit(run_chunk, task)` is called once per chunk; `task` is a `ChunkTask` (a frozen
      dataclass of str paths, dates, dataclass configs, FeeModels and catalogue strategy names: all
      picklable; a Strategy outside the catalogue is sent as the object and must pickle). `run_chunk`
      is a module-level function of this module: workers must import the same ticklake code.
    - Workers read the warehouse at `task.root` and write checkpoints under `task.checkpoints`: both
      must be the same directories for the parent and every worker (one machine, or a shared file
      system). With `write`, workers also write the runs' trade_legs/trade_events partitions.
    - A task returns a small `ChunkReport` (config indexes, the (index, day) pairs computed and
      reused, each config's metrics and timings, the task's phase times); the rows stay in the
      checkpoint files. The executor is not shut down here.
    - Chunks: `chunk_configs` configs each (default: n / `workers`, one chunk per worker), each
      running every day in order. `workers` defaults to the cores; with a caller's executor pass its
      worker count (it only sizes the chunks).
    - Checkpoints: `<checkpoints>/c<index>/<day>.legs.arrow`, `.events.arrow` and `.json` (written
      last, atomically: the marker of a finished (config, day)); `checkpoints` defaults to
      `<root>/backtests/sweeps/<sweep_id>`, a hash of the run ids and options, so a rerun of the same
      sweep after a kill skips every finished (config, day). They are kept after the sweep (a
      finished sweep reruns from them); deleting the directory frees the space.
    - Summary: the task that ran a config's last day summarises it by backtest.run's own `_finish`
      over its days' results in day order (with `write` it writes the backtest_runs row): the
      metrics of a single-process run whatever the executor, chunking or completion order. The
      returned runs are `CheckpointedRun`s: their legs and events are the checkpoints' rows,
      concatenated in day order when first used (the parent reads no rows a caller does not use).
    - Progress: `progress(dict)` (orchestration.progress protocol) gets the (config, day) pairs done
      out of the total, counted from the checkpoint files every POLL_S seconds.
    A chunk's failure is raised here (the other chunks' checkpoints stay for the rerun)."""
    clock = Clock()
    t0, c0 = time.perf_counter(), time.process_time()
    root = Path(root)
    with clock("prepare"):
        versions = [partition_version(root, t, {"underlying": underlying, "date": d}) for d in days
                    for t in ("options_grid", "features_options")]
        states = [_Job(s, c, fees or c.execution.fees, make_run_id(c, underlying, days, versions, log_events),
                       [], [])
                  for s, c in jobs]
        ckpt = Path(checkpoints) if checkpoints else root / SWEEPS_DIR / sweep_id([j.run_id for j in states],
                                                                                   underlying, log_events, write, fees)
        ckpt.mkdir(parents=True, exist_ok=True)
        atomic_write_json(ckpt / "sweep.json", {"underlying": underlying, "days": [d.isoformat() for d in days],
                                                "runs": [j.run_id for j in states], "log_events": log_events,
                                                "write": write})
        needs = Needs.of(jobs)
        n_workers = workers or _default_workers()
        refs = [s.name if CATALOGUE.get(s.name) is s else s for s, _ in jobs]
        tasks = [ChunkTask(str(root), str(ckpt), underlying, tuple(days), needs,
                           tuple(ChunkJob(i, refs[i], states[i].cfg, states[i].fees, states[i].run_id) for i in rng),
                           log_events, write, tuple(versions))
                 for rng in chunked(len(jobs), n_workers, chunk_configs)]
    reports = _execute(tasks, executor, n_workers, ckpt, len(jobs) * len(days), progress, clock)
    summaries = {i: run for r in reports for i, run in r.runs.items()}
    missing = [i for i in range(len(states)) if i not in summaries]
    if missing:
        raise RuntimeError(f"sweep {ckpt}: no result for config {missing[0]} ({states[missing[0]].run_id})")
    out = [CheckpointedRun(ckpt, i, j.run_id, j.cfg.name, summaries[i][0], list(days), write, *summaries[i][1:])
           for i, j in enumerate(states)]
    _log_run(ckpt, reports, {**clock.phases, "total": [time.perf_counter() - t0, time.process_time() - c0]})
    return out


class CheckpointedRun(RunResult):
    """A sweep's RunResult: run id, metrics, days, timings as `run_many` gives them, and its legs and
    events read from the sweep's checkpoints (concatenated in day order, as run_many concatenates
    them) when first used: a sweep's table needs only the metrics, a walk-forward the legs."""

    def __init__(self, ckpt: Path, index: int, run_id: str, strategy: str, metrics: dict, days: list[dt.date],
                 stored: bool, engine_s: float = 0.0, contract_seconds: int = 0) -> None:
        self._ckpt, self._index, self._tables = ckpt, index, None
        self.run_id, self.strategy, self.metrics, self.days, self.stored = run_id, strategy, metrics, days, stored
        self.engine_s, self.contract_seconds = engine_s, contract_seconds

    def _load(self) -> tuple[pa.Table, pa.Table]:
        if self._tables is None:
            legs, events = [], []
            for day in self.days:
                got = read_checkpoint(self._ckpt, self._index, day)
                if got is None:
                    raise RuntimeError(f"sweep {self._ckpt}: config {self._index} ({self.run_id}) has no "
                                       f"finished checkpoint for {day} (the sweep's directory was removed?)")
                if got[1] is not None:
                    legs.append(_cast(got[1].legs, S.TRADE_LEGS))
                    events.append(_cast(got[1].events, S.TRADE_EVENTS))
            self._tables = (pa.concat_tables(legs) if legs else S.TRADE_LEGS.empty_table(),
                            pa.concat_tables(events) if events else S.TRADE_EVENTS.empty_table())
        return self._tables

    @property
    def legs(self) -> pa.Table:
        return self._load()[0]

    @property
    def events(self) -> pa.Table:
        return self._load()[1]


def _log_run(ckpt: Path, reports: list[ChunkReport], phases: dict[str, list[float]]) -> None:
    """`<ckpt>/last_run.json`: what each chunk computed and reused, and where the time went (the
    parent's phases, each chunk's phases and CPU seconds)."""
    atomic_write_json(ckpt / "last_run.json", {
        "computed": sum(len(r.computed) for r in reports), "reused": sum(len(r.reused) for r in reports),
        "phases": phases,
        "chunks": [{"configs": r.indexes, "pid": r.pid, "computed": r.computed, "reused": r.reused,
                    "phases": r.phases, "faults": r.faults} for r in reports]}, fsync=False)


def _cast(t: pa.Table, schema: pa.Schema) -> pa.Table:
    return t if t.schema.equals(schema, check_metadata=True) else t.cast(schema)


def _execute(tasks: list[ChunkTask], executor: cf.Executor | None, workers: int, ckpt: Path, total: int,
             progress, clock: Clock) -> list[ChunkReport]:
    """Run the tasks on the given executor, else on a ProcessPoolExecutor of `workers` (one worker:
    a thread of this process); progress from the checkpoint count while they run."""
    days, seen = len(tasks[0].days) if tasks else 0, {}
    start = count_checkpoints(ckpt, seen, days) if progress else 0
    own, pool = executor is None, executor
    one = workers <= 1 or len(tasks) <= 1
    try:
        if own and not one and _context().get_start_method() == "fork":
            with clock("preload"):
                _preload(tasks)
        with clock("pool start"):
            if own:
                pool = cf.ThreadPoolExecutor(1) if one else cf.ProcessPoolExecutor(workers, mp_context=_context())
            futures = [pool.submit(run_chunk, t) for t in tasks]
        with clock("wait"):
            pending = set(futures)
            while pending:
                _, pending = cf.wait(pending, timeout=POLL_S, return_when=cf.FIRST_EXCEPTION)
                failed = next((f for f in futures if f.done() and f.exception() is not None), None)
                if failed is not None:
                    raise failed.exception()
                if progress:
                    progress({"files_done": count_checkpoints(ckpt, seen, days) - start, "files_total": total - start,
                              "source": f"{len(futures) - len(pending)}/{len(futures)} chunks done"})
            reports = [f.result() for f in futures]
    finally:
        if own and pool is not None:
            with clock("pool shutdown"):
                pool.shutdown(wait=True, cancel_futures=True)
        _PRELOADED.clear()
    return reports


def _preload(tasks: list[ChunkTask]) -> None:
    """Load here, in day order, the days a sweep still has to compute, up to PRELOAD_BYTES of dense
    inputs, for the worker processes about to be forked: each inherits them instead of reading and
    densifying every day itself (the same work once per worker, and the first day's read before
    any engine could start). Days past the budget each worker reads as before. Two days at a time
    on two threads (Parquet decoding releases the GIL; the engines wait for this), both joined
    before the fork: no thread of ours is alive then."""
    task, size = tasks[0], 0            # every task has the same root, days and needs
    indexes = [j.index for t in tasks for j in t.jobs]
    todo = [day for day in task.days    # days every config finished: no worker reads them
            if not all(_paths(task.checkpoints, i, day)[2].exists() for i in indexes)]

    def load(day):
        return day, load_inputs(Path(task.root), task.underlying, day, task.needs)

    days = map_ahead(load, todo, workers=2)
    try:
        for day, loaded in days:
            _PRELOADED[task.root, task.underlying, day, task.needs] = loaded
            size += _nbytes(loaded)
            if size >= PRELOAD_BYTES:
                return
    finally:
        days.close()                    # joins the threads (map_ahead's pool) before the fork


def _nbytes(loaded: tuple | None) -> int:
    """The numpy arrays' bytes of a loaded day (its grid, book, features and spot columns)."""
    if loaded is None:
        return 0
    data, spot = loaded
    arrays = [data.Q, data.book, data.book_row, data.t_s, data.spot, data.atm, *data.F.values(), *spot.values()]
    return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


def _context():
    """fork where there is one (workers start in milliseconds with the parent's imports and its
    preloaded days); the parent's own threads (progress, read-ahead) are not running at the fork,
    and Arrow re-creates its thread pool in a forked child."""
    import multiprocessing as mp

    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def profile_lines(ckpt: str | os.PathLike) -> list[str]:
    """Where a sweep's time went, from its last_run.json: the parent's phases, then each chunk's, as
    "phase wall/CPU" seconds (a chunk's "load (threads)" runs beside its engine; "task" and the
    parent's "total" CPU are the whole process's, every thread)."""
    last = read_json(Path(ckpt) / "last_run.json") or {}

    def fmt(phases: dict) -> str:
        return "  ".join(f"{k} {w:.2f}/{c:.2f}" for k, (w, c) in sorted(phases.items()))

    lines = [f"parent: {fmt(last.get('phases', {}))}"]
    lines += [f"chunk of {len(c['configs'])} configs (pid {c['pid']}): {fmt(c.get('phases', {}))}  "
              f"minor faults {c.get('faults', 0)}" for c in last.get("chunks", [])]
    return lines
