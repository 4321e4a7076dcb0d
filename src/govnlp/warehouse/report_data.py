"""Reads for `govnlp report`: every dataset the HTML report charts, as plain rows.

Each dataset is a list of dicts (JSON-ready: dates as ISO strings, numbers as
int/float) so that ``govnlp.report`` stays free of DuckDB. Filters are bound
parameters only. Documents are filtered on ``documents.published_on`` (an
undated document is kept only when neither ``since`` nor ``until`` is given, and
never appears in the per-month datasets); runs on ``runs.started_at``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

TOP_ENTITIES_PER_LABEL = 10
TOP_PAIRS = 40
TOP_SPEAKERS = 15
TOP_TOPICS = 8
EMERGING_WINDOW_DAYS = 91  # the last quarter of the period against the quarter before

DATASETS = (
    "documents_by_month",
    "duplicates_by_month",
    "theme_share_by_month",
    "top_entities",
    "cooccurrence_edges",
    "cooccurrence_nodes",
    "top_speakers",
    "topic_share_by_month",
    "emerging_topics",
    "runs",
    "run_stages",
)


def _doc_filter(alias: str, since: date | None, until: date | None) -> tuple[str, list]:
    where, params = ["TRUE"], []
    if since is not None:
        where.append(f"{alias}.published_on >= ?")
        params.append(since)
    if until is not None:
        where.append(f"{alias}.published_on <= ?")
        params.append(until)
    return " AND ".join(where), params


def _rows(con, sql: str, params: list) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [{n: _jsonable(v) for n, v in zip(names, row)} for row in cur.fetchall()]


def _jsonable(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(timespec="seconds")
    if isinstance(v, date):
        return v.isoformat()
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy / decimal-like scalars
        try:
            return v.item()
        except (TypeError, ValueError):
            pass
    if type(v).__name__ == "Decimal":
        return float(v)
    return v


def table_exists(con, name: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = current_schema()", [name]
    ).fetchone()[0] > 0


def documents_by_month(con, since: date | None, until: date | None) -> list[dict]:
    where, params = _doc_filter("d", since, until)
    return _rows(con, f"""
        SELECT strftime(date_trunc('month', d.published_on), '%Y-%m-%d') AS month,
               coalesce(nullif(trim(d.publisher), ''), 'unknown') AS publisher,
               count(*)::INTEGER AS documents
        FROM documents d
        WHERE d.duplicate_of IS NULL AND d.published_on IS NOT NULL AND {where}
        GROUP BY ALL ORDER BY month, publisher""", params)


def duplicates_by_month(con, since: date | None, until: date | None) -> list[dict]:
    where, params = _doc_filter("d", since, until)
    return _rows(con, f"""
        SELECT strftime(date_trunc('month', d.published_on), '%Y-%m-%d') AS month,
               coalesce(d.duplicate_kind, 'unknown') AS duplicate_kind,
               count(*)::INTEGER AS documents
        FROM documents d
        WHERE d.duplicate_of IS NOT NULL AND d.published_on IS NOT NULL AND {where}
        GROUP BY ALL ORDER BY month, duplicate_kind""", params)


def theme_share_by_month(con, since: date | None, until: date | None) -> list[dict]:
    """Per month and theme: canonical paragraphs with the theme assigned / canonical paragraphs scored."""
    where, params = _doc_filter("d", since, until)
    return _rows(con, f"""
        WITH scored AS (
            SELECT p.paragraph_id, date_trunc('month', d.published_on) AS month
            FROM paragraphs p JOIN documents d ON d.doc_id = p.doc_id
            WHERE p.duplicate_of IS NULL AND d.published_on IS NOT NULL AND {where}
              AND EXISTS (SELECT 1 FROM paragraph_themes pt WHERE pt.paragraph_id = p.paragraph_id)
        ),
        totals AS (SELECT month, count(*) AS total FROM scored GROUP BY month),
        hits AS (
            SELECT s.month, pt.theme_id, count(*) AS paragraphs
            FROM scored s JOIN paragraph_themes pt ON pt.paragraph_id = s.paragraph_id
            WHERE pt.assigned GROUP BY ALL
        )
        SELECT strftime(t.month, '%Y-%m-%d') AS month, th.theme_id, th.label AS theme,
               coalesce(h.paragraphs, 0)::INTEGER AS paragraphs, t.total::INTEGER AS total_paragraphs,
               coalesce(h.paragraphs, 0) / t.total AS share
        FROM totals t CROSS JOIN themes th
        LEFT JOIN hits h ON h.month = t.month AND h.theme_id = th.theme_id
        ORDER BY month, theme""", params)


def topic_share_by_month(con, since: date | None, until: date | None, top: int = TOP_TOPICS) -> list[dict]:
    """Per month, the share of paragraphs seen by the topics stage that are in each of the period's largest topics."""
    if not table_exists(con, "paragraph_topics"):
        return []
    where, params = _doc_filter("d", since, until)
    return _rows(con, f"""
        WITH seen AS (
            SELECT p.paragraph_id, date_trunc('month', d.published_on) AS month
            FROM paragraphs p JOIN documents d ON d.doc_id = p.doc_id
            WHERE p.duplicate_of IS NULL AND d.duplicate_of IS NULL AND d.published_on IS NOT NULL AND {where}
              AND EXISTS (SELECT 1 FROM paragraph_annotations a WHERE a.paragraph_id = p.paragraph_id AND a.stage = 'topics')
        ),
        totals AS (SELECT month, count(*) AS total FROM seen GROUP BY month),
        hits AS (SELECT s.month, pt.topic_id, count(*) AS paragraphs FROM seen s JOIN paragraph_topics pt USING (paragraph_id) GROUP BY ALL),
        top AS (SELECT topic_id FROM hits GROUP BY topic_id ORDER BY sum(paragraphs) DESC, topic_id LIMIT {int(top)})
        SELECT strftime(t.month, '%Y-%m-%d') AS month, tp.topic_id, tp.label AS topic,
               coalesce(h.paragraphs, 0)::INTEGER AS paragraphs, t.total::INTEGER AS total_paragraphs,
               coalesce(h.paragraphs, 0) / t.total AS share
        FROM totals t CROSS JOIN top JOIN topics tp USING (topic_id)
        LEFT JOIN hits h ON h.month = t.month AND h.topic_id = tp.topic_id
        ORDER BY month, topic""", params)


def emerging_topics(con, since: date | None, until: date | None, n: int = 10) -> list[dict]:
    """The macro emerging_topics over the period's last quarter (ending at ``until`` or the newest date) against the quarter before."""
    if not table_exists(con, "paragraph_topics"):
        return []
    where, params = _doc_filter("d", since, until)
    newest = con.execute(f"SELECT max(d.published_on) FROM documents d WHERE d.published_on IS NOT NULL AND {where}", params).fetchone()[0]
    if newest is None:
        return []
    stop = newest + timedelta(days=1)
    start = stop - timedelta(days=EMERGING_WINDOW_DAYS)
    rows = _rows(con, "SELECT topic, terms[1:6] AS terms, paragraphs_now, paragraphs_before, share_now, share_before, share_change "
                      "FROM emerging_topics(?, ?, ?)", [start, stop, n])
    for r in rows:
        r.update(window_start=start.isoformat(), window_end=newest.isoformat(), window_days=EMERGING_WINDOW_DAYS)
    return rows


def top_entities(con, since: date | None, until: date | None, per_label: int = TOP_ENTITIES_PER_LABEL) -> list[dict]:
    where, params = _doc_filter("d", since, until)
    return _rows(con, f"""
        WITH counts AS (
            SELECT e.entity_id, e.canonical_name, e.label, count(DISTINCT d.doc_id)::INTEGER AS documents,
                   count(*)::INTEGER AS mentions
            FROM mentions m
            JOIN entities e ON e.entity_id = m.entity_id
            JOIN paragraphs p ON p.paragraph_id = m.paragraph_id
            JOIN documents d ON d.doc_id = p.doc_id
            WHERE {where}
            GROUP BY ALL
        )
        SELECT label, canonical_name, entity_id, documents, mentions,
               row_number() OVER (PARTITION BY label ORDER BY documents DESC, mentions DESC, canonical_name)::INTEGER AS rank
        FROM counts
        QUALIFY rank <= ?
        ORDER BY label, rank""", params + [per_label])


def entity_cooccurrence(con, since: date | None, until: date | None, top: int = TOP_PAIRS) -> tuple[list[dict], list[dict]]:
    """(edges, nodes): the ``top`` entity pairs by number of paragraphs mentioning both, and their entities."""
    where, params = _doc_filter("d", since, until)
    edges = _rows(con, f"""
        WITH pe AS (
            SELECT DISTINCT m.paragraph_id, m.entity_id
            FROM mentions m JOIN paragraphs p ON p.paragraph_id = m.paragraph_id
            JOIN documents d ON d.doc_id = p.doc_id
            WHERE {where}
        )
        SELECT a.entity_id AS source_id, ea.canonical_name AS source,
               b.entity_id AS target_id, eb.canonical_name AS target,
               count(*)::INTEGER AS paragraphs
        FROM pe a JOIN pe b ON a.paragraph_id = b.paragraph_id AND a.entity_id < b.entity_id
        JOIN entities ea ON ea.entity_id = a.entity_id
        JOIN entities eb ON eb.entity_id = b.entity_id
        GROUP BY ALL
        ORDER BY paragraphs DESC, source, target
        LIMIT ?""", params + [top])
    ids = sorted({e["source_id"] for e in edges} | {e["target_id"] for e in edges})
    if not ids:
        return edges, []
    nodes = _rows(con, f"""
        SELECT e.entity_id, e.canonical_name AS name, e.label,
               count(DISTINCT m.paragraph_id)::INTEGER AS paragraphs
        FROM mentions m JOIN entities e ON e.entity_id = m.entity_id
        JOIN paragraphs p ON p.paragraph_id = m.paragraph_id
        JOIN documents d ON d.doc_id = p.doc_id
        WHERE {where} AND list_contains(?, e.entity_id)
        GROUP BY ALL ORDER BY paragraphs DESC, name""", params + [ids])
    return edges, nodes


def top_speakers(con, since: date | None, until: date | None, top: int = TOP_SPEAKERS) -> list[dict]:
    """Most quoted speakers (table ``quotes``, migration 003); [] on a warehouse without it."""
    if not table_exists(con, "quotes"):
        return []
    where, params = _doc_filter("d", since, until)
    return _rows(con, f"""
        SELECT coalesce(e.canonical_name, nullif(trim(q.speaker_name), ''), nullif(trim(q.speaker_text), '')) AS speaker,
               count(*)::INTEGER AS quotes, count(DISTINCT q.doc_id)::INTEGER AS documents
        FROM quotes q
        JOIN documents d ON d.doc_id = q.doc_id
        LEFT JOIN entities e ON e.entity_id = q.speaker_entity_id
        WHERE {where}
        GROUP BY ALL
        HAVING speaker IS NOT NULL
        ORDER BY quotes DESC, speaker
        LIMIT ?""", params + [top])


def run_history(con, since: date | None, until: date | None) -> tuple[list[dict], list[dict]]:
    """(runs, stage rows): every run with its duration in seconds, and its seconds per stage."""
    where, params = ["TRUE"], []
    if since is not None:
        where.append("started_at >= ?")
        params.append(since)
    if until is not None:
        where.append("started_at < ? + INTERVAL 1 DAY")
        params.append(until)
    rows = _rows(con, f"""
        SELECT run_id, flow, status, started_at, finished_at,
               CASE WHEN finished_at IS NULL THEN NULL
                    ELSE epoch_ms(finished_at) / 1000.0 - epoch_ms(started_at) / 1000.0 END AS duration_seconds,
               stage_seconds
        FROM runs WHERE {' AND '.join(where)}
        ORDER BY started_at, run_id""", params)
    stages: list[dict] = []
    for r in rows:
        raw = r.pop("stage_seconds")
        parsed = json.loads(raw) if isinstance(raw, str) else (raw or {})
        if isinstance(parsed, dict):
            for stage, seconds in parsed.items():
                if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
                    stages.append({"run_id": r["run_id"], "started_at": r["started_at"], "flow": r["flow"],
                                   "stage": str(stage), "seconds": float(seconds)})
    return rows, stages


def report_data(con, since: date | None = None, until: date | None = None) -> dict[str, list[dict]]:
    """Every dataset of the report, keyed as in ``DATASETS``."""
    edges, nodes = entity_cooccurrence(con, since, until)
    runs, stages = run_history(con, since, until)
    return {
        "documents_by_month": documents_by_month(con, since, until),
        "duplicates_by_month": duplicates_by_month(con, since, until),
        "theme_share_by_month": theme_share_by_month(con, since, until),
        "top_entities": top_entities(con, since, until),
        "cooccurrence_edges": edges,
        "cooccurrence_nodes": nodes,
        "top_speakers": top_speakers(con, since, until),
        "topic_share_by_month": topic_share_by_month(con, since, until),
        "emerging_topics": emerging_topics(con, since, until),
        "runs": runs,
        "run_stages": stages,
    }
