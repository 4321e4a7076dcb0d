"""Web sources against a real HTTP server on 127.0.0.1 serving pages built from the White House archive.

The site (benchmarks/whsite.py) wraps every article in navigation, a cookie
banner, share widgets, related links and a footer, and misbehaves on chosen
paths (503 once, 429 with Retry-After, a redirect to 169.254.169.254, 30 MB
without Content-Length, an image, a robots-disallowed page).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import pytest

from benchmarks import crash
from benchmarks.goldset import SHARED

pytestmark = pytest.mark.skipif(not (SHARED / "corpora" / "whitehouse").exists(), reason="needs ../shared/corpora")

FURNITURE = ("Share on X", "Share on Facebook", "Copy Link", "We use cookies", "1600 Pennsylvania", "Privacy Policy",
             "Accessibility", "Subscribe", "Related")


@pytest.fixture(scope="module")
def site():
    from benchmarks.whsite import Site, serve

    site = Site()
    site.add_feed("/special.xml", ["/flaky/", "/limited/", "/redirect-to-metadata/", "/image.png", "/huge/", "/private/secret/", "/not-found/"])
    with serve(site) as server:
        yield site, server


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("web")
    return {
        "GOVNLP_RAW_STORE": str(home / "raw-store"),
        "GOVNLP_SOURCES_FILE": str(home / "sources.toml"),
        "GOVNLP_FETCH_MIN_DELAY_SECONDS": "0",
        "GOVNLP_FETCH_BACKOFF_SECONDS": "0.2",
        "GOVNLP_FETCH_MAX_BYTES": "5000000",
        "HOME_DIR": str(home),
    }


def govnlp(env, *args, timeout=600):
    result = crash.run(*args, env=env, timeout=timeout)
    return result


def query(warehouse: Path, sql: str, params=()):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def polled(site, env):
    """First poll of the 30-item feed (ingest only), then a second poll of the unchanged feed."""
    site_, server = site
    warehouse = Path(env["HOME_DIR"]) / "feed.duckdb"
    first = govnlp(env, "run", "--source", f"{server.url}/feed.xml", "--allow-private-hosts", "--stages", "ingest", "-w", str(warehouse))
    assert first.returncode == 0, first.stderr[-3000:]
    mark = len(server.requests)
    second = govnlp(env, "run", "--source", f"{server.url}/feed.xml", "--allow-private-hosts", "--stages", "ingest", "-w", str(warehouse))
    assert second.returncode == 0, second.stderr[-3000:]
    return {"warehouse": warehouse, "second_poll_requests": server.requests[mark:]}


def test_every_feed_item_is_stored_with_its_title_and_date_and_no_page_furniture(site, polled):
    site_, server = site
    from benchmarks.whsite import article_paragraphs

    rows = {uri: (title, day) for uri, title, day in query(polled["warehouse"], "SELECT source_uri, title, published_on FROM documents")}
    errors = dict(query(polled["warehouse"], "SELECT source_uri, error_type FROM ingest_errors"))
    textless = [i for i in site_.items if not any(len(p.split()) >= 8 for p in article_paragraphs(i.body))]
    assert len(textless) == 1  # one item is only a link to a PDF: rejected with a reason, not stored empty
    for item in site_.items:
        if item in textless:
            assert errors[server.url + item.path] == "no_main_text"
        else:
            assert rows[server.url + item.path] == (item.title, item.published.date())
    assert len(rows) == 29
    texts = [t for (t,) in query(polled["warehouse"], "SELECT text FROM paragraphs")]
    for marker in FURNITURE:
        assert not any(marker in t for t in texts), f"page furniture {marker!r} stored as text"
    assert not any(t.strip() in {"News", "Administration", "Issues", "Gallery", "Contact"} for t in texts), "navigation stored"


def test_a_second_poll_is_conditional_and_stores_nothing_new(polled):
    requests = polled["second_poll_requests"]
    pages_and_feed = [r for r in requests if r.path != "/robots.txt"]
    assert len(pages_and_feed) == 31  # the feed and its 30 items, nothing else
    assert all("if-none-match" in r.headers and "if-modified-since" in r.headers for r in pages_and_feed)
    runs = query(polled["warehouse"], "SELECT counts FROM runs ORDER BY started_at")
    import json

    second = json.loads(runs[-1][0])
    assert second.get("not_modified") == 30 and second.get("new", 0) == 0 and second.get("documents", 0) == 0
    outcomes = dict(query(polled["warehouse"], "SELECT outcome, count(*) FROM fetches WHERE run_id = (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1) GROUP BY 1"))
    assert outcomes["not_modified"] == 31  # feed + pages


def test_an_edited_page_becomes_a_new_linked_version(site, env, polled):
    site_, server = site
    item = site_.items[3]
    site_.edit(item.path, "Editor's note: this statement was updated to correct the date of the signing ceremony.")
    result = govnlp(env, "run", "--source", f"{server.url}/feed.xml", "--allow-private-hosts", "--stages", "ingest", "-w", str(polled["warehouse"]))
    assert result.returncode == 0, result.stderr[-3000:]
    versions = query(polled["warehouse"], "SELECT version, versions, doc_id, previous_version, is_latest FROM document_versions WHERE source_uri = ? ORDER BY version",
                     [server.url + item.path])
    assert [v[0] for v in versions] == [1, 2] and versions[0][1] == 2
    assert versions[1][3] == versions[0][2] and versions[1][4] and not versions[0][4]
    assert query(polled["warehouse"], "SELECT count(*) FROM documents")[0][0] == 30
    texts = [t for (t,) in query(polled["warehouse"], "SELECT p.text FROM paragraphs p WHERE doc_id = ?", [versions[1][2]])]
    assert any("Editor's note" in t for t in texts)


def test_misbehaving_pages_are_retried_waited_for_refused_cut_or_rejected(site, env):
    site_, server = site
    site_.reset_counters()
    warehouse = Path(env["HOME_DIR"]) / "special.duckdb"
    started = time.time()
    result = govnlp(env, "run", "--source", f"{server.url}/special.xml", "--allow-private-hosts", "--stages", "ingest", "-w", str(warehouse))
    assert result.returncode == 0, result.stderr[-3000:]
    stored = {uri.rsplit("/", 2)[-2] if uri.endswith("/") else uri.rsplit("/", 1)[-1] for (uri,) in query(warehouse, "SELECT source_uri FROM documents")}
    assert stored == {"flaky", "limited"}  # 503 then 200; 429 then 200
    flaky = [r for r in server.requests if r.path == "/flaky/" and r.time >= started]
    limited = [r for r in server.requests if r.path == "/limited/" and r.time >= started]
    assert len(flaky) == 2 and len(limited) == 2
    assert limited[1].time - limited[0].time >= 0.95  # Retry-After: 1 was honoured
    assert server.count("/private/secret/") == 0  # robots.txt disallows it: never requested
    errors = {uri.replace(server.url, ""): (kind, message) for uri, kind, message in query(warehouse, "SELECT source_uri, error_type, message FROM ingest_errors")}
    assert errors["/redirect-to-metadata/"][0] == "refused_address" and "169.254.169.254" in errors["/redirect-to-metadata/"][1]
    assert errors["/huge/"][0] == "too_large" and "cut" in errors["/huge/"][1]
    assert errors["/image.png"][0] == "unsupported_content_type" and "image/png" in errors["/image.png"][1]
    assert errors["/not-found/"][0] == "http_error"
    outcomes = dict(query(warehouse, "SELECT replace(url, ?, ''), outcome FROM fetches WHERE role = 'page'", [server.url]))
    assert outcomes["/private/secret/"] == "robots_disallowed"
    assert query(warehouse, "SELECT attempts FROM fetches WHERE url = ?", [server.url + "/flaky/"])[0][0] == 2


def test_the_metadata_redirect_is_refused_even_with_private_hosts_allowed():
    from govnlp.fetch.safety import UnsafeURL, check_url

    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://224.0.0.1/", "http://[::ffff:169.254.169.254]/"):
        with pytest.raises(UnsafeURL):
            check_url(url, allow_private=True)
    for url in ("http://127.0.0.1:8000/", "http://10.0.0.1/", "http://localhost/", "http://[::1]/"):
        with pytest.raises(UnsafeURL, match="allow-private-hosts"):
            check_url(url, allow_private=False)
        check_url(url, allow_private=True)
    for url in ("file:///etc/passwd", "ftp://example.org/x", "gopher://x/"):
        with pytest.raises(UnsafeURL, match="only http and https"):
            check_url(url, allow_private=True)


def test_without_the_flag_a_local_feed_is_refused_with_a_clear_error(site, env):
    _, server = site
    warehouse = Path(env["HOME_DIR"]) / "refused.duckdb"
    result = govnlp(env, "run", "--source", f"{server.url}/feed.xml", "--stages", "ingest", "-w", str(warehouse))
    assert result.returncode == 1
    assert "loopback" in result.stderr and "--allow-private-hosts" in result.stderr
    assert query(warehouse, "SELECT status FROM runs")[0][0] == "failed"


def test_sources_toml_cli_and_a_sitemap_source_end_to_end_with_every_stage(site, env):
    """sources add/list/remove keep comments; a named sitemap source runs every stage; a dead source fails alone."""
    _, server = site
    sources_file = Path(env["GOVNLP_SOURCES_FILE"])
    sources_file.write_text("# our sources\n", encoding="utf-8")
    assert govnlp(env, "sources", "add", "wh-sitemap", f"{server.url}/sitemap.xml", "--kind", "sitemap", "--publisher", "The White House",
                  "--schedule", "0 * * * *", "--max-items", "4").returncode == 0
    assert govnlp(env, "sources", "add", "dead", "http://127.0.0.1:9/feed.xml", "--kind", "feed").returncode == 0
    bad = govnlp(env, "sources", "add", "x", "http://127.0.0.1:9/", "--kind", "feed", "--schedule", "every hour")
    assert bad.returncode == 2 and "cron" in bad.stderr
    listed = govnlp(env, "sources", "list")
    assert "wh-sitemap" in listed.stdout and "dead" in listed.stdout
    warehouse = Path(env["HOME_DIR"]) / "sitemap.duckdb"
    dead = govnlp(env, "run", "--source", "dead", "--allow-private-hosts", "-w", str(warehouse))
    assert dead.returncode == 1 and "dead" in dead.stderr and "failed" in dead.stderr
    result = govnlp(env, "run", "--source", "wh-sitemap", "--allow-private-hosts", "-w", str(warehouse))
    assert result.returncode == 0, result.stderr[-3000:]
    assert query(warehouse, "SELECT count(*), count(DISTINCT publisher), min(publisher) FROM documents")[0] == (4, 1, "The White House")
    assert query(warehouse, "SELECT count(*) FROM mentions")[0][0] > 0
    assert query(warehouse, "SELECT count(*) FROM embeddings")[0][0] > 0
    assert [s for (s,) in query(warehouse, "SELECT status FROM runs ORDER BY started_at")] == ["failed", "completed"]
    assert govnlp(env, "sources", "remove", "dead").returncode == 0
    text = sources_file.read_text(encoding="utf-8")
    assert text.startswith("# our sources") and "dead" not in text and "wh-sitemap" in text


def test_serve_runs_each_scheduled_source_on_its_cron(site, env, tmp_path):
    """`govnlp serve` without a Prefect server: each scheduled source is a deployment with its cron, and the cron makes it run."""
    import re

    import httpx

    _, server = site
    sources_file = tmp_path / "sources.toml"
    sources_file.write_text(
        f'[[source]]\nname = "wh-feed"\nkind = "feed"\nlocation = "{server.url}/feed.xml"\nschedule = "* * * * *"\nmax_items = 2\n'
        f'[[source]]\nname = "by-hand"\nkind = "feed"\nlocation = "{server.url}/atom.xml"\n', encoding="utf-8")
    warehouse = tmp_path / "served.duckdb"
    serve_env = {**env, "GOVNLP_SOURCES_FILE": str(sources_file), "GOVNLP_WAREHOUSE": str(warehouse), "GOVNLP_ALLOW_PRIVATE_HOSTS": "true",
                 "PREFECT_HOME": str(tmp_path / "prefect-home")}  # a fresh Prefect database: no deployments from other runs
    proc = crash.start("serve", env=serve_env)
    try:
        api, seen = None, ""
        deadline = time.time() + 180
        while api is None and time.time() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, f"serve exited: {seen[-3000:]}"
            seen += line
            if "serving" in seen and (m := re.search(r"local Prefect API \(with its scheduler\) at (\S+);", seen)):
                api = m.group(1)
        assert api, seen[-3000:]
        assert "serving source-wh-feed on '* * * * *'" in seen and "by-hand" not in seen  # unscheduled sources are not served
        deadline = time.time() + 60
        while (found := httpx.get(f"{api}/deployments/name/govnlp-source/source-wh-feed", timeout=30)).status_code == 404 and time.time() < deadline:
            time.sleep(1)  # serve registers it just after printing
        assert [s["schedule"]["cron"] for s in found.json()["schedules"]] == ["* * * * *"]
        deadline = time.time() + 200  # the next minute boundary, then the run itself
        while time.time() < deadline and not (warehouse.exists() and _completed_runs(warehouse)):
            assert proc.poll() is None, "serve exited"
            time.sleep(2)
        assert _completed_runs(warehouse) >= 1, "the cron schedule never produced a run"
        assert query(warehouse, "SELECT count(*) FROM documents")[0][0] == 2
    finally:
        crash.interrupt(proc)


def _completed_runs(warehouse: Path) -> int:
    try:
        return query(warehouse, "SELECT count(*) FROM runs WHERE status = 'completed' AND flow = 'source'")[0][0]
    except duckdb.Error:
        return 0


def test_a_backfill_re_extracts_web_pages_from_the_raw_store_without_the_network(site, env, polled):
    """The server is not asked for anything: the bodies come from the raw store."""
    _, server = site
    mark = len(server.requests)
    before = query(polled["warehouse"], "SELECT count(*) FROM documents")[0][0]
    result = govnlp(env, "backfill", "--stages", "ingest", "--source", server.url + "/", "-w", str(polled["warehouse"]))
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(server.requests) == mark  # no request at all
    import json

    counts = json.loads(query(polled["warehouse"], "SELECT counts FROM runs ORDER BY started_at DESC LIMIT 1")[0][0])
    assert counts["archived_pages"] == 30 and counts.get("errors", 0) == 1  # the page with no article text is rejected again
    assert query(polled["warehouse"], "SELECT count(*) FROM documents")[0][0] == before  # same extraction: nothing new


def test_sources_deployments_writes_a_prefect_yaml_for_a_server(env, tmp_path):
    import yaml

    sources_file = tmp_path / "sources.toml"
    sources_file.write_text('[[source]]\nname = "wh"\nkind = "feed"\nlocation = "https://www.whitehouse.gov/feed/"\nschedule = "15 * * * *"\n'
                            '[[source]]\nname = "manual"\nkind = "urls"\nlocation = "urls.txt"\n', encoding="utf-8")
    out = tmp_path / "prefect.yaml"
    result = govnlp({**env, "GOVNLP_SOURCES_FILE": str(sources_file)}, "sources", "deployments", "--output", str(out))
    assert result.returncode == 0, result.stderr
    spec = yaml.safe_load(out.read_text())
    assert [(d["name"], d["entrypoint"], d["schedules"], d["parameters"]["source"]) for d in spec["deployments"]] == [
        ("source-wh", "flows/sources.py:source_flow", [{"cron": "15 * * * *"}], "wh")]


def test_a_second_run_of_the_same_source_is_skipped_with_a_reason(site, env, tmp_path):
    from govnlp import steps
    from govnlp.fetch.sources import adhoc_name
    from govnlp.settings import load_settings

    _, server = site
    warehouse = tmp_path / "w.duckdb"
    url = f"{server.url}/feed.xml"
    with steps.source_lock(load_settings(warehouse=warehouse), adhoc_name(url)) as holder:
        assert holder is None  # this test process holds the source, as a running poll would
        result = govnlp(env, "run", "--source", url, "--allow-private-hosts", "--stages", "ingest", "-w", str(warehouse))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "already being run" in result.stderr and "skipped" in result.stderr
    assert not warehouse.exists() or query(warehouse, "SELECT count(*) FROM runs")[0][0] == 0
