"""Where the model stages compute: in the writer's process (default) or on Dask workers (``--cluster``).

With a cluster, each model-stage batch's model work (``govnlp.compute``) is
a Prefect task run through ``prefect_dask.DaskTaskRunner`` on a worker
process; the results come back here, to the one process that holds the
warehouse, and are written as they arrive (``steps.finish_batch``), so
DuckDB keeps a single writer. Several batches are in flight at once (two
per worker), so a worker never waits for the writer.

``local:N`` starts a LocalCluster of N single-threaded worker processes
(Dask sets OMP/MKL threads to 1 in them: N workers use N cores);
``tcp://HOST:PORT`` uses the workers of a running ``dask scheduler``.
Each worker loads each model once (``govnlp.compute`` caches the loaders)
and the embedder picks CUDA where the worker has it. A worker that dies
mid-batch costs nothing but time: Dask runs the batch again on another
worker, and only the result that comes back is written, once.

The cluster starts on the first batch that needs it, so a run with nothing
to do never starts one.
"""

from __future__ import annotations

import importlib
import time
from collections import Counter

from prefect import task
from prefect.cache_policies import NONE

from govnlp import compute, steps
from govnlp.settings import cluster_spec


@task(name="model-batch", cache_policy=NONE)
def compute_batch(stage: str, spec: compute.ModelSpec, args: tuple) -> tuple:
    """One batch's model work on a worker: (result, seconds of model work, worker pid).

    No Prefect retry: a worker that dies is handled by Dask (the batch runs
    again elsewhere), and a batch that raises is halved by the writer's
    containment (``steps.finish_batch``), which a retry would only delay.
    """
    import os

    start = time.perf_counter()
    result = steps.COMPUTE[stage](spec, *args)
    return result, time.perf_counter() - start, os.getpid()


def _api_url() -> str:
    """The Prefect API this flow reports to, for the local workers' task runs.

    Without it, each worker process that runs its first task starts a
    temporary Prefect server of its own (measured: 8 s, a uvicorn child per
    worker) and its task runs are recorded there, out of the flow's sight.
    Workers of a remote scheduler (``tcp://``) need PREFECT_API_URL set
    where they run (README, Scale-out).
    """
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return str(client.api_url).rstrip("/")


def _worker_memory_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


class Workers:
    """The task runner for one run, started on first use and closed with the run."""

    def __init__(self, cluster: str | None):
        self.cluster = cluster
        self.runner = None
        self.loaded: set[str] = set()
        self.pids: Counter = Counter()  # batches per worker process

    @property
    def enabled(self) -> bool:
        return self.cluster is not None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        if self.runner is not None:
            self.runner.__exit__(*exc)
            self.runner = None

    def start(self):
        if self.runner is None:
            from prefect_dask import DaskTaskRunner

            kind, value = cluster_spec(self.cluster)
            if kind == "local":
                runner = DaskTaskRunner(cluster_class="distributed.LocalCluster",
                                        cluster_kwargs={"n_workers": value, "threads_per_worker": 1, "processes": True, "dashboard_address": ":0",
                                                        "env": {"PREFECT_API_URL": _api_url()}})
            else:
                runner = DaskTaskRunner(address=value)
            self.runner = runner.__enter__()
            if kind == "local":  # the batch size is planned from the worker count: count them all, not the first to connect
                self.runner.client.wait_for_workers(value, timeout=120)
            self.runner.client.run(importlib.import_module, __name__)  # the task's module, else imported inside the first batch
        return self.runner

    @property
    def client(self):
        return self.start().client

    def count(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    def load(self, ctx, stage: str) -> None:
        """Load the stage's model on every worker at once (not inside the first batch of each); the seconds go to the run record."""
        key = "spacy" if stage in ("entities", "quotes") else "embed"
        if key in self.loaded:
            return
        start = time.perf_counter()
        self.client.run(compute.load, ctx.models, stage)
        ctx.seconds[f"worker_load_{key}"] = round(time.perf_counter() - start, 3)
        self.loaded.add(key)

    def memory(self, ctx) -> None:
        """Resident memory of each worker process now (models loaded); the largest goes to the run record."""
        rss = self.client.run(_worker_memory_mb)
        ctx.counts["workers"] = len(rss)
        ctx.counts["worker_rss_mb_max"] = max(ctx.counts.get("worker_rss_mb_max", 0), round(max(rss.values())))

    def submit(self, stage: str, ctx, prepared: steps.Prepared):
        return self.start().submit(compute_batch, {"stage": stage, "spec": ctx.models, "args": prepared.args})

    def compute_now(self, ctx, stage: str, prepared: steps.Prepared):
        """One batch on a worker, waited for (the halves of a batch that failed)."""
        result, _, _ = self.submit(stage, ctx, prepared).result()
        return result


# A stage ends when its last batch does, and the workers that finished first wait: more batches per worker
# make that tail shorter, at about 0.17 s of Prefect per task (50 ms to submit, the rest on the worker; a plain
# Dask task takes 11 ms here: benchmarks/scale.py and the README).
BATCHES_PER_WORKER = 4


def distribute(ctx, workers: Workers, stage: str, total: int, doc_ids, advance, check) -> None:
    """Every pending batch of a stage through the workers, several in flight; each result stored as it comes back."""
    from prefect.futures import as_completed

    workers.load(ctx, stage)
    n = workers.count()
    size = steps.batch_size(ctx, stage, distributed=True)
    if total < size * BATCHES_PER_WORKER * n:  # enough batches that the last ones do not leave the other workers idle long
        size = max(steps.MIN_DISTRIBUTED_BATCH, -(-total // (BATCHES_PER_WORKER * n)))
    _, batches = steps.pending(ctx, stage, doc_ids, size)
    in_flight: dict = {}

    def writer_time():
        """Seconds the writer spends reading inputs and storing results: the ceiling on what workers can add."""
        return ctx.timed(f"{stage}_writer")

    def store(future) -> None:
        batch, prepared = in_flight.pop(future)
        try:
            result, seconds, pid = future.result()
            ctx.seconds[f"{stage}_worker"] = round(ctx.seconds.get(f"{stage}_worker", 0.0) + seconds, 3)
            workers.pids[pid] += 1
            ctx.counts.update({f"{stage}_tasks": 1})
            outcome = result
        except Exception as exc:  # the batch raised on its worker: contained in the writer, halves computed on the workers
            outcome = exc
        with writer_time():
            advance(steps.finish_batch(ctx, stage, batch, prepared, outcome, lambda s, p: workers.compute_now(ctx, s, p)))

    try:
        for batch in batches:
            check()
            with writer_time():
                prepared = steps.prepare(ctx, stage, batch)
            in_flight[workers.submit(stage, ctx, prepared)] = (batch, prepared)
            while len(in_flight) >= 2 * n:
                store(next(as_completed(list(in_flight))))
        while in_flight:
            check()
            store(next(as_completed(list(in_flight))))
    finally:
        for future in in_flight:  # a stop or an error: what is still computing is dropped (never written)
            future.wrapped_future.cancel()
    workers.memory(ctx)
