"""The BM25 keyword index over paragraphs (DuckDB's fts extension) and the keyword_search macro that uses it.

DuckDB's full-text index is not updated by inserts, so it is rebuilt after a
run that stored new paragraphs (seconds on the seeds; the index tables live
in the schema fts_main_paragraphs).  The macro must be created after the
index, because a macro's body is bound when it is created.
"""

from __future__ import annotations

import duckdb

from govnlp.warehouse.extensions import load

INDEX_SCHEMA = "fts_main_paragraphs"

KEYWORD_SEARCH = """
CREATE OR REPLACE MACRO keyword_search(query_text, k := 10, since := NULL, until := NULL, publisher_name := NULL, theme_name := NULL) AS TABLE
SELECT * FROM (
    SELECT p.paragraph_id, p.doc_id, d.title, d.published_on, d.publisher,
           fts_main_paragraphs.match_bm25(p.paragraph_id, query_text) AS score, p.text
    FROM paragraphs p JOIN documents d USING (doc_id)
    WHERE p.duplicate_of IS NULL
      AND (since IS NULL OR d.published_on >= CAST(since AS DATE)) AND (until IS NULL OR d.published_on <= CAST(until AS DATE))
      AND (publisher_name IS NULL OR d.publisher = publisher_name)
      AND (theme_name IS NULL OR EXISTS (SELECT 1 FROM paragraph_themes pt JOIN themes t USING (theme_id)
                                         WHERE pt.paragraph_id = p.paragraph_id AND pt.assigned
                                           AND (t.theme_id = theme_name OR lower(t.label) = lower(theme_name))))
)
WHERE score IS NOT NULL
ORDER BY score DESC, paragraph_id
LIMIT k
"""


def is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """The index exists and covers every stored paragraph (paragraphs are only ever added), even after a crash.

    A DuckLake cannot hold the index (its tables and macros fail to commit
    there): a lake is always "current", and the analyst session builds the
    index in memory when it opens (session.py).
    """
    from govnlp.warehouse import dialect

    if dialect.is_lake(con):
        return True
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ? AND table_name = 'docs'", [INDEX_SCHEMA]
    ).fetchone()[0]
    if not exists:
        return False
    indexed = con.execute(f"SELECT count(*) FROM {INDEX_SCHEMA}.docs").fetchone()[0]
    return indexed == con.execute("SELECT count(*) FROM paragraphs").fetchone()[0]


KEYWORD_SEARCH_COMMENT = ("Question 6: BM25 keyword search over unique paragraphs, "
                          "filtered by date, publisher and theme (needs the fts extension loaded: govnlp sql does it).")


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the index over every unique paragraph, Porter-stemmed English with stop words removed."""
    load(con, "fts")
    con.execute("PRAGMA create_fts_index('paragraphs', 'paragraph_id', 'text', stemmer = 'porter', stopwords = 'english', overwrite = 1)")
    con.execute(KEYWORD_SEARCH)
    con.execute(f"COMMENT ON MACRO TABLE keyword_search IS '{KEYWORD_SEARCH_COMMENT}'")


def build_in_memory(con: duckdb.DuckDBPyConnection) -> None:
    """For a session on a lake: the same index and a TEMP keyword_search over a copy of the paragraphs in memory.

    Costs one pass over the paragraph text when the session opens (2.8 s for
    20,000 synthetic 60-word paragraphs on a busy 2-core machine); the
    session keeps its snapshot, so the copy stays in step with what it sees.
    """
    load(con, "fts")
    con.execute("CREATE OR REPLACE TABLE memory.main.paragraphs AS SELECT paragraph_id, text FROM paragraphs")
    con.execute("PRAGMA create_fts_index('memory.main.paragraphs', 'paragraph_id', 'text', stemmer = 'porter', stopwords = 'english', overwrite = 1)")
    con.execute(KEYWORD_SEARCH.replace("CREATE OR REPLACE MACRO", "CREATE OR REPLACE TEMP MACRO")
                .replace("fts_main_paragraphs.match_bm25", "memory.fts_main_paragraphs.match_bm25"))
    con.execute(f"COMMENT ON MACRO TABLE temp.keyword_search IS '{KEYWORD_SEARCH_COMMENT}'")
