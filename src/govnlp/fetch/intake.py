"""Fetched pages -> the files the ingest stage reads, and the metadata a listing adds.

Every body goes to the raw store first; a page whose URL already has that
exact content stored is not processed again; a changed one becomes a new
version.  Metadata precedence, documented in the README:

- title, publication date: the page's own (trafilatura), else the feed entry's;
- publisher: the source's configured publisher, else the page's site name, else the host table;
- document type: the source's default when the wording rules found none;
- language: the page's declared language, else the source's, else detection;
- url: the page's canonical URL, else the final URL after redirects.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace

from govnlp.fetch.crawl import Poll, Request
from govnlp.fetch.sources import Source
from govnlp.fetch.store import RawStore
from govnlp.records import Document, IngestError, SourceFile

DOCUMENT_KINDS = ("html", "pdf", "text", "json")


@dataclass(frozen=True)
class PageHints:
    title: str | None
    published: object
    final_url: str | None
    publisher: str | None
    doc_type: str | None
    language: str | None


@dataclass
class FetchRow:
    """A request as the ``fetches`` table stores it."""

    request: Request
    outcome: str
    content_sha256: str | None = None
    size_bytes: int | None = None


@dataclass
class Intake:
    files: list[SourceFile]
    errors: list[IngestError]
    hints: dict[str, PageHints]
    rows: list[FetchRow]
    counts: Counter


def _error(url: str, sha: str | None, error_type: str, message: str) -> IngestError:
    return IngestError(url, sha, error_type, message, stage="fetch")


def take_in(poll: Poll, source: Source, store: RawStore, stored: dict[str, set[str]]) -> Intake:
    """``stored``: url -> content hashes already ingested from it."""
    files, errors, hints, rows, counts = [], [], {}, [], Counter()
    for request in poll.requests:
        fetched = request.fetched
        row = FetchRow(request, fetched.outcome)
        rows.append(row)
        counts["requests"] += 1
        if fetched.body is not None:
            row.content_sha256, path = store.put(fetched.body, fetched.kind or "bin")
            row.size_bytes = len(fetched.body)
        if request.role != "page":
            if request.role == "robots" and fetched.status is not None and fetched.status < 500:
                continue  # a missing robots.txt (4xx) just means no rules
            if fetched.outcome in ("failed", "refused", "rejected"):
                errors.append(_error(fetched.url, row.content_sha256, fetched.error_type or fetched.outcome, fetched.message or fetched.outcome))
            continue
        counts["pages"] += 1
        if fetched.outcome == "not_modified":
            counts["not_modified"] += 1
            continue
        if fetched.outcome == "robots_disallowed":
            counts["robots_skipped"] += 1
            continue
        if fetched.outcome != "ok":
            counts["failed" if fetched.outcome in ("failed", "refused") else "rejected"] += 1
            errors.append(_error(fetched.url, row.content_sha256, fetched.error_type or fetched.outcome, fetched.message or fetched.outcome))
            continue
        counts["fetched"] += 1
        if fetched.kind not in DOCUMENT_KINDS:
            row.outcome = "rejected"
            counts["rejected"] += 1
            errors.append(_error(fetched.url, row.content_sha256, "unsupported_content_type",
                                 f"{fetched.final_url}: an XML document that is not a page (feeds and sitemaps are listings, not documents)"))
            continue
        earlier = stored.get(fetched.url, set())
        if row.content_sha256 in earlier:
            row.outcome = "unchanged"
            counts["unchanged"] += 1
            continue
        row.outcome = "new_version" if earlier else "new"
        counts["new_versions" if earlier else "new"] += 1
        files.append(SourceFile(str(path), fetched.url, row.content_sha256, row.size_bytes, time.time()))
        target = request.target
        hints[fetched.url] = PageHints(
            title=target.title if target else None,
            published=target.published if target else None,
            final_url=fetched.final_url,
            publisher=source.publisher,
            doc_type=source.doc_type,
            language=source.language,
        )
    return Intake(files, errors, hints, rows, counts)


def apply_hints(doc: Document, hints: PageHints | None) -> Document:
    """The document with listing and source metadata filled in, by the precedence above."""
    if hints is None:
        return doc
    from govnlp.ingest.metadata import parse_date

    default_type = doc.metadata.get("doc_type_rule") in ("default", "none")
    listed = parse_date(hints.published)
    from_feed = listed is not None and doc.metadata.get("date_source") in (None, "guess")  # the feed beats a guess, not the page
    return replace(
        doc,
        title=doc.title or hints.title,
        published_on=listed if from_feed else doc.published_on,
        date_precision="day" if from_feed else doc.date_precision,
        publisher=hints.publisher or doc.publisher,
        doc_type=hints.doc_type if hints.doc_type and default_type else doc.doc_type,
        language=doc.language if doc.metadata.get("language_declared") else (hints.language or doc.language),
        url=doc.url or hints.final_url,
        metadata={**doc.metadata, "fetched_from": hints.final_url, **({"date_source": "feed"} if from_feed else {})},
    )
