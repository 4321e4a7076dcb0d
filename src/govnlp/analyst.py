"""For notebooks: ``con = govnlp.analyst.connect()`` gives the session `govnlp sql` opens.

    import govnlp.analyst
    con = govnlp.analyst.connect("warehouse/govnlp.duckdb")
    con.sql("select * from semantic_search('capacity building for developing countries', k := 5)").df()

The embedding model loads on the first semantic_search, not before.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from govnlp.settings import load_settings


class _LazyEncoder:
    def __init__(self, settings):
        self.settings = settings

    @cached_property
    def embedder(self):
        from govnlp.embed import Embedder

        s = self.settings
        return Embedder(s.embed_model, s.embed_device, s.embed_batch_size)

    def __call__(self, texts: list[str]):
        return self.embedder.encode_texts(texts)


def connect(warehouse: str | Path | None = None):
    """A read-only DuckDB connection on the published warehouse with every view, macro and search function ready."""
    from govnlp.warehouse.session import open_session

    settings = load_settings(warehouse=warehouse)
    return open_session(settings.warehouse, _LazyEncoder(settings), settings.embed_model)
