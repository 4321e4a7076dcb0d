"""The real flow on the five seeds (plus two broken files): concrete outcomes in the warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

EXPECTED = {
    "000_f0e23e95e569c3c8.txt": ("China supports UN's central role in promoting global AI governance: envoy", date(2025, 5, 7), "Xinhua", "news"),
    "001_90bc4c3349e69586.txt": (
        "Chinese Foreign Minister at UN: Opposes Using a Single Set of Values as the Sole Standard for AI Governance, "
        "Happy to Share China's Practices in AI Testing and Regulation", None, None, None),
    "002_ebcb0091893fd720.txt": ("Embassy Spokesperson on Artificial Intelligence Development and Governance II", date(2026, 6, 1),
                                 "Embassy of the People's Republic of China in the United Kingdom of Great Britain and Northern Ireland", "q_and_a"),
    "003_1ee0964dea26d684.txt": ("China is playing an active role in the establishing of global AI governance", None, "China Daily", "op_ed"),
    "004_e194388e1b3b96e1.txt": ("Remarks by Deputy Foreign Minister Ma Zhaoxu At the Opening Ceremony of The Second Workshop on AI Capacity Building",
                                 date(2025, 5, 12), None, "speech"),
}
MENU_LINES = {"Ambassador", "Message", "Biography", "Events", "Remarks", "Video & Audio", "Former Ambassadors", "Topics",
              "Embassy Information", "Offices", "Manchester", "Edinburgh", "Belfast", "@ChineseEmbinUK", "Chinese Embassy in UK",
              "Chinese Embassy in UK WeChat", "Suggest to a Friend", "Print", "Proactive smart watch"}


def _doc(db, name):
    return db.execute(
        "SELECT doc_id, title, published_on, publisher, doc_type, language FROM documents WHERE source_uri LIKE ?", [f"%/{name}"]
    ).fetchone()


def test_five_documents_with_titles_dates_publishers_types(db):
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 5
    for name, (title, published, publisher, doc_type) in EXPECTED.items():
        _, got_title, got_date, got_publisher, got_type, language = _doc(db, name)
        assert (got_title, got_date, got_publisher, got_type, language) == (title, published, publisher, doc_type, "en"), name


def test_no_navigation_menu_or_widget_paragraphs(db):
    texts = {r[0] for r in db.execute("SELECT text FROM paragraphs").fetchall()}
    assert not texts & MENU_LINES
    assert not any(t.startswith(("HOME", "(Web editor", "Contact the editor", "http")) for t in texts)
    doc_id = _doc(db, "002_ebcb0091893fd720.txt")[0]
    paras = [r[0] for r in db.execute("SELECT text FROM paragraphs WHERE doc_id = ? ORDER BY position", [doc_id]).fetchall()]
    assert len(paras) == 6 and paras[0].startswith("Question: In recent years")


def test_repeated_caption_in_seed_000_is_a_duplicate(db):
    doc_id = _doc(db, "000_f0e23e95e569c3c8.txt")[0]
    rows = db.execute(
        "SELECT position, duplicate_of, text FROM paragraphs WHERE doc_id = ? ORDER BY position", [doc_id]
    ).fetchall()
    first_caption, last = rows[0], rows[-1]
    assert first_caption[2].startswith("Fu Cong (R, front)") and first_caption[1] is None
    assert last[2].startswith("A side event of the Group of Friends") and last[1] == f"{doc_id}-00000"


def test_united_nations_is_one_entity_with_its_aliases(db):
    rows = db.execute("SELECT label, aliases FROM entities WHERE canonical_name = 'United Nations'").fetchall()
    assert len(rows) == 1
    label, aliases = rows[0]
    assert label == "ORG" and {"UN", "U.N."} <= set(aliases)
    assert db.execute("SELECT count(*) FROM entities WHERE 'UN' IN aliases OR 'U.N.' IN aliases").fetchone()[0] == 1


def test_people_and_no_ai_country(db):
    labels = dict(db.execute("SELECT canonical_name, label FROM entities WHERE canonical_name IN ('Fu Cong', 'Xi Jinping', 'Wang Yi')").fetchall())
    assert labels == {"Fu Cong": "PERSON", "Xi Jinping": "PERSON", "Wang Yi": "PERSON"}
    assert db.execute("SELECT count(*) FROM mentions WHERE label = 'GPE' AND text IN ('AI', 'A.I.')").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM entities WHERE label = 'GPE' AND canonical_name = 'AI'").fetchone()[0] == 0
    # "Fu" alone after "Fu Cong" is the same person
    fu = db.execute("SELECT count(*) FROM mentions m JOIN entities e USING (entity_id) WHERE m.text = 'Fu' AND e.canonical_name = 'Fu Cong'").fetchone()[0]
    assert fu >= 3
    # initiatives and plans are recognized
    assert db.execute("SELECT label FROM entities WHERE canonical_name = 'Global AI Governance Initiative'").fetchone() == ("LAW",)


def test_every_canonical_paragraph_embedded_and_themed(db):
    missing = db.execute("""
        SELECT count(*) FROM paragraphs p WHERE p.duplicate_of IS NULL AND (
          NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.paragraph_id = p.paragraph_id AND array_length(e.vector) = 384)
          OR NOT EXISTS (SELECT 1 FROM paragraph_themes t WHERE t.paragraph_id = p.paragraph_id))
    """).fetchone()[0]
    assert missing == 0
    assert db.execute("SELECT count(*) FROM embeddings e JOIN paragraphs p USING (paragraph_id) WHERE p.duplicate_of IS NOT NULL").fetchone()[0] == 0
    norms = db.execute("SELECT min(sqrt(list_sum(list_transform(vector::FLOAT[], x -> x * x)))), max(sqrt(list_sum(list_transform(vector::FLOAT[], x -> x * x)))) FROM embeddings").fetchone()
    assert norms[0] > 0.999 and norms[1] < 1.001
    assert db.execute("SELECT count(DISTINCT doc_id) FROM document_themes").fetchone()[0] == 5
    top = db.execute("""SELECT theme_id FROM document_themes WHERE doc_id = (SELECT doc_id FROM documents WHERE source_uri LIKE '%004_%')
                        ORDER BY paragraph_share DESC, score DESC LIMIT 1""").fetchone()[0]  # ties on share go to the higher score
    assert top == "capacity_building"


def test_corrupt_files_are_recorded_and_the_rest_stored(db):
    errors = dict(db.execute("SELECT regexp_extract(source_uri, '[^/]+$'), error_type FROM ingest_errors").fetchall())
    assert errors == {"corrupt.pdf": "bad_pdf", "broken.json": "bad_json"}
    assert db.execute("SELECT count(*) FROM source_files WHERE status = 'rejected'").fetchone()[0] == 2
    run = db.execute("SELECT status, counts FROM runs ORDER BY started_at LIMIT 1").fetchone()
    assert run[0] == "completed" and json.loads(run[1])["errors"] == 2


TABLES = ["documents", "paragraphs", "entities", "mentions", "themes", "paragraph_themes", "document_themes",
          "embeddings", "ingest_errors", "source_files", "paragraph_annotations", "document_signatures"]


def _counts(path):
    with duckdb.connect(path, read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_second_run_adds_no_rows_and_readers_do_not_block_it(first_run, source_dir):
    from flows.ingest import ingest_flow

    before = _counts(first_run["warehouse"])
    reader = duckdb.connect(first_run["warehouse"], read_only=True)  # an analyst's open session
    result = ingest_flow(sources=[str(source_dir)], warehouse=first_run["warehouse"])
    assert reader.execute("SELECT count(*) FROM documents").fetchone()[0] == 5  # still usable
    reader.close()
    assert _counts(first_run["warehouse"]) == before
    assert result["counts"].get("documents", 0) == 0 and result["counts"].get("embedded", 0) == 0
    assert result["counts"].get("entity_paragraphs", 0) == 0


def test_backfill_date_range_reprocesses_only_those_documents(first_run):
    from flows.backfill import backfill_flow

    result = backfill_flow(stages=["entities"], since=date(2025, 5, 1), until=date(2025, 5, 31), warehouse=first_run["warehouse"])
    with duckdb.connect(first_run["warehouse"], read_only=True) as con:
        expected = con.execute("""SELECT count(*) FROM paragraphs p JOIN documents d USING (doc_id)
                                  WHERE p.duplicate_of IS NULL AND d.published_on BETWEEN '2025-05-01' AND '2025-05-31'""").fetchone()[0]
        runs = con.execute("SELECT flow, status FROM runs ORDER BY started_at").fetchall()
        assert con.execute("SELECT count(*) FROM mentions").fetchone()[0] > 300
    assert result["counts"]["selected_documents"] == 2
    assert result["counts"]["entity_paragraphs"] == expected
    assert result["counts"]["quote_paragraphs"] == expected  # speakers re-resolved through the new mentions
    assert runs[-1] == ("backfill", "completed")


def test_taxonomy_edit_then_themes_stage_rethemes_without_reembedding(first_run, tmp_path, monkeypatch):
    import tomllib

    from flows.ingest import ingest_flow
    from govnlp.settings import PACKAGE_DIR

    text = (PACKAGE_DIR / "themes" / "taxonomy.toml").read_text()
    assert 'id = "military_defense"' in text
    edited = text.split('[[theme]]\nid = "military_defense"')[0]  # drop the last theme
    taxonomy = tmp_path / "taxonomy.toml"
    taxonomy.write_text(edited)
    assert len(tomllib.loads(edited)["theme"]) == 13
    monkeypatch.setenv("GOVNLP_TAXONOMY", str(taxonomy))
    result = ingest_flow(warehouse=first_run["warehouse"], stages=["themes"])
    with duckdb.connect(first_run["warehouse"], read_only=True) as con:
        assert con.execute("SELECT count(*) FROM themes").fetchone()[0] == 13
        assert con.execute("SELECT count(*) FROM paragraph_themes WHERE theme_id = 'military_defense'").fetchone()[0] == 0
        canonical = con.execute("SELECT count(*) FROM paragraphs WHERE duplicate_of IS NULL").fetchone()[0]
    assert result["counts"]["themed_paragraphs"] == canonical
    assert result["counts"].get("embedded", 0) == 0
    # Back to the shipped taxonomy: the session's warehouse is shared (the lake test compares a fresh run with it).
    monkeypatch.delenv("GOVNLP_TAXONOMY")
    restored = ingest_flow(warehouse=first_run["warehouse"], stages=["themes"])
    assert restored["counts"]["themed_paragraphs"] == canonical
    with duckdb.connect(first_run["warehouse"], read_only=True) as con:
        assert con.execute("SELECT count(*) FROM themes").fetchone()[0] == 14


def test_scheduled_deployment_is_created_with_its_cron(first_run):
    from prefect import get_client

    from flows.schedule import scheduled_deployment

    deployment = scheduled_deployment("15 5 * * *", sources=["raw"], warehouse=first_run["warehouse"], name="test-schedule")
    deployment_id = deployment.apply()
    import asyncio

    async def read():
        async with get_client() as client:
            return await client.read_deployment(deployment_id)

    stored = asyncio.run(read())
    assert stored.name == "test-schedule"
    assert [s.schedule.cron for s in stored.schedules] == ["15 5 * * *"]
    assert stored.parameters == {"sources": ["raw"], "warehouse": first_run["warehouse"]}


def _cli(*args, env_extra=None, cwd=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "govnlp.cli", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_cli_status_and_search(first_run):
    status = _cli("status", env_extra={"GOVNLP_WAREHOUSE": first_run["warehouse"]})
    assert status.returncode == 0, status.stderr
    assert "documents" in status.stdout and "completed" in status.stdout
    found = _cli("search", "capacity building for developing countries", "-k", "3", "--warehouse", first_run["warehouse"])
    assert found.returncode == 0, found.stderr
    assert "capacity" in found.stdout.lower()


def test_cli_rejects_unknown_stage_and_missing_warehouse(tmp_path):
    bad = _cli("run", "--stages", "ingest,bogus", "--warehouse", str(tmp_path / "w.duckdb"))
    assert bad.returncode == 2 and "unknown stage" in bad.stderr
    missing = _cli("status", "--warehouse", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 1 and "run `govnlp run` first" in missing.stderr


def test_cli_run_ingests_and_prints_a_summary(tmp_path, source_dir):
    src = tmp_path / "src"
    src.mkdir()
    (src / "000.txt").write_bytes((source_dir / "000_f0e23e95e569c3c8.txt").read_bytes())
    warehouse = tmp_path / "w" / "govnlp.duckdb"
    done = _cli("run", "--source", str(src), "--warehouse", str(warehouse), "--stages", "ingest,dedup")
    assert done.returncode == 0, done.stderr
    assert "documents" in done.stdout and "Traceback" not in done.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
        assert con.execute("SELECT status FROM runs").fetchone()[0] == "completed"


def test_topics_on_the_seeds_then_backfill_reclusters(first_run, tmp_path):
    import shutil

    from flows.backfill import backfill_flow
    from flows.ingest import ingest_flow

    warehouse = tmp_path / "govnlp.duckdb"
    shutil.copy(first_run["warehouse"], warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (first,) = con.execute("SELECT clustering_id FROM topic_clusterings").fetchone()
        eligible = con.execute("SELECT count(*) FROM paragraphs p JOIN embeddings e USING (paragraph_id) "
                               "WHERE p.duplicate_of IS NULL AND p.word_count >= 8").fetchone()[0]
        assert con.execute("SELECT eligible FROM topic_clusterings").fetchone()[0] == eligible
        assert con.execute("SELECT count(*) FROM topics").fetchone()[0] >= 1
    again = ingest_flow(warehouse=str(warehouse), stages=["topics"])  # nothing new: no clustering, no assignment
    assert "topic_paragraphs" not in again["counts"]
    result = backfill_flow(stages=["topics"], warehouse=str(warehouse))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        clusterings = [r[0] for r in con.execute("SELECT clustering_id FROM topic_clusterings ORDER BY created_at").fetchall()]
        assert len(clusterings) == 2 and clusterings[0] == first
        assert con.execute("SELECT DISTINCT clustering_id FROM topics").fetchall() == [(clusterings[1],)]
        canonical = con.execute("SELECT count(*) FROM paragraphs p JOIN embeddings e USING (paragraph_id) WHERE p.duplicate_of IS NULL").fetchone()[0]
    assert result["counts"]["topic_paragraphs"] == canonical
