"""The analysts' views, macros and search functions on the seeds (issue 8), through the session `govnlp sql` opens."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from benchmarks.crash import run
from conftest import SEEDS
from govnlp.examples import EXAMPLES
from govnlp.warehouse.dictionary import catalog, missing_comments


@pytest.fixture(scope="module")
def con(first_run):
    import govnlp.analyst

    session = govnlp.analyst.connect(first_run["warehouse"])
    yield session
    session.close()


def rows(con, sql: str, *params) -> list[dict]:
    rel = con.execute(sql, list(params)) if params else con.execute(sql)
    names = [d[0] for d in rel.description]
    return [dict(zip(names, r)) for r in rel.fetchall()]


def test_every_example_query_runs(con):
    empty_allowed = {"7b"}  # the seeds hold no duplicate documents (see test_duplicate_clusters)
    for example in EXAMPLES:
        assert len(example.sql.strip().splitlines()) <= 5, example.number
        result = con.execute(example.sql).fetchall()
        assert result or example.number in empty_allowed, example.number


def test_documents_per_month(con):
    got = rows(con, "SELECT sum(documents) AS docs, sum(unique_documents) AS uniq, sum(duplicates) AS dups FROM documents_per_month")[0]
    assert got == {"docs": 5, "uniq": 5, "dups": 0}
    xinhua = rows(con, "SELECT month, doc_type, documents FROM documents_per_month WHERE publisher = 'Xinhua'")
    assert [(str(r["month"]), r["doc_type"], r["documents"]) for r in xinhua] == [("2025-05-01", "news", 1)]


def test_top_entities(con):
    top = rows(con, "SELECT * FROM top_entities(n := 2)")
    assert [(r["canonical_name"], r["label"], r["documents"]) for r in top] == [("China", "GPE", 5), ("United Nations", "ORG", 5)]
    direct = con.execute("""SELECT count(DISTINCT p.doc_id), count(DISTINCT m.paragraph_id), count(*) FROM mentions m
                            JOIN entities e USING (entity_id) JOIN paragraphs p USING (paragraph_id)
                            WHERE e.canonical_name = 'United Nations'""").fetchone()
    assert (top[1]["documents"], top[1]["paragraphs"], top[1]["mentions"]) == direct
    people = rows(con, "SELECT * FROM top_entities(entity_type := 'person', n := 50)")
    assert people and {r["label"] for r in people} == {"PERSON"}
    assert "Wang Yi" in {r["canonical_name"] for r in people}
    in_2025 = rows(con, "SELECT * FROM top_entities(since := '2025-05-01', until := '2025-05-31', n := 50)")
    assert in_2025 and all(r["documents"] <= 2 for r in in_2025)  # two seeds are dated May 2025


def test_cooccurrence(con):
    together = rows(con, "SELECT * FROM paragraphs_mentioning('united nations', 'Global South')")
    assert together
    for r in together:
        names = {n for (n,) in con.execute(
            "SELECT canonical_name FROM entity_mentions WHERE paragraph_id = ?", [r["paragraph_id"]]).fetchall()}
        assert {"United Nations", "Global South"} <= names
    network = rows(con, "SELECT * FROM entity_network()")
    pairs = [(r["entity_a"], r["entity_b"]) for r in network]
    assert len(pairs) == len(set(pairs)) and all(a < b for a, b in pairs)
    china_un = next(r for r in network if (r["entity_a"], r["entity_b"]) == ("China", "United Nations"))
    assert china_un["paragraphs"] == network[0]["paragraphs"] == len(rows(con, "SELECT * FROM paragraphs_mentioning('China', 'United Nations')"))
    assert all(r["paragraphs"] >= 5 for r in rows(con, "SELECT * FROM entity_network(min_paragraphs := 5)"))


def test_theme_trends_and_documents_about(con):
    trends = rows(con, "SELECT * FROM theme_trends")
    assert trends and all(0 < r["share"] <= 1 for r in trends)
    assigned = con.execute("""SELECT count(*) FROM paragraph_themes pt JOIN paragraphs p USING (paragraph_id)
                              WHERE pt.assigned AND p.duplicate_of IS NULL""").fetchone()[0]
    assert sum(r["paragraphs"] for r in trends) == assigned
    about = rows(con, "SELECT * FROM documents_about('Capacity-building', n := 3)")
    assert len(about) == 3 and about == sorted(about, key=lambda r: -r["paragraph_share"])
    assert about == rows(con, "SELECT * FROM documents_about('capacity_building', n := 3)")


def test_keyword_search_bm25_with_filters(con):
    hits = rows(con, "SELECT * FROM keyword_search('capacity building developing countries', k := 5)")
    assert len(hits) == 5 and hits == sorted(hits, key=lambda r: -r["score"])
    assert all("capacit" in h["text"].lower() or "develop" in h["text"].lower() for h in hits)
    xinhua = rows(con, "SELECT * FROM keyword_search('capacity building', k := 50, publisher_name := 'Xinhua')")
    assert xinhua and {h["publisher"] for h in xinhua} == {"Xinhua"}
    recent = rows(con, "SELECT * FROM keyword_search('capacity building', k := 50, since := '2026-01-01')")
    assert recent and all(str(h["published_on"]) >= "2026-01-01" for h in recent)
    themed = rows(con, "SELECT * FROM keyword_search('capacity building', k := 50, theme_name := 'capacity_building')")
    assert themed and len(themed) <= len(rows(con, "SELECT * FROM keyword_search('capacity building', k := 50)"))
    assert rows(con, "SELECT * FROM keyword_search('zzzyqx', k := 5)") == []


def test_semantic_search_with_filters(con):
    hits = rows(con, "SELECT * FROM semantic_search('capacity building for developing countries', k := 5)")
    assert len(hits) == 5 and hits == sorted(hits, key=lambda r: -r["similarity"])
    assert "capacity" in hits[0]["text"].lower() and hits[0]["similarity"] > 0.5
    unrelated = rows(con, "SELECT * FROM semantic_search('recipe for chocolate cake', k := 1)")[0]
    assert unrelated["similarity"] < hits[-1]["similarity"]
    old = rows(con, "SELECT * FROM semantic_search('AI governance', k := 50, until := '2025-12-31')")
    assert old and all(h["published_on"] is not None and str(h["published_on"]) <= "2025-12-31" for h in old)
    xinhua = rows(con, "SELECT * FROM semantic_search('AI governance', k := 50, publisher_name := 'Xinhua')")
    assert xinhua and {h["publisher"] for h in xinhua} == {"Xinhua"}


def test_similar_paragraphs_and_documents(con):
    pid = con.execute("SELECT min(paragraph_id) FROM embeddings").fetchone()[0]
    near = rows(con, "SELECT * FROM similar_paragraphs(?, k := 3)", pid)
    assert len(near) == 3 and pid not in {r["paragraph_id"] for r in near}
    doc = con.execute("SELECT doc_id FROM documents WHERE publisher = 'Xinhua'").fetchone()[0]
    similar = rows(con, "SELECT * FROM similar_documents(?, k := 10)", doc)
    assert len(similar) == 4 and doc not in {r["doc_id"] for r in similar}
    assert all(0 < r["similarity"] <= 1 for r in similar)


def test_who_said_what(con):
    quotes = rows(con, "SELECT * FROM who_said_what")
    assert len(quotes) >= 5
    assert all(q["quote_text"] and q["kind"] in ("direct", "reported") for q in quotes)
    resolved = [q for q in quotes if q["speaker_entity_id"]]
    assert resolved and all(q["speaker_type"] for q in resolved)
    stored = con.execute("SELECT count(*) FROM quotes q JOIN paragraphs p USING (paragraph_id) WHERE q.doc_id = p.doc_id").fetchone()[0]
    assert stored == len(quotes)


def test_lineage_names_run_and_versions(con):
    pid = con.execute("SELECT min(paragraph_id) FROM paragraphs WHERE duplicate_of IS NULL").fetchone()[0]
    lineage = {r["stage"]: r for r in rows(con, "SELECT * FROM paragraph_lineage WHERE paragraph_id = ?", pid)}
    assert set(lineage) == {"entities", "quotes", "embed", "themes", "topics"}
    assert lineage["entities"]["version"].startswith("en_core_web_sm")
    assert lineage["embed"]["version"] == con.execute("SELECT DISTINCT model FROM embeddings").fetchone()[0]
    assert lineage["themes"]["version"].startswith(con.execute("SELECT any_value(taxonomy_version) FROM themes").fetchone()[0])
    clustering = con.execute("SELECT version || '+' || clustering_id FROM topic_clusterings").fetchone()[0]
    assert lineage["topics"]["version"] == clustering
    assert all(r["flow"] in ("ingest", "backfill") and r["run_started_at"] for r in lineage.values())


def test_every_table_view_column_and_macro_has_a_comment(con):
    objects = catalog(con)
    assert {"documents_per_month", "theme_trends", "who_said_what", "top_entities", "keyword_search"} <= {o.name for o in objects}
    assert missing_comments(objects) == []


def test_docs_and_sql_commands(first_run, tmp_path):
    warehouse = first_run["warehouse"]
    made = run("docs", "--output", str(tmp_path / "docs"), "--warehouse", warehouse)
    assert made.returncode == 0, made.stderr
    md = (tmp_path / "docs" / "data-dictionary.md").read_text()
    html = (tmp_path / "docs" / "data-dictionary.html").read_text()
    for name in ("documents_per_month", "keyword_search", "semantic_search", "who_said_what", "quotes"):
        assert f"`{name}" in md and name in html
    assert "<table>" in html
    as_csv = run("sql", "SELECT canonical_name, documents FROM top_entities(n := 2)", "--format", "csv", "--warehouse", warehouse)
    assert as_csv.returncode == 0 and as_csv.stdout.splitlines() == ['"canonical_name","documents"', '"China",5', '"United Nations",5']
    as_json = run("sql", "SELECT canonical_name FROM top_entities(n := 1)", "-f", "json", "--warehouse", warehouse)
    assert json.loads(as_json.stdout) == [{"canonical_name": "China"}]
    out = tmp_path / "hits.parquet"
    semantic = run("sql", "SELECT * FROM semantic_search('capacity building', k := 4)", "-f", "parquet", "-o", str(out), "-w", warehouse)
    assert semantic.returncode == 0, semantic.stderr
    assert pq.read_table(out).num_rows == 4
    report = run("report", "--from", "2025-01-01", "--to", "2026-12-31", "--output", str(tmp_path / "report.html"), "-w", warehouse)
    assert report.returncode == 0, report.stderr
    assert "2025-01-01" in (tmp_path / "report.html").read_text()
    bad = run("sql", "SELECT * FROM no_such_table", "--warehouse", warehouse)
    assert bad.returncode == 1 and "no_such_table" in bad.stderr and "Traceback" not in bad.stderr
    session = run("sql", "--warehouse", warehouse, input_text=".tables\nSELECT count(*) AS n\nFROM documents;\n.quit\n")
    assert session.returncode == 0 and "keyword_search" in session.stdout and "│ 5 │" in session.stdout.replace("  ", "")


def test_the_session_is_read_only(con):
    with pytest.raises(duckdb.Error):
        con.execute("DELETE FROM documents")


@pytest.fixture(scope="module")
def republished(tmp_path_factory) -> Path:
    """The seeds plus one seed re-published with another header and footer: one near-duplicate cluster."""
    src = tmp_path_factory.mktemp("republished")
    for f in SEEDS.glob("*.txt"):
        shutil.copy(f, src / f.name)
    original = sorted(SEEDS.glob("*.txt"))[2]
    (src / "republished.txt").write_text("Reposted from our partners\n\n" + original.read_text(encoding="utf-8")
                                         + "\n\nShare this article. All rights reserved.\n", encoding="utf-8")
    warehouse = tmp_path_factory.mktemp("republished-warehouse") / "govnlp.duckdb"
    done = run("run", "--source", str(src), "--stages", "ingest", "--warehouse", str(warehouse))
    assert done.returncode == 0, done.stderr[-2000:]
    return warehouse


def test_duplicate_clusters_and_per_month_duplicates(republished):
    with duckdb.connect(str(republished), read_only=True) as con:
        clusters = rows(con, "SELECT * FROM duplicate_clusters")
        assert len(clusters) == 1 and clusters[0]["members"] == 2
        members = clusters[0]["member_doc_ids"]
        assert clusters[0]["cluster_doc_id"] in members
        assert con.execute("SELECT sum(duplicates), sum(documents) FROM documents_per_month").fetchone() == (1, 6)
