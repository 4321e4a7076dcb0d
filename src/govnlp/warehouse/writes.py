"""Bulk writes through Arrow, one transaction per call site batch.

Every insert is idempotent (keys plus INSERT OR IGNORE / REPLACE), so a
batch written twice adds no rows.  A DuckLake has no keys: there the same
verbs go through dialect.insert, which checks the stored keys instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone

import duckdb
import numpy as np
import pyarrow as pa

from govnlp.records import Document, Entity, IngestError, Mention, SourceFile, ThemeScore, display_name, short_id
from govnlp.warehouse import dialect
from govnlp.warehouse.connection import registered_keys, utcnow

EMBEDDING_DIM = 384  # embeddings.vector is FLOAT[384] (migration 001)


_LAKE_MODES = {"INSERT": "insert", "INSERT OR IGNORE": "ignore", "INSERT OR REPLACE": "replace"}


def _insert(con: duckdb.DuckDBPyConnection, table: str, batch: pa.Table, verb: str = "INSERT OR IGNORE") -> None:
    if batch.num_rows == 0:
        return
    if dialect.is_lake(con):
        dialect.insert_rows(con, table, batch, _LAKE_MODES[verb])
        return
    con.register("_govnlp_batch", batch)
    try:
        con.execute(f"{verb} INTO {table} BY NAME SELECT * FROM _govnlp_batch")
    finally:
        con.unregister("_govnlp_batch")


def start_run(con, run_id: str, flow: str, stages: Sequence[str], sources: Sequence[str], params: dict) -> None:
    verb = "INSERT OR REPLACE"
    if dialect.is_lake(con):
        con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
        verb = "INSERT"
    con.execute(
        f"{verb} INTO runs (run_id, flow, started_at, status, stages, sources, params) VALUES (?, ?, ?, 'running', ?, ?, ?)",
        [run_id, flow, utcnow(), list(stages), list(sources), json.dumps(params, default=str)],
    )


def finish_run(con, run_id: str, status: str, counts: dict, stage_seconds: dict, message: str | None = None) -> None:
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, counts = ?, stage_seconds = ?, message = ? WHERE run_id = ?",
        [utcnow(), status, json.dumps(counts), json.dumps(stage_seconds), message, run_id],
    )


def close_interrupted_runs(con, live: set[str] = frozenset()) -> int:
    """Runs left 'running' by a killed process: their committed batches stay, the next run finishes the rest.

    ``live``: runs other writers are doing right now (a lake has several writers), left alone.
    """
    n = con.execute(
        "UPDATE runs SET status = 'interrupted', message = 'the process ended without closing the run (killed or crashed); "
        "its committed batches are kept and a later run finished the rest' WHERE status = 'running' AND run_id NOT IN (SELECT unnest(?::VARCHAR[]))",
        [sorted(live)],
    ).fetchall()
    return n[0][0] if n else 0


def record_files(con, files: Sequence[tuple[SourceFile, str, int, float | None]], run_id: str) -> None:
    """(file, status, documents, seconds) rows: the files this run read, so the next run skips them."""
    shown = [display_name(f.path) for f, *_ in files]
    _insert(con, "source_files", pa.table({
        "source_uri": [f.source_uri for f, *_ in files],
        "file_hash": [f.file_hash for f, *_ in files],
        "size_bytes": pa.array([f.size_bytes for f, *_ in files], pa.int64()),
        "modified_at": pa.array([datetime.fromtimestamp(f.modified_at, timezone.utc).replace(tzinfo=None) for f, *_ in files], pa.timestamp("us")),
        "status": [s for _, s, _, _ in files],
        "documents": pa.array([n for _, _, n, _ in files], pa.int32()),
        "read_seconds": pa.array([None if t is None else round(t, 4) for *_, t in files], pa.float64()),
        "display_name": [names[0] for names in shown],
        "name_hex": [names[1] for names in shown],
        "run_id": [run_id] * len(files),
    }))


def record_errors(con, errors: Sequence[IngestError], run_id: str) -> None:
    now = utcnow()
    _insert(con, "ingest_errors", pa.table({
        "run_id": [run_id] * len(errors),
        "source_uri": [e.source_uri for e in errors],
        "file_hash": [e.file_hash for e in errors],
        "stage": [e.stage for e in errors],
        "error_type": [e.error_type for e in errors],
        "message": [e.message for e in errors],
        "occurred_at": pa.array([now] * len(errors), pa.timestamp("us")),
    }), verb="INSERT")
    # A file with no reader has no hash; remember it so it is reported once, not every run.
    unsupported = list(dict.fromkeys(e.source_uri for e in errors if e.file_hash == ""))
    _insert(con, "source_files", pa.table({
        "source_uri": unsupported,
        "file_hash": [""] * len(unsupported),
        "status": ["rejected"] * len(unsupported),
        "documents": pa.array([0] * len(unsupported), pa.int32()),
        "run_id": [run_id] * len(unsupported),
    }))


def insert_documents(con, docs: Sequence[Document], signatures: dict[str, np.ndarray], run_id: str) -> None:
    now = utcnow()
    _insert(con, "documents", pa.table({
        "doc_id": [d.doc_id for d in docs],
        "source_uri": [d.source_uri for d in docs],
        "record_index": pa.array([d.record_index for d in docs], pa.int32()),
        "format": [d.format for d in docs],
        "title": [d.title for d in docs],
        "published_on": pa.array([d.published_on for d in docs], pa.date32()),
        "date_precision": [d.date_precision for d in docs],
        "publisher": [d.publisher for d in docs],
        "url": [d.url for d in docs],
        "doc_type": [d.doc_type for d in docs],
        "language": [d.language for d in docs],
        "content_hash": [d.content_hash for d in docs],
        "file_hash": [d.file_hash for d in docs],
        "duplicate_of": [d.duplicate_of for d in docs],
        "duplicate_kind": [d.duplicate_kind for d in docs],
        "duplicate_similarity": pa.array([d.duplicate_similarity for d in docs], pa.float64()),
        "previous_version": [d.previous_version for d in docs],
        "word_count": pa.array([d.word_count for d in docs], pa.int32()),
        "paragraph_count": pa.array([len(d.paragraphs) for d in docs], pa.int32()),
        "metadata": [json.dumps(d.metadata, default=str) for d in docs],
        "run_id": [run_id] * len(docs),
        "ingested_at": pa.array([now] * len(docs), pa.timestamp("us")),
    }))
    paras = [p for d in docs for p in d.paragraphs]
    _insert(con, "paragraphs", pa.table({
        "paragraph_id": [p.paragraph_id for p in paras],
        "doc_id": [p.doc_id for p in paras],
        "position": pa.array([p.position for p in paras], pa.int32()),
        "text": [p.text for p in paras],
        "text_hash": [p.text_hash for p in paras],
        "word_count": pa.array([p.word_count for p in paras], pa.int32()),
        "duplicate_of": [p.duplicate_of for p in paras],
        "duplicate_kind": [p.duplicate_kind for p in paras],
    }))
    _insert(con, "document_signatures", pa.table({
        "doc_id": list(signatures),
        "minhash": pa.array([v.tolist() for v in signatures.values()], pa.list_(pa.uint64())),
    }))


def record_stage_errors(con, failures: Sequence[tuple[str, str, str]], stage: str, version: str, run_id: str) -> None:
    """(paragraph_id, error type, message) of paragraphs that made a model stage fail; they are skipped at this version."""
    now = utcnow()
    _insert(con, "stage_errors", pa.table({
        "paragraph_id": [f[0] for f in failures],
        "stage": [stage] * len(failures),
        "version": [version] * len(failures),
        "run_id": [run_id] * len(failures),
        "error_type": [f[1] for f in failures],
        "message": [f[2] for f in failures],
        "occurred_at": pa.array([now] * len(failures), pa.timestamp("us")),
    }), verb="INSERT OR REPLACE")


def mark_annotated(con, paragraph_ids: Sequence[str], stage: str, version: str, run_id: str) -> None:
    now = utcnow()
    _insert(con, "paragraph_annotations", pa.table({
        "paragraph_id": list(paragraph_ids),
        "stage": [stage] * len(paragraph_ids),
        "version": [version] * len(paragraph_ids),
        "run_id": [run_id] * len(paragraph_ids),
        "annotated_at": pa.array([now] * len(paragraph_ids), pa.timestamp("us")),
    }), verb="INSERT OR REPLACE")


def _delete_for(con, table: str, paragraph_ids: Sequence[str], column: str = "paragraph_id") -> None:
    with registered_keys(con, paragraph_ids) as keys:
        con.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT k FROM {keys})")


def write_entities(con, paragraph_ids: Sequence[str], mentions: Sequence[Mention], entities: dict[str, Entity]) -> None:
    _delete_for(con, "mentions", paragraph_ids)
    batch = pa.table({
        "entity_id": list(entities),
        "canonical_name": [e.canonical_name for e in entities.values()],
        "label": [e.label for e in entities.values()],
        "aliases": pa.array([sorted(e.aliases) for e in entities.values()], pa.list_(pa.string())),
    })
    if batch.num_rows:
        con.register("_govnlp_batch", batch)
        try:
            if dialect.is_lake(con):  # no key to conflict on: the same upsert as a MERGE
                con.execute(
                    "MERGE INTO entities USING _govnlp_batch b ON entities.entity_id = b.entity_id "
                    "WHEN MATCHED THEN UPDATE SET aliases = list_sort(list_distinct(list_concat(entities.aliases, b.aliases))) "
                    "WHEN NOT MATCHED THEN INSERT BY NAME"
                )
            else:
                con.execute(
                    "INSERT INTO entities BY NAME SELECT * FROM _govnlp_batch ON CONFLICT (entity_id) "
                    "DO UPDATE SET aliases = list_sort(list_distinct(list_concat(entities.aliases, excluded.aliases)))"
                )
        finally:
            con.unregister("_govnlp_batch")
    _insert(con, "mentions", pa.table({
        "paragraph_id": [m.paragraph_id for m in mentions],
        "entity_id": [m.entity_id for m in mentions],
        "text": [m.text for m in mentions],
        "label": [m.label for m in mentions],
        "start_char": pa.array([m.start_char for m in mentions], pa.int32()),
        "end_char": pa.array([m.end_char for m in mentions], pa.int32()),
        "method": [m.method for m in mentions],
    }))


def write_embeddings(con, paragraph_ids: Sequence[str], text_hashes: Sequence[str], model: str, vectors: np.ndarray, chunks: Sequence[int]) -> None:
    declared = EMBEDDING_DIM
    if vectors.shape[1] != declared:
        raise ValueError(
            f"model {model!r} gives {vectors.shape[1]}-dimension vectors; embeddings.vector is FLOAT[{declared}] "
            "(add a migration to store another size)"
        )
    _insert(con, "embeddings", pa.table({
        "paragraph_id": list(paragraph_ids),
        "model": [model] * len(paragraph_ids),
        "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.astype(np.float32).ravel(), pa.float32()), vectors.shape[1]),
        "chunks": pa.array(list(chunks), pa.int32()),
        "text_hash": list(text_hashes),
    }), verb="INSERT OR REPLACE")


def sync_taxonomy(con, themes, version: str, default_threshold: float) -> bool:
    """Make the themes table match the taxonomy file; True when it changed."""
    current = con.execute("SELECT DISTINCT taxonomy_version FROM themes").fetchall()
    if current == [(version,)]:
        return False
    ids = [t.theme_id for t in themes]
    con.execute("DELETE FROM themes")
    con.execute("DELETE FROM paragraph_themes WHERE theme_id NOT IN (SELECT unnest(?))", [ids])
    con.execute("DELETE FROM document_themes WHERE theme_id NOT IN (SELECT unnest(?))", [ids])
    _insert(con, "themes", pa.table({
        "theme_id": ids,
        "label": [t.label for t in themes],
        "description": [t.description for t in themes],
        "examples": pa.array([list(t.examples) for t in themes], pa.list_(pa.string())),
        "threshold": pa.array([t.threshold if t.threshold is not None else default_threshold for t in themes], pa.float64()),
        "taxonomy_version": [version] * len(themes),
    }))
    return True


def write_paragraph_themes(con, paragraph_ids: Sequence[str], scores: Sequence[ThemeScore]) -> None:
    _delete_for(con, "paragraph_themes", paragraph_ids)
    _insert(con, "paragraph_themes", pa.table({
        "paragraph_id": [s.paragraph_id for s in scores],
        "theme_id": [s.theme_id for s in scores],
        "score": pa.array([s.score for s in scores], pa.float32()),
        "assigned": [s.assigned for s in scores],
    }))


def write_document_themes(con, doc_ids: Sequence[str], rows: Sequence[tuple[str, str, float, float]]) -> None:
    _delete_for(con, "document_themes", doc_ids, column="doc_id")
    _insert(con, "document_themes", pa.table({
        "doc_id": [r[0] for r in rows],
        "theme_id": [r[1] for r in rows],
        "score": pa.array([r[2] for r in rows], pa.float32()),
        "paragraph_share": pa.array([r[3] for r in rows], pa.float32()),
    }))


def write_quotes(con, paragraph_ids: Sequence[str], quotes: Sequence, doc_of: dict[str, str], run_id: str) -> None:
    """Replace the quotes of these paragraphs (a re-run batch leaves no stale rows)."""
    _delete_for(con, "quotes", paragraph_ids)
    _insert(con, "quotes", pa.table({
        "quote_id": [short_id(q.paragraph_id, str(q.start_char), str(q.end_char)) for q in quotes],
        "paragraph_id": [q.paragraph_id for q in quotes],
        "doc_id": [doc_of[q.paragraph_id] for q in quotes],
        "kind": [q.kind for q in quotes],
        "quote_text": [q.text for q in quotes],
        "start_char": pa.array([q.start_char for q in quotes], pa.int32()),
        "end_char": pa.array([q.end_char for q in quotes], pa.int32()),
        "speaker_text": pa.array([q.speaker_text for q in quotes], pa.string()),
        "speaker_entity_id": pa.array([q.speaker_entity_id for q in quotes], pa.string()),
        "speaker_name": pa.array([q.speaker_name for q in quotes], pa.string()),
        "verb": pa.array([q.verb for q in quotes], pa.string()),
        "method": [q.method for q in quotes],
        "run_id": [run_id] * len(quotes),
    }))


def forget_annotations(con, doc_ids: Sequence[str] | None, stages: Sequence[str]) -> int:
    """Make stored paragraphs pending again for ``stages`` (all documents when doc_ids is None)."""
    where = "stage IN (SELECT unnest(?))"
    with registered_keys(con, doc_ids or []) as keys:
        if doc_ids is not None:
            where += f" AND paragraph_id IN (SELECT paragraph_id FROM paragraphs WHERE doc_id IN (SELECT k FROM {keys}))"
        n = con.execute(f"SELECT count(*) FROM paragraph_annotations WHERE {where}", [list(stages)]).fetchone()[0]
        con.execute(f"DELETE FROM paragraph_annotations WHERE {where}", [list(stages)])
    return n


def record_fetches(con, rows, source_name: str, run_id: str) -> None:
    """One row per request of a web-source poll (``govnlp.fetch.intake.FetchRow``)."""
    def col(fn, kind=None):
        values = [fn(r) for r in rows]
        return pa.array(values, kind) if kind else values

    _insert(con, "fetches", pa.table({
        "fetch_id": [uuid.uuid4().hex for _ in rows],
        "run_id": [run_id] * len(rows),
        "source_name": [source_name] * len(rows),
        "role": col(lambda r: r.request.role),
        "url": col(lambda r: r.request.fetched.url),
        "final_url": col(lambda r: r.request.fetched.final_url),
        "status": col(lambda r: r.request.fetched.status, pa.int32()),
        "outcome": col(lambda r: r.outcome),
        "content_type": col(lambda r: r.request.fetched.headers.get("content-type")),
        "content_sha256": col(lambda r: r.content_sha256),
        "size_bytes": col(lambda r: r.size_bytes, pa.int64()),
        "etag": col(lambda r: r.request.fetched.etag),
        "last_modified": col(lambda r: r.request.fetched.last_modified),
        "headers": col(lambda r: json.dumps(r.request.fetched.headers)),
        "attempts": col(lambda r: r.request.fetched.attempts, pa.int32()),
        "seconds": col(lambda r: r.request.fetched.seconds, pa.float64()),
        "fetched_at": col(lambda r: r.request.fetched.fetched_at, pa.timestamp("us")),
        "error_type": col(lambda r: r.request.fetched.error_type if r.outcome in ("failed", "refused", "rejected", "robots_disallowed") else None),
        "message": col(lambda r: r.request.fetched.message if r.outcome in ("failed", "refused", "rejected", "robots_disallowed") else None),
    }), verb="INSERT")


def replace_topics(con, clustering: dict, topics: Sequence, memberships: Sequence[tuple[str, str, float]], run_id: str) -> None:
    """A full clustering: record it, and replace every topic and paragraph topic with its results."""
    con.execute("DELETE FROM paragraph_topics")
    con.execute("DELETE FROM topics")
    _insert(con, "topic_clusterings", pa.table({
        **{k: [v] for k, v in clustering.items() if k != "parameters"},
        "parameters": [json.dumps(clustering["parameters"], sort_keys=True)],
        "run_id": [run_id],
        "created_at": pa.array([utcnow()], pa.timestamp("us")),
    }))
    cid = clustering["clustering_id"]
    _insert(con, "topics", pa.table({
        "topic_id": [f"{cid}-{t.index:03d}" for t in topics],
        "clustering_id": [cid] * len(topics),
        "rank": pa.array([t.index for t in topics], pa.int32()),
        "label": [t.label for t in topics],
        "terms": pa.array([t.terms for t in topics], pa.list_(pa.string())),
        "term_weights": pa.array([t.term_weights for t in topics], pa.list_(pa.float32())),
        "size": pa.array([t.size for t in topics], pa.int32()),
        "central_paragraph_id": [t.central_paragraph_id for t in topics],
        "coherence": pa.array([t.coherence for t in topics], pa.float64()),
        "centroid": pa.array([np.asarray(t.centroid, np.float32).tolist() for t in topics], pa.list_(pa.float32())),
    }))
    add_paragraph_topics(con, memberships, "clustering", run_id, grow=False)


def add_paragraph_topics(con, rows: Sequence[tuple[str, str, float]], assigned_by: str, run_id: str, grow: bool = True) -> None:
    """(paragraph_id, topic_id, score) rows; with ``grow`` the topics' sizes are recounted to include them."""
    _insert(con, "paragraph_topics", pa.table({
        "paragraph_id": [r[0] for r in rows],
        "topic_id": [r[1] for r in rows],
        "score": pa.array([r[2] for r in rows], pa.float32()),
        "assigned_by": [assigned_by] * len(rows),
        "run_id": [run_id] * len(rows),
    }), verb="INSERT OR REPLACE")
    if grow and rows:
        con.execute("UPDATE topics SET size = c.n FROM (SELECT topic_id, count(*) AS n FROM paragraph_topics GROUP BY 1) c "
                    "WHERE topics.topic_id = c.topic_id")
