"""One source per flow run: a folder, or a web source polled into the raw store, then every stage.

`govnlp run --source NAME|PATH|URL` calls it once; `govnlp serve` serves one
deployment of it per source in sources.toml, each on its own cron.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.runtime import flow_run
from prefect.states import Completed

from flows.tasks import finish, ingest_batches, run_ingest, run_model_stages
from govnlp import cancel, progress, steps
from govnlp.fetch import SourceUnavailable, load_sources, resolve_source
from govnlp.settings import load_settings, resolve_stages

SUMMARY_KEYS = ("requests", "pages", "fetched", "not_modified", "new", "new_versions", "unchanged", "failed", "rejected", "robots_skipped")


@task(name="poll-source", cache_policy=NONE)
def poll_task(ctx, source):
    with progress.counter("fetch") as (advance, set_total):
        return steps.poll_web_source(ctx, source, advance, set_total)


def summary_markdown(name: str, counts: dict) -> str:
    rows = "\n".join(f"| {key.replace('_', ' ')} | {counts.get(key, 0)} |" for key in SUMMARY_KEYS)
    return f"# Source `{name}`\n\n| URLs | count |\n|---|---:|\n{rows}\n\ndocuments stored: {counts.get('documents', 0)}, errors recorded: {counts.get('errors', 0)}\n"


@flow(name="govnlp-source", log_prints=True)
def source_flow(source: str, warehouse: str | None = None, stages: list[str] | None = None,
                allow_private_hosts: bool | None = None, lock_wait_seconds: float | None = None, cluster: str | None = None) -> dict:
    settings = load_settings(warehouse=warehouse, allow_private_hosts=allow_private_hosts or None, lock_timeout_seconds=lock_wait_seconds,
                             cluster=cluster)
    src = resolve_source(source, load_sources(settings.sources_file))
    stages = resolve_stages(stages)
    params = {"source": src.name, "kind": src.kind, "stages": stages, "spacy_model": settings.spacy_model, "embed_model": settings.embed_model}
    logger = get_run_logger()

    def work() -> dict:
        with steps.source_lock(settings, src.name) as holder:
            if holder is not None:
                message = f"source {src.name!r} is already being run ({holder}); this run is skipped so that two runs of one source never overlap"
                logger.warning(message)
                return Completed(message=message, data={"skipped": True, "source": src.name, "reason": message})
            with steps.open_run(settings, "source", stages, [src.location], params, flow_run.get_id()) as ctx:
                if "ingest" in stages and not src.is_web:
                    run_ingest(ctx, [Path(src.location)])
                elif "ingest" in stages:
                    run_web_ingest(ctx, src)
                run_model_stages(ctx, stages)
            create_markdown_artifact(summary_markdown(src.name, dict(ctx.counts)), key=f"source-{src.name}"[:100], description=f"govnlp poll of {src.name}")
            return {**ctx.summary(), "source": src.name}

    return finish(work)


def run_web_ingest(ctx, src) -> None:
    with ctx.timed("fetch"):
        poll, intake = poll_task(ctx, src)
    if intake is None:
        raise SourceUnavailable(f"source {src.name!r} failed: {poll.listing_error}")
    ctx.counts.update(intake.counts)
    cancel.check()
    ingest_batches(ctx, steps.web_batches(intake, src.name, ctx.settings.ingest_batch_files), len(intake.files))
