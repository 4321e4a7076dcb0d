"""The local White House site (benchmarks/whsite.py) that fetcher tests run against: real HTTP on 127.0.0.1."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import feedparser
import httpx
import pytest

from benchmarks import goldset, whsite

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def site():
    return whsite.Site()


@pytest.fixture(scope="module")
def server(site):
    with whsite.serve(site) as srv:
        yield srv


@pytest.fixture()
def client():
    with httpx.Client(timeout=10) as c:
        yield c


def test_thirty_items_from_the_archive_feed(site):
    assert len(site.items) == 30 and len({i.path for i in site.items}) == 30
    root = goldset.unpacked_archive() / "wh"
    for item in site.items:
        meta, body = whsite.load_markdown(item.markdown_path)
        assert item.markdown_path.is_relative_to(root)
        assert meta["source_url"] == "https://www.whitehouse.gov" + item.path
        assert re.fullmatch(r"/[a-z-]+/\d{4}/\d{2}/[^/]+/", item.path)
        assert isinstance(item.published, datetime) and item.published.tzinfo is not None
        assert item.title and body.strip()
    assert site.items[0].title == "President Trump and Republicans Deliver for South Carolina Families"
    assert site.items[0].published.date().isoformat() == "2026-08-21"


def test_page_has_the_furniture_and_the_article(site, server, client):
    item = site.items[0]
    r = client.get(server.url + item.path)
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    page = r.text
    assert page.startswith("<!DOCTYPE html>")
    assert f"<title>{html.escape(item.title)} – The White House</title>" in page
    assert '<meta property="og:site_name" content="The White House">' in page
    assert f'<meta property="article:published_time" content="{item.published.isoformat()}">' in page
    assert f'<link rel="canonical" href="{server.url}{item.path}">' in page
    assert re.search(r'<time [^>]*datetime="2026-08-21T16:00:54-04:00">August 21, 2026</time>', page)
    for furniture in ("<nav", ">News<", ">Administration<", ">Issues<", ">Gallery<", ">Contact<", "We use cookies",
                      ">Accept<", "Share on X", "Share on Facebook", "Copy Link", "<h2>Related</h2>",
                      "1600 Pennsylvania Ave NW", "Washington, DC 20500", ">Privacy Policy<", ">Copyright<",
                      ">Accessibility<", ">Subscribe<", "<footer"):
        assert furniture in page, furniture
    article = page[page.index("<article"): page.index("</article>")]
    assert "<h1" in article and html.escape(item.title) in article
    for other in site.items[1:4]:  # related links: other items, absolute on the server's own URL
        assert f'<a href="{server.url}{other.path}">{html.escape(other.title)}</a>' in article
    first = whsite.article_paragraphs(item.body)[0]
    assert first.startswith("Today, President Donald J. Trump returns to South Carolina")
    assert first in " ".join(html.unescape(re.sub(r"<[^>]+>", "", article)).split())
    # index.html semantics, and the slash-less path redirects to the canonical one
    assert client.get(server.url + item.path + "index.html").content == r.content
    moved = client.get(server.url + item.path.rstrip("/"))
    assert moved.status_code == 301 and moved.headers["location"] == server.url + item.path


def test_render_text_is_the_browser_copy(site):
    item = next(i for i in site.items if "icymi-uss-lincoln" in i.path)
    text = whsite.render_text(item.meta, item.body)
    lines = text.splitlines()
    assert lines[:6] == ["The White House", "News", "Administration", "Issues", "Gallery", "Contact"]
    assert lines[7:9] == ["ICYMI: “USS Lincoln: Performance For the Ages”", "August 17, 2026"]
    assert lines[-6:] == ["The White House", "1600 Pennsylvania Ave NW", "Washington, DC 20500",
                          "Privacy Policy", "Copyright", "Accessibility"]
    assert "In a powerful op-ed, U.S. Central Command Commander Adm. Brad Cooper shares" in text  # link as its text
    assert "Click here to read the op-ed in full." in text
    assert "**" not in text and "](" not in text and "<" not in text and "wsj.com" not in text
    # hard line breaks survive as lines, raw HTML spans vanish
    memo = next(i for i in site.items if i.path.endswith("nspm-17/"))
    paras = whsite.article_paragraphs(memo.body)
    assert paras[0].splitlines()[:2] == ["MEMORANDUM FOR THE SECRETARY OF STATE", "THE SECRETARY OF WAR"]
    assert any(p.startswith("Section 1. National Space Transportation Goals.") for p in paras)


def test_images_become_figures_with_captions(site):
    page = whsite.render_page({"title": "T", "date": "2026-08-18"}, 'Text.\n\n![The Rose Garden at dusk](/a.jpg)\n')
    assert re.search(r'<figure[^>]*><img src="/a.jpg" alt="The Rose Garden at dusk" />'
                     r"<figcaption>The Rose Garden at dusk</figcaption></figure>", page)
    assert "<time" in page and "August 18, 2026" in page
    donation = next(i for i in site.items if "2-million-donation" in i.path)  # raw <figure> blocks are kept
    assert whsite.render_page(donation.meta, donation.body).count("<figure>") == 6


def test_conditional_get_answers_304(site, server, client):
    for path in (site.items[1].path, "/feed.xml", "/sitemap.xml"):
        r = client.get(server.url + path)
        etag, modified = r.headers["etag"], r.headers["last-modified"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag) and modified.endswith("GMT")
        again = client.get(server.url + path)
        assert again.headers["etag"] == etag  # stable bytes, stable ETag
        for cond in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
            nm = client.get(server.url + path, headers=cond)
            assert nm.status_code == 304 and nm.content == b"" and nm.headers["etag"] == etag
        assert client.get(server.url + path, headers={"If-None-Match": '"other"'}).status_code == 200
        assert client.get(server.url + path, headers={"If-Modified-Since": "Sun, 01 Jan 2023 00:00:00 GMT"}).status_code == 200


def test_flaky_is_503_once_then_a_page(site, server, client):
    site.reset_counters()
    before = server.count("/flaky/")
    assert client.get(server.url + "/flaky/").status_code == 503
    r = client.get(server.url + "/flaky/")
    assert r.status_code == 200 and "Statement by President Biden on the Executive Order" in html.unescape(r.text)
    assert f'<link rel="canonical" href="{server.url}/flaky/">' in r.text
    assert server.count("/flaky/") == before + 2
    site.reset_counters()
    assert client.get(server.url + "/flaky/").status_code == 503


def test_limited_is_429_with_retry_after_then_a_page(site, server, client):
    site.reset_counters()
    first = client.get(server.url + "/limited/")
    assert first.status_code == 429 and first.headers["retry-after"] == "1"
    r = client.get(server.url + "/limited/")
    assert r.status_code == 200 and "Statement by Vice President Harris" in r.text


def test_robots_and_the_private_page(server, client):
    r = client.get(server.url + "/robots.txt")
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.splitlines()[:2] == ["User-agent: *", "Disallow: /private/"]
    assert client.get(server.url + "/private/secret/").status_code == 200


def test_sitemap_index_and_children_list_the_thirty_pages(site, server, client):
    r = client.get(server.url + "/sitemap.xml")
    assert r.headers["content-type"] == "application/xml; charset=utf-8"
    index = ET.fromstring(r.content)
    assert index.tag == SM + "sitemapindex"
    children = [e.findtext(SM + "loc") for e in index.iter(SM + "sitemap")]
    assert children == [server.url + "/sitemaps/pages-1.xml", server.url + "/sitemaps/pages-2.xml"]
    urls = {}
    for child in children:
        urlset = ET.fromstring(client.get(child).content)
        assert urlset.tag == SM + "urlset"
        rows = list(urlset.iter(SM + "url"))
        assert len(rows) == 15
        urls.update((u.findtext(SM + "loc"), u.findtext(SM + "lastmod")) for u in rows)
    assert set(urls) == {server.url + i.path for i in site.items}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", lastmod) for lastmod in urls.values())
    memo = next(i for i in site.items if i.path.endswith("nspm-17/"))
    assert urls[server.url + memo.path] == "2026-08-20"  # its modified_time's date


def test_feeds_parse_into_thirty_entries_on_the_server(site, server, client):
    rss, atom = client.get(server.url + "/feed.xml"), client.get(server.url + "/atom.xml")
    assert rss.headers["content-type"].startswith("application/rss+xml")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    for response, version in ((rss, "rss20"), (atom, "atom10")):
        feed = feedparser.parse(response.content)
        assert not feed.bozo and feed.version == version
        assert [e.link for e in feed.entries] == [server.url + i.path for i in site.items]
        assert [e.title for e in feed.entries] == [i.title for i in site.items]
        first = feed.entries[0]
        assert first.summary.startswith("Today, President Donald J. Trump returns to South Carolina")
        assert first.published_parsed[:3] == (2026, 8, 21)


def test_extra_feed_lists_chosen_paths(site, server, client):
    paths = ["/flaky/", "/private/secret/", "/huge/", site.items[0].path]
    site.add_feed("/test-feed.xml", paths, "Trouble")
    feed = feedparser.parse(client.get(server.url + "/test-feed.xml").content)
    assert feed.feed.title == "Trouble" and [e.link for e in feed.entries] == [server.url + p for p in paths]
    assert len(feedparser.parse(client.get(server.url + "/feed.xml").content).entries) == 30


def test_huge_streams_without_length(server, client):
    with client.stream("GET", server.url + "/huge/") as r:
        assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
        assert "content-length" not in r.headers and r.headers["transfer-encoding"] == "chunked"
        total = 0
        for chunk in r.iter_raw():
            total += len(chunk)
            if total > 5_000_000:
                break  # closing mid-stream: the server must stop quietly
    with client.stream("GET", server.url + "/huge/") as r:
        sizes = [len(chunk) for chunk in r.iter_raw()]
    assert sum(sizes) == whsite.HUGE_BYTES > 20_000_000
    assert client.get(server.url + "/robots.txt").status_code == 200  # still serving


def test_special_answers(server, client):
    r = client.get(server.url + "/redirect-to-metadata/")
    assert r.status_code == 302 and r.headers["location"] == "http://169.254.169.254/latest/meta-data/"
    png = client.get(server.url + "/image.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert client.get(server.url + "/not-found/").status_code == 404
    head = client.head(server.url + "/feed.xml")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 1000


def test_requests_are_recorded(server, client):
    client.get(server.url + "/robots.txt?x=1", headers={"User-Agent": "govnlp-test", "X-Probe": "yes"})
    last = server.requests[-1]
    assert (last.method, last.path, last.query) == ("GET", "/robots.txt", "x=1")
    assert last.headers["user-agent"] == "govnlp-test" and last.headers["x-probe"] == "yes"
    assert server.count("/robots.txt") >= 1 and server.count("/never/") == 0


def test_edit_makes_a_new_version():
    site = whsite.Site()
    item = site.items[5]
    with whsite.serve(site) as server, httpx.Client(timeout=10) as client:
        old = client.get(server.url + item.path)
        site.edit(item.path, "A sentence added after publication.")
        new = client.get(server.url + item.path)
        assert new.headers["etag"] != old.headers["etag"]
        assert "<p>A sentence added after publication.</p>" in new.text.split("</article>")[0]
        assert "A sentence added after publication." not in old.text
        for cond in ({"If-None-Match": old.headers["etag"]}, {"If-Modified-Since": old.headers["last-modified"]}):
            assert client.get(server.url + item.path, headers=cond).status_code == 200
        assert client.get(server.url + item.path, headers={"If-None-Match": new.headers["etag"]}).status_code == 304


def test_missing_markdown_fails_loudly(tmp_path):
    (tmp_path / "rss.xml").write_bytes((goldset.unpacked_archive() / "wh" / "rss.xml").read_bytes())
    with pytest.raises(RuntimeError, match="no Markdown file for 30"):
        whsite.Site(root=tmp_path)
