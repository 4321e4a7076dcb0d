"""Web sources: feeds, sitemaps and URL lists, fetched politely into the raw store.

``sources`` reads sources.toml; ``safety`` decides which addresses may be
contacted; ``client`` makes the requests (httpx, tenacity, Protego);
``discover`` lists what a feed or sitemap points to; ``crawl`` polls one
source; ``intake`` turns the answers into files for the ingest stage.
No Prefect and no DuckDB here: the warehouse history comes in as values.
"""

from govnlp.fetch.client import FetchLimits, Fetched, PoliteClient
from govnlp.fetch.crawl import History, Poll, SourceUnavailable, poll_source
from govnlp.fetch.intake import Intake, apply_hints, take_in
from govnlp.fetch.sources import Source, add_source, load_sources, remove_source, resolve_source
from govnlp.fetch.store import RawStore

__all__ = ["FetchLimits", "Fetched", "PoliteClient", "History", "Poll", "SourceUnavailable", "poll_source", "Intake", "apply_hints",
           "take_in", "Source", "add_source", "load_sources", "remove_source", "resolve_source", "RawStore"]
