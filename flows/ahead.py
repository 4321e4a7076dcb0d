"""Embedding ahead: in a run in one process, the embedder computes on a second core while spaCy runs.

spaCy's pipeline uses one core; the entities stage used to leave the other
idle for its whole length, and the embed stage came after it. Measured on
this 2-core machine, spaCy over 1,200 paragraphs took 14.1 s alone and 14.2
s while a thread embedded 500 others with one torch thread (11.0 s, 9.3 s
alone): the two hardly slow each other (spaCy's and torch's inner loops run
without the GIL). So while the entities stage runs in the main thread, one
daemon thread computes the embed stage's batches (``govnlp.compute``, plain
records in and out); the main thread stores each result between entity
batches, through the same containment as a batch computed on a Dask worker
(``steps.finish_batch``). DuckDB keeps one writer: only the main thread
reads and writes.

The thread's torch uses one core fewer than the machine has while spaCy
runs, and every core once the entities stage is done; the embed stage then
stores what is left in flight and computes the remaining batches as before. On a cluster (``--cluster``)
the workers compute and nothing here is used; ``settings.embed_ahead``
turns it off.

A plain daemon thread rather than ``concurrent.futures``: an executor's
threads are joined at interpreter exit, so a stopped run would wait for the
batch being embedded before it could exit; a daemon thread's batch is
simply dropped.
"""

from __future__ import annotations

import os
import queue
import threading

from govnlp import compute, steps

# Batches computed or waiting ahead at once: enough to keep the thread busy, few enough that a stop drops
# little work (a dropped batch is computed again by the next run, nothing is stored twice).
IN_FLIGHT = 2


class EmbedAhead:
    """The embed stage's model work on a daemon thread while the main thread runs the entities stage."""

    def __init__(self, ctx, doc_ids=None):
        self.ctx = ctx
        # Small enough that the batch the thread is on when the entities stage ends is a short tail.
        size = min(ctx.settings.embed_task_paragraphs, 2 * ctx.settings.model_batch_paragraphs)
        self.total, self._batches = steps.pending(ctx, "embed", doc_ids, size)
        self._inbox: queue.Queue = queue.Queue()
        self._outbox: queue.Queue = queue.Queue()
        self._in_flight: dict[int, tuple] = {}
        self._next = 0
        self._threads = 1
        self._entities_done = False
        self._thread = None
        self._model = threading.Lock()  # one embedding at a time: the tokenizer is not safe across threads

    @classmethod
    def start(cls, ctx, stages, doc_ids=None) -> EmbedAhead | None:
        """Start when the run will use spaCy and the embedder in this process, and both have paragraphs to do."""
        if not (ctx.settings.embed_ahead and "entities" in stages and "embed" in stages) or ctx.settings.cluster:
            return None
        if (os.cpu_count() or 1) < 2:  # one core: nothing to overlap
            return None
        if not steps.pending(ctx, "entities", doc_ids)[0]:
            return None
        ahead = cls(ctx, doc_ids)
        if not ahead.total:
            return None
        import torch

        ahead._threads = torch.get_num_threads()
        ahead._thread = threading.Thread(target=ahead._work, name="govnlp-embed-ahead", daemon=True)
        ahead._thread.start()
        ahead.pump()
        return ahead

    def _work(self) -> None:
        """The thread: compute what arrives, return (key, result or exception); None ends it."""
        import torch

        while (item := self._inbox.get()) is not None:
            key, spec, args = item
            # Torch's thread count is read per thread: set here, before each batch, so the thread leaves spaCy
            # its core while the entities stage runs and takes every core once it is over (``finish``).
            torch.set_num_threads(self._threads if self._entities_done else max(1, self._threads - 1))
            try:
                with self._model:
                    outcome = compute.embed(spec, *args)
            except Exception as exc:  # contained by the main thread, as a failed Dask batch is
                outcome = exc
            self._outbox.put((key, outcome))

    def pump(self, wait: bool = False) -> None:
        """Main thread: store finished batches, then top the thread up; ``wait`` blocks for one result if any is out."""
        while True:
            try:
                key, outcome = self._outbox.get(block=wait and bool(self._in_flight))
            except queue.Empty:
                break
            wait = False
            batch, prepared = self._in_flight.pop(key)
            done = steps.finish_batch(self.ctx, "embed", batch, prepared, outcome, self._compute_here)
            self.ctx.counts.update(embedded_ahead=done)
        while self._batches is not None and len(self._in_flight) < IN_FLIGHT:
            batch = next(self._batches, None)
            if batch is None:
                self._batches = None
                break
            prepared = steps.prepare(self.ctx, "embed", batch)
            self._next += 1
            self._in_flight[self._next] = (batch, prepared)
            self._inbox.put((self._next, self.ctx.models, prepared.args))

    def _compute_here(self, stage: str, prepared):
        """The halves of a batch that failed, computed in the main thread once the model is free."""
        with self._model:
            return steps.compute_here(self.ctx, stage, prepared)

    def finish(self) -> None:
        """The entities stage is done: the thread takes every core for what is in flight, which is stored."""
        self._batches = None  # the embed stage computes the rest in the main thread
        self._entities_done = True
        while True:  # batches the thread has not started go back: the embed stage computes them with every core
            try:
                key, _, _ = self._inbox.get_nowait()
            except queue.Empty:
                break
            self._in_flight.pop(key)
        while self._in_flight:
            self.pump(wait=True)
        self.close()

    def close(self) -> None:
        """End the thread; a batch it is computing is dropped (its paragraphs stay pending, nothing is half stored)."""
        self._in_flight.clear()
        if self._thread is not None:
            self._inbox.put(None)
            self._thread = None
        import torch

        torch.set_num_threads(self._threads)  # in case the count is process-wide: the main thread's again
