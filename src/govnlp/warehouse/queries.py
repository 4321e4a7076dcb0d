"""Reads: what is already stored, what is pending, and what analysts ask for."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

import numpy as np

from govnlp.records import Entity, Mention, ParagraphText
from govnlp.warehouse.connection import registered_keys
from govnlp.warehouse.writes import EMBEDDING_DIM


def seen_files(con) -> set[tuple[str, str]]:
    return set(con.execute("SELECT source_uri, file_hash FROM source_files").fetchall())


def file_stats(con) -> dict[str, list[tuple[int, float]]]:
    """uri -> (size, mtime in epoch seconds) of every file version already read."""
    out: dict[str, list[tuple[int, float]]] = {}
    rows = con.execute("SELECT source_uri, size_bytes, epoch_us(modified_at) / 1e6 FROM source_files WHERE modified_at IS NOT NULL").fetchall()
    for uri, size, mtime in rows:
        out.setdefault(uri, []).append((size, mtime))
    return out


def canonical_documents(con, content_hashes: Sequence[str]) -> dict[str, str]:
    with registered_keys(con, set(content_hashes)) as keys:
        return dict(con.execute(
            f"SELECT content_hash, min(doc_id) FROM documents WHERE duplicate_of IS NULL AND content_hash IN (SELECT k FROM {keys}) GROUP BY 1"
        ).fetchall())


def canonical_paragraphs(con, text_hashes: Sequence[str]) -> dict[str, str]:
    with registered_keys(con, set(text_hashes)) as keys:
        return dict(con.execute(
            f"SELECT text_hash, min(paragraph_id) FROM paragraphs WHERE duplicate_of IS NULL AND text_hash IN (SELECT k FROM {keys}) GROUP BY 1"
        ).fetchall())


def document_signatures(con) -> Iterator[tuple[str, list[int], int]]:
    """(doc_id, MinHash values, word count) of every canonical document."""
    cur = con.execute("SELECT s.doc_id, s.minhash, d.word_count FROM document_signatures s JOIN documents d USING (doc_id)")
    while rows := cur.fetchmany(10_000):
        yield from rows


def select_documents(con, since: date | None = None, until: date | None = None, source: str | None = None,
                     fetched_by: str | None = None) -> list[str]:
    """doc_ids filtered by publication date range, source URI prefix and the web source that fetched them (backfill scope)."""
    where, params = ["TRUE"], []
    if since:
        where.append("published_on >= ?")
        params.append(since)
    if until:
        where.append("published_on <= ?")
        params.append(until)
    if source:
        where.append("starts_with(source_uri, ?)")
        params.append(source)
    if fetched_by:
        where.append("source_uri IN (SELECT url FROM fetches WHERE source_name = ?)")
        params.append(fetched_by)
    return [r[0] for r in con.execute(f"SELECT doc_id FROM documents WHERE {' AND '.join(where)} ORDER BY doc_id", params).fetchall()]


def _pending_where(requires_embedding: bool, after_stage: str | None = None) -> str:
    where = (
        "p.duplicate_of IS NULL AND NOT EXISTS (SELECT 1 FROM paragraph_annotations a "
        "WHERE a.paragraph_id = p.paragraph_id AND a.stage = ? AND a.version = ?) "
        # a paragraph that made this stage fail at this version is skipped, not retried every run
        "AND NOT EXISTS (SELECT 1 FROM stage_errors x WHERE x.paragraph_id = p.paragraph_id AND x.stage = ? AND x.version = ?)"
    )
    if requires_embedding:
        where += " AND EXISTS (SELECT 1 FROM embeddings e WHERE e.paragraph_id = p.paragraph_id AND e.model = ?)"
    if after_stage:
        where += " AND EXISTS (SELECT 1 FROM paragraph_annotations b WHERE b.paragraph_id = p.paragraph_id AND b.stage = ?)"
    return where


def pending_batches(con, stage: str, version: str, batch_size: int, doc_ids: Sequence[str] | None = None,
                    embed_model: str | None = None, after_stage: str | None = None) -> tuple[int, Iterator[list[ParagraphText]]]:
    """(count, batches) of canonical paragraphs lacking ``stage`` at ``version`` (and having ``after_stage``), whole documents per batch."""
    base_where = where = _pending_where(embed_model is not None, after_stage)
    params: list = [stage, version, stage, version] + ([embed_model] if embed_model else []) + ([after_stage] if after_stage else [])
    with registered_keys(con, doc_ids or []) as keys:
        if doc_ids is not None:
            where += f" AND p.doc_id IN (SELECT k FROM {keys})"
        per_doc = con.execute(f"SELECT p.doc_id, count(*) FROM paragraphs p WHERE {where} GROUP BY 1 ORDER BY 1", params).fetchall()
    total = sum(n for _, n in per_doc)

    def batches() -> Iterator[list[ParagraphText]]:
        group: list[str] = []
        size = 0
        for doc_id, n in per_doc + [(None, 0)]:
            if doc_id is not None:
                group.append(doc_id)
                size += n
            if group and (size >= batch_size or doc_id is None):
                with registered_keys(con, group) as keys:
                    rows = con.execute(
                        f"SELECT p.paragraph_id, p.doc_id, p.position, p.text, p.text_hash FROM paragraphs p "
                        f"WHERE {base_where} AND p.doc_id IN (SELECT k FROM {keys}) ORDER BY p.doc_id, p.position",
                        params,
                    ).fetchall()
                yield [ParagraphText(*r) for r in rows]
                group, size = [], 0

    return total, batches()


def mentions_for(con, paragraph_ids: Sequence[str]) -> tuple[dict[str, list[Mention]], dict[str, Entity]]:
    """The stored entity mentions of these paragraphs, and their entities (the quotes stage resolves speakers with them)."""
    with registered_keys(con, paragraph_ids) as keys:
        rows = con.execute(
            f"SELECT m.paragraph_id, m.entity_id, m.text, m.label, m.start_char, m.end_char, m.method, e.canonical_name, e.label "
            f"FROM mentions m JOIN entities e USING (entity_id) WHERE m.paragraph_id IN (SELECT k FROM {keys}) "
            f"ORDER BY m.paragraph_id, m.start_char"
        ).fetchall()
    mentions: dict[str, list[Mention]] = {}
    entities: dict[str, Entity] = {}
    for pid, eid, text, label, start, end, method, name, entity_label in rows:
        mentions.setdefault(pid, []).append(Mention(pid, eid, text, label, start, end, method))
        entities.setdefault(eid, Entity(eid, name, entity_label))
    return mentions, entities


def cached_vectors(con, text_hashes: Sequence[str], model: str) -> dict[str, np.ndarray]:
    """Vectors already computed for these texts under another paragraph id."""
    with registered_keys(con, set(text_hashes)) as keys:
        rows = con.execute(
            f"SELECT text_hash, any_value(vector), any_value(chunks) FROM embeddings WHERE model = ? AND text_hash IN (SELECT k FROM {keys}) GROUP BY 1",
            [model],
        ).fetchall()
    return {h: (np.asarray(v, dtype=np.float32), c) for h, v, c in rows}


def vectors_for(con, paragraph_ids: Sequence[str], model: str) -> tuple[list[str], np.ndarray]:
    with registered_keys(con, paragraph_ids) as keys:
        rows = con.execute(
            f"SELECT paragraph_id, vector FROM embeddings WHERE model = ? AND paragraph_id IN (SELECT k FROM {keys}) ORDER BY paragraph_id",
            [model],
        ).fetchall()
    if not rows:
        return [], np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    return [r[0] for r in rows], np.asarray([r[1] for r in rows], dtype=np.float32)


def documents_needing_theme_totals(con, run_id: str) -> list[str]:
    """Documents with a paragraph (or the canonical copy of one) themed in this run, or with no totals yet."""
    return [r[0] for r in con.execute(
        """
        SELECT DISTINCT p.doc_id FROM paragraphs p
        JOIN paragraph_annotations a ON a.paragraph_id = coalesce(p.duplicate_of, p.paragraph_id)
        WHERE a.stage = 'themes' AND (a.run_id = ? OR p.doc_id NOT IN (SELECT doc_id FROM document_themes))
        ORDER BY 1
        """,
        [run_id],
    ).fetchall()]


def paragraph_theme_rows(con, doc_ids: Sequence[str]) -> list[tuple[str, str, float, bool, int]]:
    """(doc_id, theme_id, score, assigned, words) for every paragraph, duplicates through their canonical copy."""
    with registered_keys(con, doc_ids) as keys:
        return con.execute(
            f"""
            SELECT p.doc_id, t.theme_id, t.score, t.assigned, p.word_count
            FROM paragraphs p JOIN paragraph_themes t ON t.paragraph_id = coalesce(p.duplicate_of, p.paragraph_id)
            WHERE p.doc_id IN (SELECT k FROM {keys})
            """
        ).fetchall()


def semantic_search(con, query_vector: np.ndarray, model: str, k: int) -> list[tuple]:
    """Paragraphs nearest in meaning (brute-force inner product on unit vectors)."""
    from govnlp.warehouse.dialect import adapt

    return con.execute(adapt(con,
        """
        SELECT array_inner_product(e.vector, ?::FLOAT[384]) AS score, d.title, d.published_on, p.paragraph_id, p.text
        FROM embeddings e JOIN paragraphs p USING (paragraph_id) JOIN documents d USING (doc_id)
        WHERE e.model = ?
        ORDER BY score DESC LIMIT ?
        """),
        [query_vector.astype(np.float32).tolist(), model, k],
    ).fetchall()


def summary(con) -> dict:
    one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "documents": one("SELECT count(*) FROM documents"),
        "duplicate_documents": one("SELECT count(*) FROM documents WHERE duplicate_of IS NOT NULL"),
        "paragraphs": one("SELECT count(*) FROM paragraphs"),
        "duplicate_paragraphs": one("SELECT count(*) FROM paragraphs WHERE duplicate_of IS NOT NULL"),
        "entities": one("SELECT count(*) FROM entities"),
        "mentions": one("SELECT count(*) FROM mentions"),
        "embeddings": one("SELECT count(*) FROM embeddings"),
        "paragraph_themes_assigned": one("SELECT count(*) FROM paragraph_themes WHERE assigned"),
        "ingest_errors": one("SELECT count(*) FROM ingest_errors"),
    }


def recent_runs(con, limit: int = 5) -> list[tuple]:
    return con.execute(
        "SELECT run_id, flow, status, started_at, finished_at, stages, counts FROM runs ORDER BY started_at DESC LIMIT ?",
        [limit],
    ).fetchall()


def last_run(con) -> tuple[dict, dict]:
    """(counts, stage_seconds) of the most recent run."""
    import json

    counts, seconds = con.execute("SELECT counts, stage_seconds FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    return json.loads(counts or "{}"), json.loads(seconds or "{}")


def canonical_paragraph_texts(con) -> list[ParagraphText]:
    """Canonical paragraphs as the model stages see them, grouped by document, in order."""
    rows = con.execute("SELECT paragraph_id, doc_id, position, text, text_hash FROM paragraphs WHERE duplicate_of IS NULL "
                       "ORDER BY doc_id, position").fetchall()
    return [ParagraphText(*r) for r in rows]


def canonical_texts(con) -> list[str]:
    """Texts of canonical paragraphs: what the model stages see, once each."""
    return [p.text for p in canonical_paragraph_texts(con)]


def fetch_history(con, source_name: str) -> tuple[dict[str, dict[str, str]], dict[str, str], dict]:
    """For a source's next poll: url -> validators, url -> sha256 of the last body, url -> last fetch time."""
    rows = con.execute(
        """SELECT url, arg_max(etag, fetched_at), arg_max(last_modified, fetched_at),
                  arg_max(content_sha256, fetched_at) FILTER (WHERE content_sha256 IS NOT NULL),
                  max(fetched_at) FILTER (WHERE outcome NOT IN ('failed', 'refused', 'robots_disallowed'))
           FROM fetches WHERE source_name = ? AND status IN (200, 304) GROUP BY url""",
        [source_name],
    ).fetchall()
    validators = {u: {k: v for k, v in (("etag", e), ("last_modified", m)) if v} for u, e, m, _, _ in rows}
    bodies = {u: sha for u, _, _, sha, _ in rows if sha}
    fetched = {u: t for u, *_, t in rows if t}
    return validators, bodies, fetched


def stored_hashes(con, uris: Sequence[str]) -> dict[str, set[str]]:
    """uri -> content hashes already read from it (pages and files alike)."""
    out: dict[str, set[str]] = {}
    with registered_keys(con, set(uris)) as keys:
        for uri, sha in con.execute(f"SELECT source_uri, file_hash FROM source_files WHERE source_uri IN (SELECT k FROM {keys})").fetchall():
            out.setdefault(uri, set()).add(sha)
    return out


def latest_versions(con, uris: Sequence[str]) -> dict[tuple[str, int], str]:
    """(source_uri, record_index) -> doc_id of the newest stored version."""
    with registered_keys(con, set(uris)) as keys:
        return {(u, i): d for u, i, d in con.execute(
            f"""SELECT source_uri, record_index, arg_max(doc_id, ingested_at) FROM documents
                WHERE source_uri IN (SELECT k FROM {keys}) GROUP BY 1, 2"""
        ).fetchall()}


def archived_pages(con, url_prefix: str | None = None, source_name: str | None = None) -> list[tuple[str, str]]:
    """(url, sha256 of its newest stored body) of fetched pages, for re-extraction from the raw store."""
    where, params = ["role = 'page'", "content_sha256 IS NOT NULL", "outcome IN ('new', 'new_version', 'unchanged')"], []
    if url_prefix:
        where.append("starts_with(url, ?)")
        params.append(url_prefix)
    if source_name:
        where.append("source_name = ?")
        params.append(source_name)
    return con.execute(
        f"SELECT url, arg_max(content_sha256, fetched_at) FROM fetches WHERE {' AND '.join(where)} GROUP BY url ORDER BY url", params
    ).fetchall()


# ---- topics ----

def current_clustering(con) -> dict | None:
    """The newest topic clustering (id, version, eligible paragraphs), or None before the first."""
    row = con.execute("SELECT clustering_id, version, eligible FROM topic_clusterings ORDER BY created_at DESC, clustering_id DESC LIMIT 1").fetchone()
    return dict(zip(("clustering_id", "version", "eligible"), row)) if row else None


def topic_centroids(con, clustering_id: str) -> tuple[list[str], np.ndarray]:
    """(topic ids by rank, centroid matrix) of a clustering."""
    table = con.execute("SELECT topic_id, centroid FROM topics WHERE clustering_id = ? ORDER BY rank", [clustering_id]).fetch_arrow_table()
    return table.column("topic_id").to_pylist(), _matrix(table.column("centroid"))


def topic_inputs(con, model: str, version: str | None = None) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(paragraph ids, texts, word counts, vectors) of canonical paragraphs embedded by ``model``.

    With ``version``: only those not yet annotated by the topics stage at that version (pending).
    """
    where = "p.duplicate_of IS NULL AND e.model = ?"
    params: list = [model]
    if version is not None:
        where += " AND NOT EXISTS (SELECT 1 FROM paragraph_annotations a WHERE a.paragraph_id = p.paragraph_id AND a.stage = 'topics' AND a.version = ?)"
        params.append(version)
    table = con.execute(
        f"SELECT p.paragraph_id, p.text, p.word_count, e.vector FROM paragraphs p JOIN embeddings e USING (paragraph_id) WHERE {where} ORDER BY p.paragraph_id",
        params,
    ).fetch_arrow_table()
    return (table.column("paragraph_id").to_pylist(), table.column("text").to_pylist(),
            table.column("word_count").to_numpy(), _matrix(table.column("vector")))


def _matrix(column) -> np.ndarray:
    """An Arrow list column of equal-length float lists as a 2-D float32 array."""
    if len(column) == 0:
        return np.zeros((0, EMBEDDING_DIM), np.float32)
    flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return flat.astype(np.float32).reshape(len(column), -1)
