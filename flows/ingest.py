"""The ingestion flow: new files under the sources -> every stage -> warehouse."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from flows.tasks import finish, run_ingest, run_model_stages
from govnlp import steps
from govnlp.settings import load_settings, resolve_stages


@flow(name="govnlp-ingest", log_prints=True)
def ingest_flow(sources: list[str] | None = None, warehouse: str | None = None, stages: list[str] | None = None,
                cluster: str | None = None) -> dict:
    """``cluster``: where the model stages compute (flows/cluster.py); None: the setting, else this process."""
    settings = load_settings(warehouse=warehouse, sources=sources, cluster=cluster)
    stages = resolve_stages(stages)
    source_paths = [Path(s) for s in settings.sources]
    params = {"stages": stages, "spacy_model": settings.spacy_model, "embed_model": settings.embed_model}

    def work() -> dict:
        with steps.open_run(settings, "ingest", stages, [str(s) for s in source_paths], params, flow_run.get_id()) as ctx:
            if "ingest" in stages:
                run_ingest(ctx, source_paths)
            run_model_stages(ctx, stages)
        return ctx.summary()

    return finish(work)
