"""`govnlp check`: is the warehouse whole?  And table fingerprints to compare two warehouses.

Links between tables are not FOREIGN KEYs (DuckDB forbids updating
referenced rows), so referential integrity is checked here, by queries.
"""

from __future__ import annotations

import hashlib

import duckdb

from govnlp.settings import MODEL_STAGES
from govnlp.warehouse.connection import columns, tables

# (problem, query counting the offending rows)
CHECKS: list[tuple[str, str]] = [
    ("paragraphs whose document is missing",
     "SELECT count(*) FROM paragraphs p WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = p.doc_id)"),
    ("documents whose paragraph count differs from the stored paragraphs (a half-written document)",
     "SELECT count(*) FROM documents d WHERE paragraph_count <> (SELECT count(*) FROM paragraphs p WHERE p.doc_id = d.doc_id)"),
    ("documents without a MinHash signature",
     "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM document_signatures s WHERE s.doc_id = d.doc_id)"),
    ("signatures of missing documents",
     "SELECT count(*) FROM document_signatures s WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = s.doc_id)"),
    ("documents marked duplicate of a missing document",
     "SELECT count(*) FROM documents d WHERE duplicate_of IS NOT NULL AND NOT EXISTS (SELECT 1 FROM documents c WHERE c.doc_id = d.duplicate_of)"),
    ("paragraphs marked duplicate of a missing paragraph",
     "SELECT count(*) FROM paragraphs p WHERE duplicate_of IS NOT NULL AND NOT EXISTS (SELECT 1 FROM paragraphs c WHERE c.paragraph_id = p.duplicate_of)"),
    ("documents of files not recorded in source_files",
     "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM source_files f WHERE f.source_uri = d.source_uri AND f.file_hash = d.file_hash)"),
    ("mentions of missing paragraphs",
     "SELECT count(*) FROM mentions m WHERE NOT EXISTS (SELECT 1 FROM paragraphs p WHERE p.paragraph_id = m.paragraph_id)"),
    ("mentions of missing entities",
     "SELECT count(*) FROM mentions m WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.entity_id = m.entity_id)"),
    ("mentions in paragraphs not marked as entity-annotated (a half-written batch)",
     "SELECT count(*) FROM mentions m WHERE NOT EXISTS (SELECT 1 FROM paragraph_annotations a WHERE a.paragraph_id = m.paragraph_id AND a.stage = 'entities')"),
    ("quotes of missing paragraphs or documents",
     "SELECT count(*) FROM quotes q WHERE NOT EXISTS (SELECT 1 FROM paragraphs p WHERE p.paragraph_id = q.paragraph_id AND p.doc_id = q.doc_id)"),
    ("quotes whose speaker entity is missing",
     "SELECT count(*) FROM quotes q WHERE q.speaker_entity_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.entity_id = q.speaker_entity_id)"),
    ("quotes in paragraphs not marked as quote-annotated (a half-written batch)",
     "SELECT count(*) FROM quotes q WHERE NOT EXISTS (SELECT 1 FROM paragraph_annotations a WHERE a.paragraph_id = q.paragraph_id AND a.stage = 'quotes')"),
    ("embeddings of missing paragraphs",
     "SELECT count(*) FROM embeddings e WHERE NOT EXISTS (SELECT 1 FROM paragraphs p WHERE p.paragraph_id = e.paragraph_id)"),
    ("paragraphs marked embedded without a vector for that model",
     "SELECT count(*) FROM paragraph_annotations a WHERE a.stage = 'embed' AND NOT EXISTS "
     "(SELECT 1 FROM embeddings e WHERE e.paragraph_id = a.paragraph_id AND e.model = a.version)"),
    ("vectors not marked as embedded (a half-written batch)",
     "SELECT count(*) FROM embeddings e WHERE NOT EXISTS "
     "(SELECT 1 FROM paragraph_annotations a WHERE a.paragraph_id = e.paragraph_id AND a.stage = 'embed')"),
    ("paragraph themes of missing paragraphs or themes",
     "SELECT count(*) FROM paragraph_themes t WHERE NOT EXISTS (SELECT 1 FROM paragraphs p WHERE p.paragraph_id = t.paragraph_id) "
     "OR NOT EXISTS (SELECT 1 FROM themes h WHERE h.theme_id = t.theme_id)"),
    ("paragraph themes in paragraphs not marked as themed (a half-written batch)",
     "SELECT count(*) FROM paragraph_themes t WHERE NOT EXISTS "
     "(SELECT 1 FROM paragraph_annotations a WHERE a.paragraph_id = t.paragraph_id AND a.stage = 'themes')"),
    ("document themes of missing documents or themes",
     "SELECT count(*) FROM document_themes t WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = t.doc_id) "
     "OR NOT EXISTS (SELECT 1 FROM themes h WHERE h.theme_id = t.theme_id)"),
    ("annotations of missing or duplicate paragraphs",
     "SELECT count(*) FROM paragraph_annotations a WHERE NOT EXISTS "
     "(SELECT 1 FROM paragraphs p WHERE p.paragraph_id = a.paragraph_id AND p.duplicate_of IS NULL)"),
    ("annotations by runs that are not recorded",
     "SELECT count(*) FROM paragraph_annotations a WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = a.run_id)"),
]

# Canonical paragraphs lacking a model stage: pending work, not a problem.
PENDING = (
    "SELECT count(*) FROM paragraphs p WHERE p.duplicate_of IS NULL AND NOT EXISTS "
    "(SELECT 1 FROM paragraph_annotations a WHERE a.paragraph_id = p.paragraph_id AND a.stage = ?) "
    "AND NOT EXISTS (SELECT 1 FROM stage_errors x WHERE x.paragraph_id = p.paragraph_id AND x.stage = ?)"
)


# Checks of tables that a warehouse from before their migration lacks (check reads without migrating).
TOPIC_CHECKS: list[tuple[str, str]] = [
    ("paragraph topics of missing paragraphs or topics",
     "SELECT count(*) FROM paragraph_topics t WHERE NOT EXISTS (SELECT 1 FROM paragraphs p WHERE p.paragraph_id = t.paragraph_id) "
     "OR NOT EXISTS (SELECT 1 FROM topics h WHERE h.topic_id = t.topic_id)"),
    ("paragraph topics in paragraphs not marked as topic-annotated (a half-written batch)",
     "SELECT count(*) FROM paragraph_topics t WHERE NOT EXISTS "
     "(SELECT 1 FROM paragraph_annotations a WHERE a.paragraph_id = t.paragraph_id AND a.stage = 'topics')"),
    ("topics of a clustering that is not recorded",
     "SELECT count(*) FROM topics t WHERE NOT EXISTS (SELECT 1 FROM topic_clusterings c WHERE c.clustering_id = t.clustering_id)"),
]


def problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    found = []
    for what, query in CHECKS + (TOPIC_CHECKS if "topics" in tables(con) else []):
        n = con.execute(query).fetchone()[0]
        if n:
            found.append(f"{n} {what}")
    return found


def pending(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    if "stage_errors" not in tables(con):  # a warehouse from before migration 005 (check reads without migrating)
        return {stage: con.execute(PENDING.split(" AND NOT EXISTS (SELECT 1 FROM stage_errors")[0], [stage]).fetchone()[0] for stage in MODEL_STAGES}
    return {stage: con.execute(PENDING, [stage, stage]).fetchone()[0] for stage in MODEL_STAGES}


def stage_failures(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, str]]:
    """(stage, paragraphs, an example message) for paragraphs a model stage skipped because they made it fail."""
    if "stage_errors" not in tables(con):
        return []
    return con.execute(
        "SELECT stage, count(*), any_value(paragraph_id || ': ' || error_type || ': ' || message) FROM stage_errors GROUP BY stage ORDER BY stage"
    ).fetchall()


def unfinished_runs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Runs still writing (as of this snapshot) or killed before they closed."""
    return con.execute("SELECT run_id, status FROM runs WHERE status IN ('running', 'interrupted') ORDER BY started_at").fetchall()


# Columns that differ between two runs doing the same work (who did it, when, and how long it took), left out of fingerprints.
VOLATILE_COLUMNS = {"run_id", "ingested_at", "annotated_at", "occurred_at", "applied_at", "read_seconds", "created_at", "seconds"}
SKIPPED_TABLES = {"runs", "schema_migrations"}


def fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Per table: row count, a digest of the exact columns, and the float columns sorted by them.

    Floats are kept apart because a vector computed in a batch of another
    shape can differ in the last bit; compare them with a tolerance.
    """
    out = {}
    for table in tables(con):
        if table in SKIPPED_TABLES:
            continue
        cols = [(c, t) for c, t, _ in columns(con, table) if c not in VOLATILE_COLUMNS]
        exact = [c for c, t in cols if not t.startswith(("FLOAT", "DOUBLE"))]
        floats = [c for c, t in cols if t.startswith(("FLOAT", "DOUBLE"))]
        quoted = ", ".join(f'"{c}"' for c in exact)
        rows = con.execute(f'SELECT {quoted}{"".join(f", {chr(34)}{c}{chr(34)}" for c in floats)} FROM "{table}" ORDER BY {quoted}').fetchall()
        digest = hashlib.sha256()
        for row in rows:
            digest.update(repr(row[: len(exact)]).encode())
        out[table] = {"rows": len(rows), "digest": digest.hexdigest(), "floats": [row[len(exact):] for row in rows]}
    return out
