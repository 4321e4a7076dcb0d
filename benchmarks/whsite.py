"""A local whitehouse.gov: real HTTP on 127.0.0.1 serving pages built from the White House archive.

Fetcher tests must talk to a real server (no mocked transport), and the pages
must look like the real site: navigation, cookie banner, share widget,
"Related" links and footer around the article, so that boilerplate removal is
actually exercised.  The site serves the 30 items of the archive's ``rss.xml``
with feeds, a sitemap index, robots.txt, conditional GET, and a few paths that
misbehave on purpose (503, 429, a redirect to a cloud metadata address, a 30 MB
page, an image, a 404, a robots-disallowed page).

    site = Site()
    with serve(site) as server:
        httpx.get(server.url + "/feed.xml")
        server.count("/flaky/")

``render_text`` is the same document as a person would paste it from the
browser; ``article_paragraphs`` is the article body alone, i.e. what a good
extractor should recover from ``render_page``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import struct
import threading
import time
import xml.etree.ElementTree as ET
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
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
FOOTER_LINKS = ("Privacy Policy", "Copyright", "Accessibility")
ADDRESS = ("1600 Pennsylvania Ave NW", "Washington, DC 20500")
# Served at /flaky/ and /limited/ once they recover: statements that are not among the feed's items.
FLAKY_DOC = "statements-releases/2025-01/2025-01-14-statement-by-president-biden-on-the-executive-order-on-advancing-u-s-leadership-in-artificial-intelligence-infrastructure.md"
LIMITED_DOC = "statements-releases/2025-01/2025-01-14-statement-by-vice-president-harris-on-the-executive-order-on-advancing-u-s-leadership-in-artificial-intelligence-infrastructure.md"
METADATA_URL = "http://169.254.169.254/latest/meta-data/"
HUGE_BYTES = 30_000_000
HTML_TYPE = "text/html; charset=utf-8"

_md = MarkdownIt("commonmark", {"html": True}).enable("table")  # the archive's Markdown carries raw <figure>/<span>


def load_markdown(path) -> tuple[dict, str]:
    """YAML front matter and Markdown body of one archive file (timestamps come back as YAML loads them)."""
    text = Path(path).read_text(encoding="utf-8")
    m = re.match(r"---[ \t]*\n(.*?)\n---[ \t]*(?:\n|$)", text, re.S)
    if not m:
        return {}, text
    return yaml.safe_load(m.group(1)) or {}, text[m.end():]


def _when(meta: dict, *keys: str) -> datetime:
    """The first usable timestamp among ``keys`` as an aware datetime (a bare date means midnight UTC)."""
    for key in keys:
        v = meta.get(key)
        if isinstance(v, str) and v.strip():
            v = datetime.fromisoformat(v.strip())
        if isinstance(v, datetime):
            return v if v.tzinfo else v.replace(tzinfo=timezone.utc)
        if isinstance(v, date):
            return datetime(v.year, v.month, v.day, tzinfo=timezone.utc)
    return datetime(1970, 1, 1, tzinfo=timezone.utc)


def _long_date(d: datetime) -> str:
    return f"{d:%B} {d.day}, {d.year}"


class _TextOf(HTMLParser):
    """Visible text of rendered HTML, one entry per block, <br> kept as a line break (like a browser copy)."""

    BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "pre", "figure",
              "figcaption", "table", "tr", "div", "section", "hr", "address"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._buf: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "br":
            self._buf.append("\n")
        elif tag in self.BLOCKS:
            self._flush()
        elif tag in ("td", "th"):
            self._buf.append(" ")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data):
        if not self._skip:
            self._buf.append(re.sub(r"\s+", " ", data))

    def _flush(self):
        lines = (" ".join(line.split()) for line in "".join(self._buf).split("\n"))
        self._buf = []
        block = "\n".join(line for line in lines if line)
        if block:
            self.blocks.append(block)

    @classmethod
    def blocks_of(cls, markup: str) -> list[str]:
        parser = cls()
        parser.feed(markup)
        parser.close()
        parser._flush()
        return parser.blocks


def _body_html(body_markdown: str) -> str:
    """Markdown to HTML; a paragraph holding only an image becomes a figure, its alt text the caption."""
    def figure(m):
        caption = f"<figcaption>{m.group(2)}</figcaption>" if m.group(2).strip() else ""
        return f'<figure class="wp-block-image">{m.group(1)}{caption}</figure>'
    return re.sub(r'<p>(<img [^>]*?alt="([^"]*)"[^>]*>)</p>', figure, _md.render(body_markdown))


def article_paragraphs(body_markdown: str) -> list[str]:
    """The article body as plain-text paragraphs (Markdown syntax and tags gone, links as their text)."""
    return _TextOf.blocks_of(_body_html(body_markdown))


def _title(meta: dict) -> str:
    return " ".join(str(meta.get("title") or "Untitled").split())


def render_page(meta: dict, body_markdown: str, related=(), base_url: str = "") -> str:
    """A full HTML5 page laid out like whitehouse.gov, the article wrapped in the site's furniture."""
    e = html.escape
    title, published = _title(meta), _when(meta, "published_time", "date")
    modified = _when(meta, "modified_time", "published_time", "date")
    canonical = base_url + (urlsplit(str(meta.get("source_url") or "")).path or "/")
    paras = article_paragraphs(body_markdown)
    summary = " ".join(paras[0].split())[:200] if paras else ""
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                     "datePublished": published.isoformat(), "dateModified": modified.isoformat(),
                     "url": canonical, "publisher": {"@type": "Organization", "name": SITE_NAME}}).replace("</", "<\\/")
    nav = "".join(f'<li class="menu-item"><a href="{base_url}/{w.lower()}/">{w}</a></li>' for w in NAV)
    rel = "".join(f'<li><a href="{e(url)}">{e(t)}</a></li>' for t, url in related)
    foot = "".join(f'<li><a href="{base_url}/{w.lower().replace(" ", "-")}/">{w}</a></li>' for w in FOOTER_LINKS)
    share = quote(canonical, safe="")
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} – {SITE_NAME}</title>
<meta name="description" content="{e(summary)}">
<link rel="canonical" href="{e(canonical)}">
<meta property="og:locale" content="en_US">
<meta property="og:type" content="article">
<meta property="og:title" content="{e(title)}">
<meta property="og:url" content="{e(canonical)}">
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="article:published_time" content="{published.isoformat()}">
<meta property="article:modified_time" content="{modified.isoformat()}">
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME} &raquo; Feed" href="{base_url}/feed.xml">
<style>body{{font-family:Georgia,serif;margin:0}}.cookie-banner{{position:fixed;bottom:0;background:#0a1f44;color:#fff}}</style>
<script type="application/ld+json">{ld}</script>
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
</head>
<body class="wp-singular post-template-default single">
<a class="skip-link screen-reader-text" href="#main">Skip to content</a>
<div id="cookie-banner" class="cookie-banner" role="dialog" aria-label="Cookie consent">
<p>We use cookies to understand how you use our site and to improve your experience. By continuing to use this site, you accept our use of cookies.</p>
<button type="button" class="cookie-accept">Accept</button>
</div>
<header class="site-header">
<a class="site-logo" href="{base_url}/" rel="home">{SITE_NAME}</a>
<nav class="main-navigation" aria-label="Main menu"><ul class="menu">{nav}</ul></nav>
<form class="search-form" role="search" action="{base_url}/"><input type="search" name="s" placeholder="Search WH.gov"><button type="submit">Search</button></form>
</header>
<main id="main" class="site-main">
<article class="post type-post">
<header class="entry-header">
<h1 class="entry-title">{e(title)}</h1>
<div class="entry-meta"><time class="published" datetime="{published.isoformat()}">{_long_date(published)}</time></div>
</header>
<div class="entry-content">
{_body_html(body_markdown)}
</div>
<div class="share-widget" aria-label="Share this page">
<a class="share-x" href="https://x.com/intent/post?url={share}">Share on X</a>
<a class="share-facebook" href="https://www.facebook.com/sharer/sharer.php?u={share}">Share on Facebook</a>
<button type="button" class="copy-link" data-url="{e(canonical)}">Copy Link</button>
</div>
<section class="related-posts"><h2>Related</h2><ul>{rel}</ul></section>
</article>
</main>
<footer class="site-footer">
<a class="site-logo" href="{base_url}/">{SITE_NAME}</a>
<address>{ADDRESS[0]}<br>{ADDRESS[1]}</address>
<form class="subscribe" action="{base_url}/"><label for="subscribe-email">Get the latest from the White House</label><input id="subscribe-email" type="email" name="email" placeholder="Email address"><button type="submit">Subscribe</button></form>
<nav aria-label="Footer"><ul class="footer-menu">{foot}</ul></nav>
</footer>
</body>
</html>
"""


def render_text(meta: dict, body_markdown: str) -> str:
    """The page as plain text pasted from a browser: nav words, title, date, body paragraphs, footer lines."""
    head = "\n".join((SITE_NAME, *NAV))
    title_date = f"{_title(meta)}\n{_long_date(_when(meta, 'published_time', 'date'))}"
    foot = "\n".join((SITE_NAME, *ADDRESS, *FOOTER_LINKS))
    return "\n\n".join((head, title_date, *article_paragraphs(body_markdown), foot)) + "\n"


@dataclass
class Item:
    """One article the site serves; ``body`` and ``modified`` change when the page is edited."""

    title: str
    published: datetime
    modified: datetime
    path: str
    markdown_path: Path | None
    meta: dict
    body: str

    @classmethod
    def from_file(cls, markdown_path: Path, path: str | None = None) -> "Item":
        meta, body = load_markdown(markdown_path)
        path = path or urlsplit(str(meta.get("source_url"))).path
        meta = dict(meta, source_url="https://www.whitehouse.gov" + path)  # canonical: where this site serves it
        return cls(_title(meta), _when(meta, "published_time", "date"),
                   _when(meta, "modified_time", "published_time", "date"), path, markdown_path, meta, body)


@dataclass
class Response:
    status: int
    body: bytes = b""
    ctype: str = HTML_TYPE
    headers: dict = field(default_factory=dict)
    modified: datetime | None = None
    stream: Iterator[bytes] | None = None


def _png() -> bytes:
    """A valid 1x1 white PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


def _huge(total: int = HUGE_BYTES) -> Iterator[bytes]:
    """A valid-looking HTML page of ``total`` bytes, produced lazily in 64 KiB chunks."""
    head = f"<!DOCTYPE html><html lang=\"en-US\"><head><meta charset=\"utf-8\"><title>Huge page – {SITE_NAME}</title></head><body><main><article><h1>Huge page</h1>\n".encode()
    tail = b"</article></main></body></html>\n"
    para = b"<p>" + b"This paragraph repeats until the page is far larger than any sane fetch cap. " * 10 + b"</p>\n"
    chunk, sent = para * (65536 // len(para)), len(head) + len(tail)
    yield head
    while sent + len(chunk) <= total:
        yield chunk
        sent += len(chunk)
    yield b"<p>" + b"x" * max(0, total - sent - 8) + b"</p>\n" + tail


class Site:
    """The archive's rss.xml items as a website; ``respond`` answers one path for one base URL."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else unpacked_archive() / "wh"
        self.items = self._feed_items()
        self.pages = {i.path: i for i in self.items}
        self.pages["/flaky/"] = Item.from_file(self.root / FLAKY_DOC, "/flaky/")
        self.pages["/limited/"] = Item.from_file(self.root / LIMITED_DOC, "/limited/")
        secret = {"title": "Internal staff directory", "published_time": self.items[-1].published,
                  "source_url": "https://www.whitehouse.gov/private/secret/"}
        self.pages["/private/secret/"] = Item(secret["title"], secret["published_time"], secret["published_time"],
                                               "/private/secret/", None, secret,
                                               "This page is disallowed by robots.txt; a polite crawler never asks for it.\n")
        self.feeds: dict[str, tuple[str, list[str]]] = {}
        self._hits: Counter = Counter()
        self._lock = threading.Lock()

    def _feed_items(self) -> list[Item]:
        """Each rss.xml item matched to the Markdown file whose front matter ``source_url`` is its link."""
        links = [(i.findtext("link") or "").strip() for i in ET.parse(self.root / "rss.xml").getroot().iter("item")]
        wanted, found = set(links), {}
        months = {"{}-{}".format(*urlsplit(u).path.split("/")[2:4]) for u in links}  # /tag/yyyy/mm/slug/
        candidates = [p for m in sorted(months) for p in sorted(self.root.glob(f"*/{m}/*.md"))]
        for scope in (candidates, sorted(self.root.glob("**/*.md"))):  # the month folders first, then all
            for p in scope:
                if len(found) == len(wanted):
                    break
                with p.open(encoding="utf-8") as fh:
                    m = re.search(r"^source_url:\s*['\"]?(\S+?)['\"]?\s*$", fh.read(4096), re.M)
                if m and m.group(1) in wanted:
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
            item.modified = max(now, item.modified + timedelta(seconds=1))  # archive dates may lie in the future

    def reset_counters(self) -> None:
        """/flaky/ and /limited/ misbehave again on their next request."""
        with self._lock:
            self._hits.clear()

    def add_feed(self, path: str, paths: list[str], title: str = "Test feed") -> str:
        """Serve an extra RSS feed at ``path`` listing ``paths`` (special paths included); returns ``path``."""
        self.feeds[path] = (title, list(paths))
        return path

    def related(self, item: Item, base: str, n: int = 3) -> list[tuple[str, str]]:
        k = next((k for k, i in enumerate(self.items) if i is item), None)
        if k is not None:
            others = [self.items[(k + j) % len(self.items)] for j in range(1, n + 1)]
        else:
            others = self.items[:n]
        return [(o.title, base + o.path) for o in others]

    def page(self, item: Item, base: str) -> Response:
        with self._lock:
            meta, body, modified = dict(item.meta, modified_time=item.modified), item.body, item.modified
        markup = render_page(meta, body, self.related(item, base), base)
        return Response(200, markup.encode("utf-8"), modified=modified)

    def _entries(self, paths: list[str], base: str) -> list[tuple[str, str, datetime, datetime, str]]:
        """(title, url, published, updated, first paragraph) per path; non-article paths get a stand-in."""
        out = []
        for p in paths:
            i = self.pages.get(p)
            if i:
                paras = article_paragraphs(i.body)
                out.append((i.title, base + p, i.published, i.modified, " ".join(paras[0].split()) if paras else ""))
            else:
                out.append((f"Test link {p}", base + p, self.updated, self.updated, f"A link to {p}."))
        return out

    def rss(self, base: str, title: str, paths: list[str], self_path: str) -> Response:
        items = "".join(
            f"<item><title>{escape(t)}</title><link>{escape(u)}</link><guid isPermaLink=\"true\">{escape(u)}</guid>"
            f"<pubDate>{format_datetime(pub)}</pubDate><description>{escape(d)}</description></item>\n"
            for t, u, pub, _, d in self._entries(paths, base))
        xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n'
               f"<channel><title>{escape(title)}</title><link>{base}/</link><description>News from the White House</description>"
               f"<language>en-US</language><lastBuildDate>{format_datetime(self.updated)}</lastBuildDate>"
               f'<atom:link href="{base}{self_path}" rel="self" type="application/rss+xml"/>\n{items}</channel>\n</rss>\n')
        return Response(200, xml.encode("utf-8"), "application/rss+xml; charset=utf-8", modified=self.updated)

    def atom(self, base: str) -> Response:
        entries = "".join(
            f'<entry><title>{escape(t)}</title><id>{escape(u)}</id><link rel="alternate" type="text/html" href="{escape(u)}"/>'
            f"<published>{pub.isoformat()}</published><updated>{upd.isoformat()}</updated><summary>{escape(d)}</summary></entry>\n"
            for t, u, pub, upd, d in self._entries([i.path for i in self.items], base))
        xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
               f'<title>{SITE_NAME}</title><id>{base}/</id><link rel="self" href="{base}/atom.xml"/><link href="{base}/"/>'
               f"<updated>{self.updated.isoformat()}</updated><author><name>{SITE_NAME}</name></author>\n{entries}</feed>\n")
        return Response(200, xml.encode("utf-8"), "application/atom+xml; charset=utf-8", modified=self.updated)

    def sitemap(self, base: str, path: str) -> Response | None:
        half = (len(self.items) + 1) // 2
        parts = {"/sitemaps/pages-1.xml": self.items[:half], "/sitemaps/pages-2.xml": self.items[half:]}
        ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        if path == "/sitemap.xml":
            body = "".join(f"<sitemap><loc>{base}{p}</loc><lastmod>{max(i.modified for i in items):%Y-%m-%d}</lastmod></sitemap>\n"
                           for p, items in parts.items())
            xml = f"<sitemapindex {ns}>\n{body}</sitemapindex>\n"
        elif path in parts:
            body = "".join(f"<url><loc>{escape(base + i.path)}</loc><lastmod>{i.modified:%Y-%m-%d}</lastmod></url>\n"
                           for i in parts[path])
            xml = f"<urlset {ns}>\n{body}</urlset>\n"
        else:
            return None
        return Response(200, f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}'.encode(), "application/xml; charset=utf-8",
                        modified=self.updated)

    def respond(self, path: str, base: str) -> Response:
        """The answer to GET ``path`` on a server whose own URL is ``base``."""
        if path.endswith("/index.html"):
            path = path[: -len("index.html")]
        if path in ("/flaky/", "/limited/"):
            with self._lock:
                self._hits[path] += 1
                first = self._hits[path] == 1
            if first and path == "/flaky/":
                return Response(503, b"<h1>503 Service Unavailable</h1>\n")
            if first:
                return Response(429, b"<h1>429 Too Many Requests</h1>\n", headers={"Retry-After": "1"})
        if path in self.pages:
            return self.page(self.pages[path], base)
        if path + "/" in self.pages:
            return Response(301, b"", headers={"Location": base + path + "/"})
        if path == "/feed.xml":
            return self.rss(base, SITE_NAME, [i.path for i in self.items], path)
        if path in self.feeds:
            return self.rss(base, self.feeds[path][0], self.feeds[path][1], path)
        if path == "/atom.xml":
            return self.atom(base)
        if path.startswith("/sitemap") and (answer := self.sitemap(base, path)):
            return answer
        if path == "/robots.txt":
            robots = f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}/sitemap.xml\n"
            return Response(200, robots.encode(), "text/plain; charset=utf-8", modified=self.updated)
        if path == "/":
            links = "".join(f'<li><a href="{base}{i.path}">{html.escape(i.title)}</a></li>' for i in self.items)
            return Response(200, f"<!DOCTYPE html><title>{SITE_NAME}</title><h1>News</h1><ul>{links}</ul>\n".encode(),
                            modified=self.updated)
        if path == "/redirect-to-metadata/":
            return Response(302, b"", headers={"Location": METADATA_URL})
        if path == "/huge/":
            return Response(200, stream=_huge())
        if path == "/image.png":
            return Response(200, _png(), "image/png", modified=self.updated)
        return Response(404, b"<!DOCTYPE html><title>Page not found</title><h1>404: Page not found</h1>\n")

    def serve(self):
        return serve(self)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict  # lowercased names
    time: float


def _not_modified(headers, etag: str, modified: datetime) -> bool:
    """RFC 9110: If-None-Match decides when present; otherwise If-Modified-Since (second precision)."""
    if (inm := headers.get("If-None-Match")) is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    if ims := headers.get("If-Modified-Since"):
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        return modified.replace(microsecond=0) <= (since if since.tzinfo else since.replace(tzinfo=timezone.utc))
    return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; /huge/ is sent chunked, without Content-Length
    server_version, sys_version = "nginx", ""
    timeout = 10  # idle keep-alive connections do not pin a thread forever

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._answer(send_body=True)

    def do_HEAD(self):
        self._answer(send_body=False)

    def _answer(self, send_body: bool):
        srv: SiteServer = self.server
        split = urlsplit(self.path)
        srv.record(Request(self.command, split.path, split.query, {k.lower(): v for k, v in self.headers.items()}, time.time()))
        r = srv.site.respond(split.path, srv.url)
        headers = {"Content-Type": r.ctype, **r.headers}
        if r.status == 200 and r.stream is None:
            modified = r.modified or srv.site.updated
            headers["ETag"] = '"' + hashlib.sha256(r.body).hexdigest()[:32] + '"'
            headers["Last-Modified"] = format_datetime(modified.astimezone(timezone.utc), usegmt=True)
            if _not_modified(self.headers, headers["ETag"], modified):
                r = replace(r, status=304, body=b"")
                del headers["Content-Type"]
        try:
            self.send_response(r.status)
            for k, v in headers.items():
                self.send_header(k, v)
            if r.stream is not None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in r.stream if send_body else ():
                    self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), chunk))
                if send_body:
                    self.wfile.write(b"0\r\n\r\n")
                return
            if r.status != 304:
                self.send_header("Content-Length", str(len(r.body)))
            self.end_headers()
            if send_body and r.body:
                self.wfile.write(r.body)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading (size caps): quietly stop
            self.close_connection = True


class SiteServer(ThreadingHTTPServer):
    """The running site: ``url`` is its base, ``requests`` every request received, in order."""

    daemon_threads = True

    def __init__(self, site: Site):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site
        self.url = f"http://127.0.0.1:{self.server_port}"
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
