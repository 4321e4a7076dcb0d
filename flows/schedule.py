"""Scheduled ingestion: the ingestion flow served on a cron schedule."""

from __future__ import annotations

from prefect import serve

from flows.ingest import ingest_flow

DEFAULT_CRON = "0 6 * * *"
DEPLOYMENT_NAME = "govnlp-scheduled-ingest"


def scheduled_deployment(cron: str = DEFAULT_CRON, sources: list[str] | None = None, warehouse: str | None = None, name: str = DEPLOYMENT_NAME):
    """A runner deployment of the ingestion flow with its cron schedule (not yet registered)."""
    parameters = {k: v for k, v in {"sources": sources, "warehouse": warehouse}.items() if v is not None}
    return ingest_flow.to_deployment(name=name, cron=cron, parameters=parameters)


def serve_scheduled(cron: str = DEFAULT_CRON, sources: list[str] | None = None, warehouse: str | None = None) -> None:
    """Register the deployment and run it on schedule until interrupted (needs a Prefect server: `prefect server start`)."""
    serve(scheduled_deployment(cron, sources, warehouse))
