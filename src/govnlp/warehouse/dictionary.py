"""The catalog as a data dictionary: every table, view and macro with its columns and comments."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb


@dataclass
class CatalogObject:
    name: str
    kind: str  # 'table' | 'view' | 'macro'
    comment: str | None
    columns: list[tuple[str, str, str | None]] = field(default_factory=list)  # (name, type, comment)
    parameters: list[str] = field(default_factory=list)


def catalog(con: duckdb.DuckDBPyConnection) -> list[CatalogObject]:
    objects = [CatalogObject(n, "table", c) for n, c in con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' ORDER BY 1").fetchall()]
    objects += [CatalogObject(n, "view", c) for n, c in con.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND NOT internal ORDER BY 1").fetchall()]
    for obj in objects:
        obj.columns = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [obj.name]).fetchall()
    objects += [CatalogObject(n, "macro", c, parameters=list(p)) for n, c, p in con.execute(
        "SELECT function_name, any_value(comment), any_value(parameters) FROM duckdb_functions() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND function_type IN ('macro', 'table_macro') "
        "AND NOT internal GROUP BY 1 ORDER BY 1").fetchall()]
    _lake_comments(con, objects)
    return objects


def _lake_comments(con: duckdb.DuckDBPyConnection, objects: list[CatalogObject]) -> None:
    """A DuckLake cannot hold comments on macros and view columns; its migrations keep them in a table (dialect.COMMENTS)."""
    from govnlp.warehouse import dialect

    if not dialect.is_lake(con):
        return
    objects += [CatalogObject(n, "macro", None, parameters=list(p)) for n, p in con.execute(
        f"SELECT function_name, any_value(parameters) FROM duckdb_functions() WHERE database_name = 'temp' "
        f"AND function_name IN (SELECT macro_name FROM {dialect.MACROS}) GROUP BY 1 ORDER BY 1").fetchall()]
    stored = {(o, c): text for o, c, text in con.execute(f"SELECT object_name, column_name, comment FROM {dialect.COMMENTS}").fetchall()}
    for obj in objects:
        if obj.kind == "macro" and not obj.comment:
            obj.comment = stored.get((obj.name, None))
        obj.columns = [(c, t, comment or stored.get((obj.name, c))) for c, t, comment in obj.columns]


def missing_comments(objects: list[CatalogObject]) -> list[str]:
    """Every table, view, column and macro without a comment (a test keeps this empty)."""
    missing = [f"{o.kind} {o.name}" for o in objects if not o.comment]
    missing += [f"column {o.name}.{c}" for o in objects for c, _, comment in o.columns if not comment]
    return missing
