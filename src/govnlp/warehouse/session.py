"""An analyst's session: the published snapshot, read-only, with keyword and semantic search ready.

semantic_search needs the query embedded by the same model as the stored
vectors, so it is a temporary macro over a Python function registered in
this session (DuckDB cannot store a Python function in the file).  The
search is exact (brute-force cosine over every vector): the snapshot design
keeps the file openable by any DuckDB, which a persisted HNSW index would
not (benchmarks/search_latency.py measures both).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np

from govnlp.warehouse import dialect, search_index
from govnlp.warehouse.backend import open_reader
from govnlp.warehouse.extensions import load
from govnlp.warehouse.writes import EMBEDDING_DIM

SEMANTIC_SEARCH_COMMENT = (
    "Question 5: the k unique paragraphs closest in meaning to a sentence (cosine similarity of embeddings, the query "
    "embedded by the warehouse's model), filtered by date, publisher and theme. Defined in the session that `govnlp sql` "
    "or govnlp.analyst.connect() opens."
)

SEMANTIC_SEARCH = """
CREATE OR REPLACE TEMP MACRO semantic_search(query_text, k := 10, since := NULL, until := NULL, publisher_name := NULL, theme_name := NULL) AS TABLE
WITH q AS (SELECT embed_query(query_text) AS v)
SELECT p.paragraph_id, p.doc_id, d.title, d.published_on, d.publisher,
       array_cosine_similarity(e.vector, q.v)::DOUBLE AS similarity, p.text
FROM q, embeddings e
JOIN paragraphs p ON p.paragraph_id = e.paragraph_id
JOIN documents d ON d.doc_id = p.doc_id
WHERE e.model = getvariable('govnlp_embed_model')
  AND (since IS NULL OR d.published_on >= CAST(since AS DATE)) AND (until IS NULL OR d.published_on <= CAST(until AS DATE))
  AND (publisher_name IS NULL OR d.publisher = publisher_name)
  AND (theme_name IS NULL OR EXISTS (SELECT 1 FROM paragraph_themes pt JOIN themes t USING (theme_id)
                                     WHERE pt.paragraph_id = p.paragraph_id AND pt.assigned
                                       AND (t.theme_id = theme_name OR lower(t.label) = lower(theme_name))))
ORDER BY similarity DESC, p.paragraph_id
LIMIT k
"""


def prepare(con: duckdb.DuckDBPyConnection, encode: Callable[[list[str]], np.ndarray], embed_model: str) -> duckdb.DuckDBPyConnection:
    """Load fts (keyword_search) and register embed_query + semantic_search on an open connection.

    On a lake the BM25 index is built in memory first (a lake cannot hold
    it) and the vector functions are the list_* ones (dialect.py).
    """
    load(con, "fts")
    lake = dialect.is_lake(con)
    if lake:
        search_index.build_in_memory(con)

    @lru_cache(maxsize=256)
    def embed_query(text: str) -> list[float]:
        return np.asarray(encode([text])[0], dtype=np.float32).tolist()

    con.create_function("embed_query", embed_query, [duckdb.sqltype("VARCHAR")], duckdb.sqltype(f"FLOAT[{EMBEDDING_DIM}]"),
                        side_effects=False)
    con.execute("SET VARIABLE govnlp_embed_model = ?", [embed_model])
    con.execute(dialect.lake_sql(SEMANTIC_SEARCH) if lake else SEMANTIC_SEARCH)
    con.execute("COMMENT ON MACRO TABLE temp.semantic_search IS '{}'".format(SEMANTIC_SEARCH_COMMENT.replace("'", "''")))
    return con


def open_session(published: Path | str, encode: Callable[[list[str]], np.ndarray], embed_model: str) -> duckdb.DuckDBPyConnection:
    return prepare(open_reader(published), encode, embed_model)
