"""One poll of one web source: listing -> targets -> fetched pages.

Pure of the warehouse: what was fetched before (validators, bodies of
listings that answered 304, sitemap fetch times) comes in as plain values,
and every request made comes out as a ``Fetched`` with its role, for the
``fetches`` table.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from govnlp.fetch.client import Fetched, PoliteClient
from govnlp.fetch.discover import Target, feed_targets, sitemap_targets, sniff, url_list
from govnlp.fetch.sources import Source

MAX_SITEMAPS = 200  # child sitemaps followed per poll (an index of indexes stops there)


class SourceUnavailable(RuntimeError):
    """The source itself could not be read (DNS, TLS, 5xx after retries, a malformed listing): its run fails."""


@dataclass
class Request:
    role: str  # robots | listing | page
    fetched: Fetched
    target: Target | None = None


@dataclass
class Poll:
    kind: str  # the source's kind once known (auto resolved)
    requests: list[Request] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    listing_error: str | None = None  # the source itself could not be read: the run fails with this

    @property
    def pages(self) -> list[Request]:
        return [r for r in self.requests if r.role == "page"]


@dataclass
class History:
    """What earlier runs left: conditional-GET validators, stored listing bodies, last fetch times."""

    validators: dict[str, dict[str, str]] = field(default_factory=dict)
    previous_body: Callable[[str], bytes | None] = lambda url: None
    last_fetched: dict[str, datetime] = field(default_factory=dict)


def _listing_body(poll: Poll, client: PoliteClient, url: str, history: History) -> bytes | None:
    fetched = client.fetch(url, history.validators.get(url))
    poll.requests.append(Request("listing", fetched))
    if fetched.outcome == "ok":
        return fetched.body
    if fetched.outcome == "not_modified":
        body = history.previous_body(url)
        if body is None:  # the archive lost it: ask again without validators
            fetched = client.fetch(url)
            poll.requests.append(Request("listing", fetched))
            return fetched.body if fetched.outcome == "ok" else None
        return body
    poll.listing_error = fetched.message or f"{url}: {fetched.outcome}"
    return None


def _sitemap_pages(poll: Poll, client: PoliteClient, url: str, body: bytes, history: History) -> list[Target]:
    pages, queue, seen = [], [], {url}
    found, children = sitemap_targets(body, url)
    pages.extend(found)
    queue.extend(children)
    while queue and len(seen) < MAX_SITEMAPS:
        child = queue.pop(0)
        if child in seen:
            continue
        seen.add(child)
        child_body = _listing_body(poll, client, child, history)
        if child_body is None:
            poll.listing_error = None  # one broken child sitemap does not fail the source; its row says why
            continue
        found, more = sitemap_targets(child_body, child)
        pages.extend(found)
        queue.extend(more)
    # lastmod: a page not modified since we last fetched it is not asked for at all
    return [t for t in pages if not (t.lastmod and t.url in history.last_fetched and t.lastmod <= history.last_fetched[t.url])]


def targets_for(source: Source, client: PoliteClient, history: History) -> Poll:
    """Fetch the source's listing and return the poll with the page targets decided."""
    poll = Poll(source.kind)
    location = source.location
    if source.kind == "urls" and not location.startswith(("http://", "https://")):
        poll.targets = [Target(u) for u in url_list(Path(location).read_text(encoding="utf-8"))]
        return poll
    if source.kind == "page":
        poll.targets = [Target(location)]
        return poll
    body = _listing_body(poll, client, location, history)
    if body is None:
        poll.targets = []
        return poll
    kind = source.kind
    if kind == "auto":
        last = poll.requests[-1].fetched
        kind = sniff(body, last.kind)
        poll.kind = kind
        if kind == "page":  # the URL itself is the document: it was just fetched
            poll.requests[-1].role = "page"
            poll.requests[-1].target = Target(location)
            poll.targets = []
            return poll
    try:
        if kind == "feed":
            poll.targets = feed_targets(body, location)
        elif kind == "sitemap":
            poll.targets = _sitemap_pages(poll, client, location, body, history)
        else:  # urls served over HTTP
            poll.targets = [Target(u) for u in url_list(body.decode("utf-8", errors="replace"))]
    except Exception as exc:  # noqa: BLE001 - a malformed listing fails this source only
        poll.listing_error = f"{location}: cannot read the {kind}: {type(exc).__name__}: {exc}"
        poll.targets = []
    return poll


def poll_source(source: Source, client: PoliteClient, history: History, workers: int = 8,
                advance: Callable[[int], None] | None = None, on_targets: Callable[[int], None] | None = None) -> Poll:
    """Listing, then every target page (conditional GET, in parallel within the per-host limits)."""
    poll = targets_for(source, client, history)
    targets = poll.targets[: source.max_items] if source.max_items else poll.targets
    if on_targets:
        on_targets(len(targets))

    def one(target: Target) -> Request:
        fetched = client.fetch(target.url, history.validators.get(target.url))
        if advance:
            advance(1)
        return Request("page", fetched, target)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        poll.requests.extend(pool.map(one, targets))
    poll.requests[:0] = [Request("robots", f) for f in client.robots_fetches]
    return poll
