"""A local whitehouse.gov: a real HTTP server on 127.0.0.1 serving pages built from the White House archive.

Fetcher tests must talk to a real server (no mocked transport), and pages must carry the real site's
furniture (navigation, cookie banner, share widget, "Related" links, footer) so boilerplate removal is
exercised.  Served: the 30 items of the archive's rss.xml, RSS/Atom feeds, a sitemap index, robots.txt,
conditional GET, and paths that misbehave on purpose (/flaky/, /limited/, /redirect-to-metadata/, /huge/,
/image.png, /not-found/, /private/secret/).  ``with serve(Site()) as server: httpx.get(server.url + "/feed.xml")``.
``render_text`` is the page as pasted from a browser; ``article_paragraphs`` the body a good extractor recovers.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter, namedtuple
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape

import yaml
from markdown_it import MarkdownIt

from benchmarks.goldset import unpacked_archive

SITE_NAME = "The White House"
NAV = ("News", "Administration", "Issues", "Gallery", "Contact")
FOOTER = ("Privacy Policy", "Copyright", "Accessibility")
ADDRESS = ("1600 Pennsylvania Ave NW", "Washington, DC 20500")
# What /flaky/ and /limited/ serve once they recover: two statements that are not among the feed's items.
FLAKY_DOC = "statements-releases/2025-01/2025-01-14-statement-by-president-biden-on-the-executive-order-on-advancing-u-s-leadership-in-artificial-intelligence-infrastructure.md"
LIMITED_DOC = "statements-releases/2025-01/2025-01-14-statement-by-vice-president-harris-on-the-executive-order-on-advancing-u-s-leadership-in-artificial-intelligence-infrastructure.md"
METADATA_URL = "http://169.254.169.254/latest/meta-data/"
HUGE_BYTES = 30_000_000
HTML = "text/html; charset=utf-8"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC")  # 1x1 white
_md = MarkdownIt("commonmark", {"html": True}).enable("table")  # the archive's Markdown carries raw <figure>/<span>
Request = namedtuple("Request", "method path query headers time")  # headers: lowercased names


def load_markdown(path) -> tuple[dict, str]:
    """YAML front matter and Markdown body of one archive file (timestamps come back as YAML loads them)."""
    text = Path(path).read_text(encoding="utf-8")
    m = re.match(r"---[ \t]*\n(.*?)\n---[ \t]*(?:\n|$)", text, re.S)
    return (yaml.safe_load(m.group(1)) or {}, text[m.end():]) if m else ({}, text)


def _when(meta: dict, *keys: str) -> datetime:
    """The first usable timestamp among ``keys``, timezone-aware (a bare date is midnight UTC)."""
    for v in map(meta.get, keys):
        if isinstance(v, str) and v.strip():
            v = datetime.fromisoformat(v.strip())
        if isinstance(v, datetime):
            return v if v.tzinfo else v.replace(tzinfo=timezone.utc)
        if isinstance(v, date):
            return datetime(v.year, v.month, v.day, tzinfo=timezone.utc)
    return datetime(1970, 1, 1, tzinfo=timezone.utc)


def _long_date(d: datetime) -> str:
    return f"{d:%B} {d.day}, {d.year}"  # "August 18, 2026", as the site prints it


def _title(meta: dict) -> str:
    return " ".join(str(meta.get("title") or "Untitled").split())


class _TextOf(HTMLParser):
    """Visible text of HTML, one string per block, <br> kept as a line break (what a browser copy gives)."""

    BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "pre", "figure",
              "figcaption", "table", "tr", "div", "section", "hr", "address"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks, self._buf, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "br":
            self._buf.append("\n")
        elif tag in ("td", "th"):
            self._buf.append(" ")
        elif tag in self.BLOCKS:
            self._flush()

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data):
        if not self._skip:
            self._buf.append(re.sub(r"\s+", " ", data))  # source line breaks are spaces to a browser

    def _flush(self):
        lines = (" ".join(line.split()) for line in "".join(self._buf).split("\n"))
        self._buf = []
        if block := "\n".join(line for line in lines if line):
            self.blocks.append(block)


@lru_cache(maxsize=512)
def _body_html(body_markdown: str) -> str:
    """Markdown to HTML; a paragraph holding only an image becomes a figure, its alt text the caption."""
    def figure(m):
        caption = f"<figcaption>{m.group(2)}</figcaption>" if m.group(2).strip() else ""
        return f'<figure class="wp-block-image">{m.group(1)}{caption}</figure>'
    return re.sub(r'<p>(<img [^>]*?alt="([^"]*)"[^>]*>)</p>', figure, _md.render(body_markdown))


@lru_cache(maxsize=512)
def _paragraphs(body_markdown: str) -> tuple[str, ...]:
    parser = _TextOf()
    parser.feed(_body_html(body_markdown))
    parser.close()
    parser._flush()
    return tuple(parser.blocks)


def article_paragraphs(body_markdown: str) -> list[str]:
    """The article body as plain-text paragraphs: Markdown syntax and tags gone, links as their text."""
    return list(_paragraphs(body_markdown))


def _summary(body_markdown: str) -> str:
    return " ".join(next(iter(_paragraphs(body_markdown)), "").split())


def render_page(meta: dict, body_markdown: str, related=(), base_url: str = "") -> str:
    """A full HTML5 page laid out like whitehouse.gov, the article wrapped in the site's furniture."""
    e, title = html.escape, _title(meta)
    published, modified = _when(meta, "published_time", "date"), _when(meta, "modified_time", "published_time", "date")
    canonical = base_url + (urlsplit(str(meta.get("source_url") or "")).path or "/")
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "url": canonical,
                     "datePublished": published.isoformat(), "dateModified": modified.isoformat(),
                     "publisher": {"@type": "Organization", "name": SITE_NAME}}).replace("</", "<\\/")
    nav = "".join(f'<li class="menu-item"><a href="{base_url}/{w.lower()}/">{w}</a></li>' for w in NAV)
    rel = "".join(f'<li><a href="{e(url)}">{e(t)}</a></li>' for t, url in related)
    foot = "".join(f'<li><a href="{base_url}/{w.lower().replace(" ", "-")}/">{w}</a></li>' for w in FOOTER)
    share = quote(canonical, safe="")
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} – {SITE_NAME}</title>
<meta name="description" content="{e(_summary(body_markdown)[:200])}"><link rel="canonical" href="{e(canonical)}">
<meta property="og:type" content="article"><meta property="og:title" content="{e(title)}"><meta property="og:url" content="{e(canonical)}">
<meta property="og:site_name" content="{SITE_NAME}"><meta property="article:published_time" content="{published.isoformat()}">
<meta property="article:modified_time" content="{modified.isoformat()}">
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME} &raquo; Feed" href="{base_url}/feed.xml">
<style>body{{font-family:Georgia,serif;margin:0}}.cookie-banner{{position:fixed;bottom:0;background:#0a1f44;color:#fff}}</style>
<script type="application/ld+json">{ld}</script>
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
</head>
<body class="wp-singular post-template-default single">
<a class="skip-link screen-reader-text" href="#main">Skip to content</a>
<div id="cookie-banner" class="cookie-banner" role="dialog" aria-label="Cookie consent"><p>We use cookies to understand how you use our site and to improve your experience. By continuing to use this site, you accept our use of cookies.</p><button type="button" class="cookie-accept">Accept</button></div>
<header class="site-header"><a class="site-logo" href="{base_url}/" rel="home">{SITE_NAME}</a>
<nav class="main-navigation" aria-label="Main menu"><ul class="menu">{nav}</ul></nav>
<form class="search-form" role="search" action="{base_url}/"><input type="search" name="s" placeholder="Search WH.gov"><button type="submit">Search</button></form></header>
<main id="main" class="site-main">
<article class="post type-post">
<header class="entry-header"><h1 class="entry-title">{e(title)}</h1>
<div class="entry-meta"><time class="published" datetime="{published.isoformat()}">{_long_date(published)}</time></div></header>
<div class="entry-content">
{_body_html(body_markdown)}</div>
<div class="share-widget" aria-label="Share this page"><a class="share-x" href="https://x.com/intent/post?url={share}">Share on X</a>
<a class="share-facebook" href="https://www.facebook.com/sharer/sharer.php?u={share}">Share on Facebook</a>
<button type="button" class="copy-link" data-url="{e(canonical)}">Copy Link</button></div>
<section class="related-posts"><h2>Related</h2><ul>{rel}</ul></section>
</article>
</main>
<footer class="site-footer"><a class="site-logo" href="{base_url}/">{SITE_NAME}</a>
<address>{ADDRESS[0]}<br>{ADDRESS[1]}</address>
<form class="subscribe" action="{base_url}/"><label for="subscribe-email">Get the latest from the White House</label><input id="subscribe-email" type="email" name="email" placeholder="Email address"><button type="submit">Subscribe</button></form>
<nav aria-label="Footer"><ul class="footer-menu">{foot}</ul></nav></footer>
</body>
</html>
"""


def render_text(meta: dict, body_markdown: str) -> str:
    """The page as plain text pasted from a browser: nav words, title, date, body paragraphs, footer lines."""
    title_date = f"{_title(meta)}\n{_long_date(_when(meta, 'published_time', 'date'))}"
    return "\n\n".join(("\n".join((SITE_NAME, *NAV)), title_date, *_paragraphs(body_markdown),
                        "\n".join((SITE_NAME, *ADDRESS, *FOOTER)))) + "\n"


@dataclass
class Item:
    """One article the site serves; ``body`` and ``modified`` change when the page is edited."""

    title: str
    published: datetime
    modified: datetime
    path: str  # URL path on the site, e.g. "/releases/2026/08/slug/"
    markdown_path: Path | None
    meta: dict
    body: str

    @classmethod
    def from_file(cls, markdown_path: Path | None, path: str | None = None, meta=None, body="") -> Item:
        """From an archive file (or, without one, from ``meta`` and ``body``), served at ``path`` (default: its source_url's)."""
        if markdown_path:
            meta, body = load_markdown(markdown_path)
        path = path or urlsplit(str(meta.get("source_url"))).path
        meta = dict(meta, source_url="https://www.whitehouse.gov" + path)  # canonical = where this site serves it
        return cls(_title(meta), _when(meta, "published_time", "date"),
                   _when(meta, "modified_time", "published_time", "date"), path, markdown_path, meta, body)


@dataclass
class Response:
    status: int
    body: bytes = b""
    ctype: str = HTML
    headers: dict = field(default_factory=dict)
    modified: datetime | None = None  # Last-Modified; None means the site's newest item
    stream: Iterator[bytes] | None = None  # sent chunked, without Content-Length, ETag or Last-Modified


def _huge(total: int = HUGE_BYTES) -> Iterator[bytes]:
    """A valid-looking HTML page of exactly ``total`` bytes, made lazily in 64 KiB chunks."""
    head = f'<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8"><title>Huge page – {SITE_NAME}</title></head><body><main><article><h1>Huge page</h1>\n'.encode()
    tail = b"</article></main></body></html>\n"
    para = b"<p>" + b"This paragraph repeats until the page is far larger than any sane fetch cap. " * 10 + b"</p>\n"
    chunk, sent = para * (65536 // len(para)), len(head) + len(tail)
    yield head
    while sent + len(chunk) <= total:
        yield chunk
        sent += len(chunk)
    yield b"<p>" + b"x" * max(0, total - sent - 8) + b"</p>\n" + tail


class Site:
    """The archive's rss.xml items as a website; ``respond`` answers one path for the server's base URL."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else unpacked_archive() / "wh"
        self.items = self._feed_items()
        self.pages = {i.path: i for i in self.items}  # everything served as an article page
        self.pages["/flaky/"] = Item.from_file(self.root / FLAKY_DOC, "/flaky/")
        self.pages["/limited/"] = Item.from_file(self.root / LIMITED_DOC, "/limited/")
        self.pages["/private/secret/"] = Item.from_file(
            None, "/private/secret/", {"title": "Internal staff directory", "published_time": self.items[-1].published},
            "This page is disallowed by robots.txt; a polite crawler never asks for it.\n")
        self.feeds: dict[str, tuple[str, list[str]]] = {}
        self._hits: Counter = Counter()
        self._lock = threading.Lock()

    def _feed_items(self) -> list[Item]:
        """Each rss.xml item matched to the Markdown file whose front matter ``source_url`` is its link."""
        links = [(i.findtext("link") or "").strip() for i in ET.parse(self.root / "rss.xml").getroot().iter("item")]
        found: dict[str, Path] = {}
        months = sorted({"-".join(m.groups()) for u in links if (m := re.search(r"/(\d{4})/(\d{2})/", u))})
        for pattern in [f"*/{m}/*.md" for m in months] + ["**/*.md"]:  # the links' month folders first, then all
            if len(found) == len(set(links)):
                break
            for p in sorted(self.root.glob(pattern)):
                with p.open(encoding="utf-8") as fh:
                    m = re.search(r"^source_url:\s*['\"]?(\S+?)['\"]?\s*$", fh.read(4096), re.M)
                if m and m.group(1) in links:
                    found.setdefault(m.group(1), p)
        missing = [u for u in links if u not in found]
        if len(links) != 30 or missing:
            raise RuntimeError(f"rss.xml: {len(links)} items, no Markdown file for {len(missing)}: {missing[:3]}")
        return [Item.from_file(found[u]) for u in links]

    @property
    def updated(self) -> datetime:
        return max(i.modified for i in self.items)

    def edit(self, path: str, new_sentence: str) -> None:
        """A new version of a page: the sentence appended as a paragraph, Last-Modified moved forward."""
        with self._lock:
            item = self.pages[path]
            item.body = item.body.rstrip() + f"\n\n{new_sentence}\n"
            now = datetime.now(timezone.utc).replace(microsecond=0)
            item.modified = max(now, item.modified + timedelta(seconds=1))  # archive dates may lie ahead of the clock

    def reset_counters(self) -> None:
        """/flaky/ and /limited/ misbehave again on their next request."""
        with self._lock:
            self._hits.clear()

    def add_feed(self, path: str, paths: list[str], title: str = "Test feed") -> str:
        """Serve an extra RSS feed at ``path`` listing ``paths`` (special paths welcome); returns ``path``."""
        self.feeds[path] = (title, list(paths))
        return path

    def related(self, item: Item, base: str, n: int = 3) -> list[tuple[str, str]]:
        """The next ``n`` feed items after ``item`` (wrapping), as (title, absolute URL)."""
        k = next((k for k, i in enumerate(self.items) if i is item), -1)
        return [(o.title, base + o.path) for o in (self.items[(k + j) % len(self.items)] for j in range(1, n + 1))]

    def _entries(self, paths: list[str], base: str):
        """(title, url, published, updated, first paragraph) per path; a non-article path gets a stand-in."""
        for p in paths:
            if i := self.pages.get(p):
                with self._lock:
                    row = i.title, base + p, i.published, i.modified, i.body
                yield *row[:4], _summary(row[4])
            else:
                yield f"Test link {p}", base + p, self.updated, self.updated, f"A link to {p}."

    def rss(self, base: str, self_path: str, title: str, paths: list[str]) -> Response:
        items = "".join(f"<item><title>{escape(t)}</title><link>{escape(u)}</link><guid isPermaLink=\"true\">{escape(u)}</guid>"
                        f"<pubDate>{format_datetime(pub)}</pubDate><description>{escape(d)}</description></item>\n"
                        for t, u, pub, _, d in self._entries(paths, base))
        xml = (f'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel><title>{escape(title)}</title>'
               f"<link>{base}/</link><description>News from the White House</description><language>en-US</language>"
               f"<lastBuildDate>{format_datetime(self.updated)}</lastBuildDate>"
               f'<atom:link href="{base}{self_path}" rel="self" type="application/rss+xml"/>\n{items}</channel>\n</rss>\n')
        return _xml(xml, "application/rss+xml")

    def atom(self, base: str) -> Response:
        entries = "".join(f'<entry><title>{escape(t)}</title><id>{escape(u)}</id><link rel="alternate" href="{escape(u)}"/>'
                          f"<published>{pub.isoformat()}</published><updated>{upd.isoformat()}</updated>"
                          f"<summary>{escape(d)}</summary></entry>\n"
                          for t, u, pub, upd, d in self._entries([i.path for i in self.items], base))
        xml = (f'<feed xmlns="http://www.w3.org/2005/Atom">\n<title>{SITE_NAME}</title><id>{base}/</id>'
               f'<link rel="self" href="{base}/atom.xml"/><link href="{base}/"/><updated>{self.updated.isoformat()}</updated>'
               f"<author><name>{SITE_NAME}</name></author>\n{entries}</feed>\n")
        return _xml(xml, "application/atom+xml")

    def sitemap(self, base: str, path: str) -> Response | None:
        """/sitemap.xml is an index of two urlsets that split the feed items in half."""
        half, ns = (len(self.items) + 1) // 2, 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        parts = {"/sitemaps/pages-1.xml": self.items[:half], "/sitemaps/pages-2.xml": self.items[half:]}
        if path == "/sitemap.xml":
            rows = "".join(f"<sitemap><loc>{base}{p}</loc><lastmod>{max(i.modified for i in its):%Y-%m-%d}</lastmod></sitemap>\n"
                           for p, its in parts.items())
            return _xml(f"<sitemapindex {ns}>\n{rows}</sitemapindex>\n")
        if path in parts:
            rows = "".join(f"<url><loc>{escape(base + i.path)}</loc><lastmod>{i.modified:%Y-%m-%d}</lastmod></url>\n"
                           for i in parts[path])
            return _xml(f"<urlset {ns}>\n{rows}</urlset>\n")
        return None

    def page(self, item: Item, base: str) -> Response:
        with self._lock:
            meta, body, modified = dict(item.meta, modified_time=item.modified), item.body, item.modified
        return Response(200, render_page(meta, body, self.related(item, base), base).encode(), modified=modified)

    def respond(self, path: str, base: str) -> Response:
        """The answer to GET ``path`` on a server whose own URL is ``base``."""
        path = path[: -len("index.html")] if path.endswith("/index.html") else path
        if path in ("/flaky/", "/limited/"):
            with self._lock:
                self._hits[path] += 1
                first = self._hits[path] == 1
            if first:
                return (Response(503, b"<h1>503 Service Unavailable</h1>\n") if path == "/flaky/" else
                        Response(429, b"<h1>429 Too Many Requests</h1>\n", headers={"Retry-After": "1"}))
        if path in self.pages:
            return self.page(self.pages[path], base)
        if path + "/" in self.pages:
            return Response(301, headers={"Location": base + path + "/"})
        if path == "/feed.xml" or path in self.feeds:
            return self.rss(base, path, *self.feeds.get(path, (SITE_NAME, [i.path for i in self.items])))
        if path == "/atom.xml":
            return self.atom(base)
        if path.startswith("/sitemap") and (answer := self.sitemap(base, path)):
            return answer
        if path == "/robots.txt":
            return Response(200, f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}/sitemap.xml\n".encode(),
                            "text/plain; charset=utf-8")
        if path == "/redirect-to-metadata/":
            return Response(302, headers={"Location": METADATA_URL})
        if path == "/huge/":
            return Response(200, stream=_huge())
        if path == "/image.png":
            return Response(200, PNG, "image/png")
        return Response(404, b"<!DOCTYPE html><title>Page not found</title><h1>404: Page not found</h1>\n")

    def serve(self):
        return serve(self)


def _xml(text: str, ctype: str = "application/xml") -> Response:
    return Response(200, ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode(), ctype + "; charset=utf-8")


def _not_modified(headers, etag: str, modified: datetime) -> bool:
    """RFC 9110: If-None-Match decides when present, else If-Modified-Since (to the second)."""
    if (inm := headers.get("If-None-Match")) is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    try:
        since = parsedate_to_datetime(headers.get("If-Modified-Since") or "")
    except (TypeError, ValueError):
        return False
    return modified.replace(microsecond=0) <= (since if since.tzinfo else since.replace(tzinfo=timezone.utc))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive like a real server; /huge/ goes chunked
    timeout = 10  # an idle keep-alive connection does not hold its thread for ever

    def log_message(self, *args):
        pass

    def version_string(self):
        return "nginx"

    def do_GET(self):
        self._answer(send_body=True)

    def do_HEAD(self):
        self._answer(send_body=False)

    def _answer(self, send_body: bool):
        srv, split = self.server, urlsplit(self.path)
        srv.record(Request(self.command, split.path, split.query, {k.lower(): v for k, v in self.headers.items()}, time.time()))
        r = srv.site.respond(split.path, srv.url)
        status, headers, body = r.status, {"Content-Type": r.ctype, **r.headers}, r.body
        if status == 200 and r.stream is None:
            modified = r.modified or srv.site.updated
            headers["ETag"] = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'  # strong: a hash of the bytes
            headers["Last-Modified"] = format_datetime(modified.astimezone(timezone.utc), usegmt=True)
            if _not_modified(self.headers, headers["ETag"], modified):
                status, body = 304, b""
                del headers["Content-Type"]
        if r.stream is not None:
            headers["Transfer-Encoding"] = "chunked"
        elif status != 304:
            headers["Content-Length"] = str(len(body))
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if send_body and r.stream is not None:
                for chunk in r.stream:
                    self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            elif send_body and body:
                self.wfile.write(body)
        except ConnectionError:  # the client stopped reading (a size cap) or went away: stop quietly
            self.close_connection = True


class SiteServer(ThreadingHTTPServer):
    """The running site: ``url`` is its base URL, ``requests`` every request received, in arrival order."""

    daemon_threads = True

    def __init__(self, site: Site):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site, self.url = site, f"http://127.0.0.1:{self.server_port}"
        self._log: list[Request] = []
        self._log_lock = threading.Lock()

    def record(self, request: Request) -> None:
        with self._log_lock:
            self._log.append(request)

    @property
    def requests(self) -> list[Request]:
        with self._log_lock:
            return list(self._log)

    def count(self, path: str) -> int:
        """How many requests (any method) asked for ``path`` (query string ignored)."""
        return sum(r.path == path for r in self.requests)


@contextmanager
def serve(site: Site) -> Iterator[SiteServer]:
    """Run ``site`` on 127.0.0.1 (a free port) in a daemon thread; stopped and joined on exit."""
    server = SiteServer(site)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
