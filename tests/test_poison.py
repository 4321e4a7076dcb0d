"""Poison input (issue 13): one bad document costs one row, never a batch or a run.

Lone surrogates reach Python strings through JSON escapes, YAML front
matter, HTML character references, PDF ToUnicode maps and undecodable file
names; pyarrow refuses them, which once stopped a whole run with nothing
stored.  These tests drive the real readers, the real writer (DuckDB through
Arrow), real spaCy, a real HTTP server on 127.0.0.1 and the real CLI.
"""

from __future__ import annotations

import http.server
import json
import os
import random
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from benchmarks import crash
from conftest import SEEDS
from hostile import _Corpus, _poison_cases

SURROGATE = re.compile("[\ud800-\udfff]")


@pytest.fixture(scope="module")
def poison_dir(tmp_path_factory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("poison")
    corpus = _Corpus(root)
    _poison_cases(corpus, random.Random(13))
    return root, corpus.files


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def _read(path: Path):
    from govnlp import ingest

    found = next(ingest.discover([path]))
    return ingest.read_file(found, 50_000_000)


@pytest.mark.parametrize("name", [
    "surrogate-title.json", "surrogate-text.json", "surrogate-keys.json", "surrogate.jsonl", "surrogate-front-matter.md",
    "wtf8.txt", "wtf8.html", "surrogate-entity.html", "surrogate-tounicode.pdf", "nul-bidi.json",
])
def test_every_reader_hands_over_valid_text(poison_dir, name):
    """Each reader's documents hold no lone surrogate in any string; replacements are counted."""
    root, _ = poison_dir
    docs, errors = _read(root / "poison" / name)
    assert docs or errors
    for doc in docs:
        fields = [doc.title, doc.publisher, doc.url, doc.doc_type, doc.language, doc.metadata] + [p.text for p in doc.paragraphs]
        bad = [s for s in _strings(fields) if SURROGATE.search(s)]
        assert not bad, bad[:3]
        for s in _strings(fields):
            s.encode("utf-8")  # strict: raises on anything Arrow would refuse
    if name == "surrogate-front-matter.md":  # PyYAML refuses the escape: one clear rejection, not a crash
        assert not docs and [e.error_type for e in errors] == ["bad_front_matter"]
    elif name.startswith("surrogate") and name != "surrogate-entity.html":
        assert docs and sum(d.metadata.get("replaced_characters", 0) for d in docs) > 0
    if name == "surrogate-title.json":
        assert docs[0].title == "s\ufffdx"
    if name == "surrogate-tounicode.pdf":
        assert "\ufffd then \ufffd alone" in docs[0].text


def test_valid_text_joins_surrogate_pairs_and_replaces_lone_halves():
    from govnlp.records import valid_text

    assert valid_text("a\ud800\udc00b") == ("a\U00010000b", 0)  # one character written as two halves (pypdf does this)
    assert valid_text("\udc00x\ud800") == ("\ufffdx\ufffd", 2)
    assert valid_text("plain \ufffd text") == ("plain \ufffd text", 0)


def test_seeds_plus_poison_files_store_the_seeds_unchanged_and_every_poison_file(poison_dir, tmp_path, prefect_home):
    """The issue's case: the seeds beside the poison files; the run ends 0 and stores the seeds exactly as alone."""
    root, files = poison_dir
    mixed = tmp_path / "mixed"
    shutil.copytree(root, mixed)
    clean = tmp_path / "clean"
    clean.mkdir()
    for seed in SEEDS.glob("*.txt"):
        shutil.copy(seed, mixed / seed.name)
        shutil.copy(seed, clean / seed.name)
    bad_json = mixed / "broken.json"
    bad_json.write_text('{"title": "unterminated \\ud800", "text": ', encoding="utf-8")
    results = {}
    for name, folder in (("mixed", mixed), ("clean", clean)):
        warehouse = tmp_path / f"{name}.duckdb"
        proc = crash.run("run", "--source", str(folder), "--warehouse", str(warehouse), "--stages", "ingest", timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr
        results[name] = warehouse
    seeds_query = ("SELECT title, published_on, content_hash, list(p.text ORDER BY p.position) FROM documents d "
                   "JOIN paragraphs p USING (doc_id) WHERE d.source_uri LIKE '%/0__\\_%.txt' ESCAPE '\\' GROUP BY ALL ORDER BY content_hash")
    with duckdb.connect(str(results["mixed"]), read_only=True) as mixed_con, duckdb.connect(str(results["clean"]), read_only=True) as clean_con:
        assert mixed_con.execute(seeds_query).fetchall() == clean_con.execute(seeds_query).fetchall()
        stored = {u for (u,) in mixed_con.execute("SELECT DISTINCT source_uri FROM documents").fetchall()}
        errors = mixed_con.execute("SELECT source_uri, error_type FROM ingest_errors").fetchall()
        # every poison file is a document or exactly one error row; the broken JSON is exactly one row
        for f in files:
            uri = (mixed / f.name).absolute().as_uri()
            rows = [e for u, e in errors if u == uri]
            assert (uri in stored) != bool(rows), (f.name, rows)
            assert len(rows) <= 1
            if f.expect == "ingest":
                assert uri in stored, (f.name, rows)
        assert [e for u, e in errors if u == bad_json.absolute().as_uri()] == ["bad_json"]
        # the name that is not UTF-8: an escaped display name and its exact bytes
        name_rows = mixed_con.execute("SELECT display_name, name_hex FROM source_files WHERE name_hex IS NOT NULL ORDER BY 1").fetchall()
        raw_names = [os.fsencode(mixed / f.name) for f in files if f.kind in ("name-not-utf8", "name-encoded-surrogate")]
        assert sorted(bytes.fromhex(h) for _, h in name_rows) == sorted(raw_names)
        assert any("\\xff\\xfe" in shown for shown, _ in name_rows)
        title = mixed_con.execute("SELECT title, metadata->>'replaced_characters' FROM documents WHERE source_uri LIKE '%surrogate-title.json'").fetchone()
        assert title == ("s\ufffdx", "1")


# ---- containment in the writer and in the model stages ----

@pytest.fixture()
def run_ctx(tmp_path):
    from govnlp import steps
    from govnlp.settings import load_settings

    settings = load_settings(warehouse=tmp_path / "w" / "govnlp.duckdb", ingest_workers=1)
    with steps.open_run(settings, "test", ["ingest"], [], {}) as ctx:
        yield ctx


def _seed_documents():
    from govnlp import ingest

    docs = []
    for found in ingest.discover([SEEDS]):
        read, _ = ingest.read_file(found, 50_000_000)
        docs.append((found, read))
    return docs


def test_a_document_that_cannot_be_stored_is_rejected_alone(run_ctx):
    """A batch whose storing fails is halved until the failing document stands alone: it gets a write_failed row, the rest is stored."""
    from govnlp import steps
    from govnlp.warehouse import queries

    read = _seed_documents()
    docs = [d for _, ds in read for d in ds]
    rows = [(f, "ingested", len(ds), 0.1) for f, ds in read]
    poisoned = docs[2]
    poisoned.title = "a title an older reader let through \ud800"  # what a reader without the boundary check produced
    stored, errors = steps.store_batch(run_ctx, docs, {}, rows, [])
    assert [d.doc_id for d in stored] == [d.doc_id for d in docs if d is not poisoned]
    assert [(e.source_uri, e.error_type) for e in errors] == [(poisoned.source_uri, "write_failed")]
    assert "surrogates not allowed" in errors[0].message
    con = run_ctx.con
    assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == len(docs) - 1
    assert con.execute("SELECT status, documents FROM source_files WHERE source_uri = ?", [poisoned.source_uri]).fetchone() == ("rejected", 0)
    assert con.execute("SELECT error_type FROM ingest_errors").fetchall() == [("write_failed",)]
    assert not queries.canonical_documents(con, [poisoned.content_hash])


def test_a_paragraph_that_breaks_a_model_stage_is_recorded_and_skipped(run_ctx):
    """Real spaCy over the seeds; one paragraph makes the stage raise (injected fault): it alone gets a stage_errors row."""
    from govnlp import steps
    from govnlp.warehouse import integrity

    read = _seed_documents()
    docs = [d for _, ds in read for d in ds]
    steps.store_batch(run_ctx, docs, {}, [(f, "ingested", len(ds), 0.1) for f, ds in read], [])
    total, batches = steps.pending(run_ctx, "entities")
    batch = next(batches)
    poison = batch[len(batch) // 2]

    def fragile(ctx, part):  # the real stage, which fails on one paragraph
        if any(p.paragraph_id == poison.paragraph_id for p in part):
            raise RuntimeError("model failure on this paragraph")
        return steps._entities(ctx, part)

    done = steps.run_contained(run_ctx, "entities", fragile, batch)
    assert done == len(batch)
    con = run_ctx.con
    assert con.execute("SELECT paragraph_id, stage, error_type FROM stage_errors").fetchall() == [(poison.paragraph_id, "entities", "RuntimeError")]
    annotated = con.execute("SELECT count(*) FROM paragraph_annotations WHERE stage = 'entities'").fetchone()[0]
    assert annotated == len(batch) - 1
    again, _ = steps.pending(run_ctx, "entities")
    assert again == total - len(batch)  # the failed paragraph is not offered again at this version
    assert integrity.stage_failures(con)[0][:2] == ("entities", 1)
    assert integrity.pending(con)["entities"] == again


def test_a_stage_that_fails_on_every_paragraph_fails_the_run(run_ctx):
    """A broken stage is not blamed on the paragraphs: nothing is recorded, the error is raised."""
    from govnlp import steps

    read = _seed_documents()
    steps.store_batch(run_ctx, [d for _, ds in read for d in ds], {}, [(f, "ingested", len(ds), 0.1) for f, ds in read], [])
    _, batches = steps.pending(run_ctx, "entities")

    def broken(ctx, part):
        raise OSError("disk full")

    with pytest.raises(OSError):
        steps.run_contained(run_ctx, "entities", broken, next(batches))
    assert run_ctx.con.execute("SELECT count(*) FROM stage_errors").fetchone()[0] == 0


# ---- argument errors: one line, exit 2, no traceback, no flow run ----

@pytest.mark.parametrize("args", [
    ["run", "--source", "/nonexistent"],
    ["run", "--source", "ftp://example.org/feed"],
    ["run", "--stages", "ingest,embedz"],
    ["run", "--bogus"],
    ["backfill", "--since", "2025-13-01"],
    ["backfill", "--since", "2025-05-01", "--until", "2025-01-01"],
    ["backfill", "--source", "/nonexistent"],
    ["backfill", "--stages", "ingest"],
    ["backfill", "--stages", "entitys"],
    ["search", "ai", "-k", "0"],
    ["search", " "],
    ["sql", "SELECT 1", "--format", "xml"],
    ["sql", "SELECT 1", "--format", "parquet"],
    ["report", "--from", "2025-05-01", "--to", "2025-01-01"],
    ["report", "--from", "May 2025"],
    ["export"],
    ["import"],
    ["migrate", "--dry-run", "--bogus"],
    ["check", "extra-argument"],
    ["status", "--warehouse"],
    ["docs", "--output"],
    ["serve", "--bogus"],
    ["sources", "add", "x"],
    ["sources", "add", "Bad Name", "/tmp"],
    ["sources", "remove", "no-such-source"],
])
def test_argument_errors_are_one_line_and_exit_2(args, tmp_path):
    env = {"GOVNLP_SOURCES_FILE": str(tmp_path / "sources.toml"), "PREFECT_API_URL": "http://127.0.0.1:9/api"}  # a flow run would fail loudly
    proc = crash.run(*args, env=env, timeout=120)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr and "Flow run" not in proc.stderr


def test_a_bad_setting_is_one_line_and_exit_2(tmp_path):
    proc = crash.run("run", "--source", str(tmp_path), env={"GOVNLP_INGEST_WORKERS": "many"}, timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip().startswith("error: bad setting 'ingest_workers'"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# ---- fetch: dates from the page, then the feed, never a copyright year; DNS rebinding ----

class _Pages(http.server.ThreadingHTTPServer):
    def __init__(self, pages: dict[str, tuple[str, bytes]]):
        self.pages, self.hits = pages, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.hits.append(self.path)
                if self.path not in outer.pages:
                    self.send_error(404)
                    return
                ctype, body = outer.pages[self.path]
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(("127.0.0.1", 0), Handler)


@contextmanager
def serving(pages):
    server = _Pages(pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _article(title: str, body: str, head: str = "", byline: str = "") -> bytes:
    paras = "".join(f"<p>{body} Paragraph {i} adds more words on the oversight of artificial intelligence in public services.</p>" for i in range(4))
    return (f"<html><head><title>{title}</title>{head}</head><body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{byline}"
            f"{paras}</article><footer>© 2025 Example Ministry. All rights reserved.</footer></body></html>").encode()


def test_fetched_page_dates_come_from_markup_then_feed_never_copyright(tmp_path, prefect_home):
    body = "The ministry published guidance on the procurement of AI systems by public bodies, with new audit duties."
    pages = {
        "/a": ("text/html", _article("Only the feed dates this page", body)),
        "/b": ("text/html", _article("Markup dates this page", body + " Second.", '<meta property="article:published_time" content="2024-03-01T09:00:00Z">')),
        "/c": ("text/html", _article("A byline dates this page", body + " Third.", byline="<p class='byline'>By Jane Roe, 3 March 2023</p>")),
        "/d": ("text/html", _article("Surrogate &#xD800; in a fetched title", body + " Fourth.")),
    }
    items = [("/a", "Sat, 14 Dec 2024 10:00:00 GMT"), ("/b", "Tue, 05 Mar 2024 10:00:00 GMT"),
             ("/c", "Wed, 08 Mar 2023 10:00:00 GMT"), ("/d", "Mon, 02 Dec 2024 10:00:00 GMT")]
    with serving(pages) as (server, base):
        entries = "".join(f"<item><title>t{p}</title><link>{base}{p}</link><pubDate>{d}</pubDate></item>" for p, d in items)
        server.pages["/feed.xml"] = ("application/rss+xml", f"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><link>{base}/</link>{entries}</channel></rss>".encode())
        warehouse = tmp_path / "w.duckdb"
        env = {"GOVNLP_RAW_STORE": str(tmp_path / "store"), "GOVNLP_SOURCES_FILE": str(tmp_path / "sources.toml"), "GOVNLP_FETCH_MIN_DELAY_SECONDS": "0"}
        proc = crash.run("run", "--source", f"{base}/feed.xml", "--allow-private-hosts", "--warehouse", str(warehouse), "--stages", "ingest", env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        got = dict(con.execute("SELECT regexp_extract(source_uri, '/[a-d]$'), (published_on::VARCHAR, metadata->>'date_source') FROM documents").fetchall())
        titles = [t for (t,) in con.execute("SELECT title FROM documents").fetchall()]
    assert got["/a"] == ("2024-12-14", "feed")  # not 2025-01-01 from the footer
    assert got["/b"] == ("2024-03-01", "stated")  # the page's own markup beats the feed
    assert got["/c"] == ("2023-03-03", "stated")  # a dated byline is the page's date
    assert got["/d"][0] == "2024-12-02"
    assert any("\ufffd" in t for t in titles)


def test_dns_rebinding_is_refused_at_connection_time():
    """The resolver answers a public address for the check, then 127.0.0.1: the connection is refused, the local server sees nothing."""
    from govnlp.fetch.client import FetchLimits, PoliteClient

    answers = iter([["93.184.215.14"], ["127.0.0.1"], ["127.0.0.1"], ["127.0.0.1"]])

    def rebinding(host):
        return next(answers)

    with serving({"/secret": ("text/html", b"<html><body>internal</body></html>")}) as (server, base):
        port = server.server_address[1]
        with PoliteClient(FetchLimits(user_agent="govnlp-test", retries=0, min_delay_seconds=0), resolver=rebinding) as client:
            client._robots["rebind.example:%d" % port] = None  # no robots.txt request: this test is about the page request alone
            fetched = client._fetch(f"http://rebind.example:{port}/secret", {}, robots=False)
        assert fetched.outcome == "refused", fetched
        assert "127.0.0.1" in fetched.message and "loopback" in fetched.message
        assert server.hits == []


def test_the_connection_goes_to_the_checked_address_with_the_name_kept():
    """With private hosts allowed, a name resolved by our resolver reaches the server by number; the Host header keeps the name."""
    from govnlp.fetch.client import FetchLimits, PoliteClient

    calls = []

    def resolver(host):
        calls.append(host)
        return ["127.0.0.1"]

    with serving({"/page": ("text/html", _article("Pinned", "Text of the pinned page about AI oversight."))}) as (server, base):
        port = server.server_address[1]
        with PoliteClient(FetchLimits(user_agent="govnlp-test", retries=0, min_delay_seconds=0, allow_private=True), resolver=resolver) as client:
            fetched = client._fetch(f"http://pinned.example:{port}/page", {}, robots=False)
    assert fetched.outcome == "ok", fetched
    assert calls == ["pinned.example", "pinned.example"]  # once for the URL check, once for the connection (checked again)
    assert server.hits == ["/page"]
