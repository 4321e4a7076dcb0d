"""The analysts' questions, each answered by one short query (README, `govnlp docs` and the tests use this list)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    number: str
    question: str
    sql: str


EXAMPLES: list[Example] = [
    Example("1", "Documents per publisher, document type and month, with and without duplicates",
            "SELECT month, publisher, doc_type, documents, unique_documents, duplicates\n"
            "FROM documents_per_month ORDER BY month NULLS LAST, publisher;"),
    Example("2", "The most mentioned entities in a date range, by type, under their canonical names",
            "SELECT * FROM top_entities(since := '2025-01-01', until := '2026-12-31', n := 5);"),
    Example("2b", "The most mentioned people",
            "SELECT * FROM top_entities(entity_type := 'PERSON', n := 5);"),
    Example("3", "Paragraphs in which two given entities are mentioned together",
            "SELECT title, left(text, 70) AS text\n"
            "FROM paragraphs_mentioning('United Nations', 'Global South') LIMIT 3;"),
    Example("3b", "The entity co-occurrence network for a date range",
            "SELECT * FROM entity_network(since := '2025-01-01', min_paragraphs := 5) LIMIT 5;"),
    Example("4", "The share of paragraphs on each theme per month and per publisher",
            "SELECT month, publisher, theme, paragraphs, round(share, 2) AS share\n"
            "FROM theme_trends WHERE theme = 'Capacity-building' ORDER BY month NULLS LAST, publisher;"),
    Example("4b", "The documents most about a theme",
            "SELECT title, round(paragraph_share, 2) AS share FROM documents_about('capacity_building', n := 3);"),
    Example("5", "Semantic search: the paragraphs closest in meaning to a sentence (govnlp sql session)",
            "SELECT title, round(similarity, 3) AS similarity, left(text, 60) AS text\n"
            "FROM semantic_search('capacity building for developing countries', k := 3);"),
    Example("5b", "Semantic search with filters on date, publisher and theme",
            "SELECT title, round(similarity, 3) AS similarity\n"
            "FROM semantic_search('training for developing countries', k := 3, since := '2025-01-01', theme_name := 'capacity_building');"),
    Example("6", "Keyword search with BM25 ranking, same filters",
            "SELECT title, round(score, 2) AS score, left(text, 60) AS text\n"
            "FROM keyword_search('capacity building developing countries', k := 3);"),
    Example("7", "Documents similar to a given document",
            "SELECT title, round(similarity, 3) AS similarity FROM similar_documents(\n"
            "  (SELECT doc_id FROM documents WHERE publisher = 'Xinhua'), k := 3);"),
    Example("7b", "Near-duplicate clusters with their members",
            "SELECT cluster_doc_id, members, member_doc_ids, kinds FROM duplicate_clusters;"),
    Example("8", "Who said what",
            "SELECT speaker, verb, kind, left(quote_text, 60) AS quote\n"
            "FROM who_said_what ORDER BY published_on, doc_id LIMIT 5;"),
    Example("8b", "The most quoted speakers",
            "SELECT speaker, count(*) AS quotes FROM who_said_what\n"
            "WHERE speaker_entity_id IS NOT NULL GROUP BY speaker ORDER BY quotes DESC, speaker LIMIT 5;"),
    Example("9", "Lineage: which run, model and taxonomy version produced a paragraph's annotations",
            "SELECT stage, version, run_id, flow FROM paragraph_lineage\n"
            "WHERE paragraph_id = (SELECT min(paragraph_id) FROM paragraphs) ORDER BY stage;"),
    Example("10", "Emergent topics: what the paragraphs talk about, found without a taxonomy",
            "SELECT rank, label, size, round(coherence, 2) AS coherence\n"
            "FROM topics ORDER BY rank LIMIT 5;"),
    Example("10b", "The share of paragraphs in each topic per month and publisher",
            "SELECT month, publisher, topic, paragraphs, round(share, 2) AS share\n"
            "FROM topic_trends ORDER BY month NULLS LAST, paragraphs DESC LIMIT 5;"),
    Example("10c", "Emerging topics: whose share rose most against the previous period of the same length",
            "SELECT topic, paragraphs_now, share_now, share_before, share_change\n"
            "FROM emerging_topics('2026-01-01', '2027-01-01', n := 3);"),
    Example("10d", "The documents with most paragraphs in a topic (id, label or rank)",
            "SELECT title, topic_paragraphs, paragraph_share FROM topic_documents(0, n := 3);"),
]
