"""Prefect tasks: one batch of one stage each, retried on failure (a batch commits whole or not at all).

Between batches the loops call ``cancel.check()``: a SIGINT/SIGTERM stops the
run there, outside any task, so the stop is never retried.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NONE
from prefect.states import Cancelled, Failed

from flows.ahead import EmbedAhead
from flows.cluster import Workers, distribute
from govnlp import cancel, progress, steps
from govnlp.warehouse import WarehouseBusy


@task(name="ingest-batch", retries=1, retry_delay_seconds=1, cache_policy=NONE)
def ingest_batch(ctx, files, errors, web=None) -> None:
    steps.ingest_batch(ctx, files, errors, web)


@task(name="entities-batch", retries=1, retry_delay_seconds=1, cache_policy=NONE)
def entities_batch(ctx, batch) -> int:
    return steps.entities_batch(ctx, batch)


@task(name="quotes-batch", retries=1, retry_delay_seconds=1, cache_policy=NONE)
def quotes_batch(ctx, batch) -> int:
    return steps.quotes_batch(ctx, batch)


@task(name="embed-batch", retries=1, retry_delay_seconds=1, cache_policy=NONE)
def embed_batch(ctx, batch) -> int:
    return steps.embed_batch(ctx, batch)


@task(name="themes-batch", retries=1, retry_delay_seconds=1, cache_policy=NONE)
def themes_batch(ctx, batch) -> int:
    return steps.themes_batch(ctx, batch)


@task(name="document-themes", retries=1, cache_policy=NONE)
def document_themes(ctx) -> int:
    return steps.document_themes(ctx)


@task(name="topics", retries=1, retry_delay_seconds=1, cache_policy=NONE)
def topics(ctx, recluster: bool = False) -> int:
    return steps.topics(ctx, recluster)


def finish(work):
    """Run a flow body; a stop signal ends the flow run Cancelled, a busy warehouse Failed without a traceback."""
    try:
        return work()
    except cancel.RunCancelled as exc:
        return Cancelled(message=str(exc))
    except WarehouseBusy as exc:  # another run holds the warehouse: expected, and the CLI re-raises it as exit 75
        return Failed(message=str(exc), data=exc)


# Model stages in dependency order: quotes read the stored mentions, themes score the stored embeddings.
# (The entities batch computes the quotes of its paragraphs in the same spaCy pass; the quotes stage
# then does only what is left: paragraphs whose entities are current but whose quotes are not.)
MODEL_STAGE_TASKS = {"entities": entities_batch, "quotes": quotes_batch, "embed": embed_batch, "themes": themes_batch}


def run_ingest(ctx, sources) -> None:
    """New files under folder sources."""
    files, errors = steps.new_files(ctx, sources)
    ingest_batches(ctx, steps.file_batches(files, errors, ctx.settings.ingest_batch_files), len(files))


def ingest_batches(ctx, batches, total: int, label: str = "ingest") -> None:
    """Store (files, errors, web) batches one task each, then refresh the keyword index and publish.

    Folder files, fetched pages and pages re-read from the raw store all come through here.
    """
    with ctx.timed("ingest"), progress.track(label, total) as advance:
        for files, errors, web in batches:
            cancel.check()
            ingest_batch(ctx, files, errors, web)
            advance(len(files))
    cancel.check()
    steps.refresh_keyword_index(ctx)
    ctx.publish()


def run_model_stages(ctx, stages, doc_ids=None, recluster: bool = False) -> None:
    """The per-paragraph model stages in order, then the topics (the whole corpus at once; ``recluster``: from scratch).

    With ``settings.cluster`` the per-paragraph stages' model work runs on Dask workers (flows/cluster.py);
    without, the embedder computes on a second core while the entities stage runs (flows/ahead.py).
    """
    with Workers(ctx.settings.cluster) as workers:
        ahead = None if workers.enabled else EmbedAhead.start(ctx, stages, doc_ids)
        try:
            for stage in MODEL_STAGE_TASKS:
                if stage not in stages:
                    continue
                cancel.check()
                with ctx.timed(stage):
                    if stage == "embed" and ahead is not None:  # store what was computed ahead; the rest as usual
                        ahead.finish()
                        ahead = None
                    if stage == "themes":
                        steps.sync_themes(ctx)
                    total, batches = steps.pending(ctx, stage, doc_ids)
                    with progress.track(stage, total) as advance:
                        if workers.enabled and total and stage in steps.COMPUTE:
                            distribute(ctx, workers, stage, total, doc_ids, advance, cancel.check)
                        else:
                            for batch in batches:
                                cancel.check()
                                advance(MODEL_STAGE_TASKS[stage](ctx, batch))
                                if ahead is not None:
                                    ahead.pump()
                    if stage == "themes":
                        cancel.check()
                        document_themes(ctx)
                ctx.publish()
        finally:
            if ahead is not None:
                ahead.close()
    if "topics" in stages:
        cancel.check()
        with ctx.timed("topics"), progress.track("topics", 1) as advance:
            topics(ctx, recluster)
            advance(1)
        ctx.publish()
