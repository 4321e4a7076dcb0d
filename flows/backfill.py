"""The backfill flow: re-run chosen stages over stored documents picked by date range and source."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from flows.tasks import finish, ingest_batches, run_ingest, run_model_stages
from govnlp import steps
from govnlp.fetch import load_sources
from govnlp.settings import MODEL_STAGES, load_settings, resolve_stages


@flow(name="govnlp-backfill", log_prints=True)
def backfill_flow(
    stages: list[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    source: str | None = None,
    warehouse: str | None = None,
    cluster: str | None = None,
) -> dict:
    """Without filters every stored document is re-processed.

    ``source``: a folder (with ``ingest``: its new files too), a URL prefix or a
    web source's name (with ``ingest``: its archived pages re-extracted from
    the raw store, no network; changed extraction becomes a new version).
    """
    settings = load_settings(warehouse=warehouse, cluster=cluster)
    stages = resolve_stages(stages or list(MODEL_STAGES))
    params = {"stages": stages, "since": since, "until": until, "source": source}
    web_source = next((s.name for s in load_sources(settings.sources_file) if s.name == source and s.is_web), None)
    is_url = bool(source) and source.startswith(("http://", "https://"))

    def work() -> dict:
        with steps.open_run(settings, "backfill", stages, [source] if source else [], params, flow_run.get_id()) as ctx:
            if "ingest" in stages and (web_source or is_url):
                files, errors = steps.archived_files(ctx, None if web_source else source, web_source)
                ingest_batches(ctx, steps.file_batches(files, errors, ctx.settings.ingest_batch_files), len(files), "re-extract")
            elif "ingest" in stages and source:
                run_ingest(ctx, [Path(source)])
            doc_ids = steps.backfill_scope(ctx, since, until, None if web_source else source, web_source)
            steps.forget(ctx, doc_ids, [s for s in stages if s in MODEL_STAGES and s != "topics"])
            run_model_stages(ctx, stages, doc_ids, recluster=True)  # topics: every paragraph, clustered again
        return ctx.summary()

    return finish(work)

