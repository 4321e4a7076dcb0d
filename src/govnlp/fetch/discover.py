"""What to fetch from a source: feed entries (feedparser), sitemap URLs (lxml), URL lists.

Also tells a feed from a sitemap from a page, for `govnlp run --source URL`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timezone
from urllib.parse import urljoin

import feedparser
from lxml import etree

from govnlp.ingest.metadata import parse_date

_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@dataclass(frozen=True)
class Target:
    """A URL to fetch, with what the listing said about it (used where the page is silent)."""

    url: str
    title: str | None = None
    published: date | None = None
    lastmod: datetime | None = None


def _root_tag(body: bytes) -> str | None:
    try:
        root = etree.fromstring(body, _XML)
    except (etree.XMLSyntaxError, ValueError):
        return None
    return etree.QName(root).localname.lower() if root is not None else None


def sniff(body: bytes, kind: str | None) -> str:
    """'feed', 'sitemap' or 'page' for a fetched body."""
    head = body.lstrip()[:2048].lower()
    if kind in ("xml", "html", "text", None) and (kind == "xml" or head.startswith(b"<?xml") or head.startswith(b"<rss") or head.startswith(b"<feed")):
        tag = _root_tag(body)
        if tag in ("urlset", "sitemapindex"):
            return "sitemap"
        if tag in ("rss", "feed", "rdf"):
            return "feed"
    return "page"


def _entry_date(entry) -> date | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), timezone.utc).date()
    return parse_date(entry.get("published") or entry.get("updated"))


def feed_targets(body: bytes, base_url: str) -> list[Target]:
    """Entries of an RSS 2.0, Atom or RDF feed, in feed order, without repeats."""
    parsed = feedparser.parse(body)
    if not parsed.get("version") and parsed.get("bozo"):
        raise ValueError(f"not a feed feedparser can read: {parsed.get('bozo_exception')}")
    seen, targets = set(), []
    for entry in parsed.entries:
        link = entry.get("link") or (entry.get("id") if str(entry.get("id", "")).startswith("http") else None)
        if not link:
            continue
        url = urljoin(base_url, link)
        if url not in seen:
            seen.add(url)
            targets.append(Target(url, (entry.get("title") or "").strip() or None, _entry_date(entry)))
    return targets


def sitemap_targets(body: bytes, base_url: str) -> tuple[list[Target], list[str]]:
    """(pages, child sitemaps) of a urlset or a sitemap index."""
    root = etree.fromstring(body, _XML)
    pages, children = [], []
    for node in root:
        loc = node.findtext(f"{SITEMAP_NS}loc") or node.findtext("loc")
        if not loc:
            continue
        url = urljoin(base_url, loc.strip())
        if etree.QName(node).localname == "sitemap":
            children.append(url)
        else:
            lastmod = node.findtext(f"{SITEMAP_NS}lastmod") or node.findtext("lastmod")
            stamp = _lastmod(lastmod)
            pages.append(Target(url, lastmod=stamp))  # lastmod is not a publication date
    return pages, children


def _lastmod(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    return stamp


def url_list(text: str) -> list[str]:
    """One URL a line; blank lines and # comments ignored."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
