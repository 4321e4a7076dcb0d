"""The same schema on a DuckLake: what its catalog cannot hold, and how writes do without keys.

DuckLake stores tables as Parquet files and refuses what Parquet and its
catalog have no place for: PRIMARY KEY / UNIQUE constraints, indexes,
sequences, fixed-size arrays (FLOAT[384]) and comments on macros.  Rather
than a second copy of every migration, the lake runs the same migration
files through ``lake_sql``:

- ``FLOAT[384]`` becomes ``FLOAT[]`` (the vectors keep their 384 values;
  a write of another length is still refused by writes.py), and the
  ``array_*`` vector functions become their ``list_*`` twins, which take
  both lists and arrays;
- PRIMARY KEY and UNIQUE constraints and CREATE INDEX statements are
  dropped: the keys are still known (``table_keys``, read from the file
  schema), and keyed writes go through ``insert`` below, under the lake's
  commit lock (lake.py), so no key is ever stored twice;
- macros are not stored as macros: DuckLake 1.5.5 stores a ``NULL``
  parameter default as the text 'NULL' (so ``since IS NULL`` is false) and a
  typed NULL default can leave the catalog unopenable.  Each
  ``CREATE MACRO`` becomes a row of ``lake_meta.macros`` holding the same
  statement as a TEMP macro, which every session on the lake runs when it
  opens (``load_macros``; plain DuckDB: see the README);
- ``COMMENT ON MACRO`` and ``COMMENT ON COLUMN`` of a view (neither has a
  place in a DuckLake catalog) become rows in ``lake_meta.comments``; the
  data dictionary reads them from there.

The BM25 index (fts) cannot be built in a lake either; the analyst session
builds it in memory instead (session.py).
"""

from __future__ import annotations

import re
from functools import lru_cache

import duckdb
import pyarrow as pa

COMMENTS = "lake_meta.comments"  # a schema of its own: not a warehouse table (export, check and docs list schema main)
MACROS = "lake_meta.macros"
COMMENTS_DDL = (
    "CREATE SCHEMA IF NOT EXISTS lake_meta;"
    f"CREATE TABLE IF NOT EXISTS {MACROS} (macro_name VARCHAR NOT NULL, definition VARCHAR NOT NULL);"
    f"COMMENT ON TABLE {MACROS} IS 'Only in a DuckLake warehouse: the analysts'' macros as CREATE TEMP MACRO statements, "
    "run by every session that opens the lake (a DuckLake catalog cannot store macros with NULL defaults).';"
    f"CREATE TABLE IF NOT EXISTS {COMMENTS} (object_name VARCHAR NOT NULL, column_name VARCHAR, comment VARCHAR);"
    f"COMMENT ON TABLE {COMMENTS} IS 'Only in a DuckLake warehouse: comments on macros and on view columns, "
    "which a DuckLake catalog cannot store (govnlp docs reads them from here).'"
)

_ARRAY_TYPE = re.compile(r"FLOAT\[\d+\]", re.IGNORECASE)
_ARRAY_FUNCTIONS = re.compile(r"\barray_(cosine_similarity|inner_product|distance|negative_inner_product|cosine_distance)\(", re.IGNORECASE)
_TABLE_KEY = re.compile(r",\s*(PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"\s+(PRIMARY\s+KEY|UNIQUE)\b(?=\s*[,\n)])", re.IGNORECASE)
_INDEX = re.compile(r"CREATE\s+(UNIQUE\s+)?INDEX\b[^;]*;", re.IGNORECASE)
_MACRO_COMMENT = re.compile(r"COMMENT\s+ON\s+MACRO\s+(?:TABLE\s+)?(\w+)\s+IS\s+('(?:[^']|'')*')\s*;?", re.IGNORECASE)
_COLUMN_COMMENT = re.compile(r"COMMENT\s+ON\s+COLUMN\s+(\w+)\.(\w+)\s+IS\s+('(?:[^']|'')*')\s*;?", re.IGNORECASE)
_MACRO = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?MACRO\s+(\w+)\b(.*?);[ \t]*(?=\n|$)", re.IGNORECASE | re.DOTALL)
_VIEW = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(\w+)", re.IGNORECASE)


def lake_sql(sql: str) -> str:
    """Migration or query SQL rewritten for a DuckLake catalog (see the module docstring)."""
    sql = _INDEX.sub("", sql)
    sql = _TABLE_KEY.sub("", sql)
    sql = _COLUMN_KEY.sub("", sql)
    sql = _ARRAY_TYPE.sub("FLOAT[]", sql)
    sql = _ARRAY_FUNCTIONS.sub(lambda m: f"list_{m.group(1)}(", sql)
    sql = _MACRO_COMMENT.sub(lambda m: _stored_comment(m.group(1), None, m.group(2)), sql)
    views = view_names()
    sql = _COLUMN_COMMENT.sub(lambda m: _stored_comment(m.group(1), m.group(2), m.group(3)) if m.group(1) in views else m.group(0), sql)
    return _MACRO.sub(lambda m: _stored_macro(m.group(1), f"CREATE OR REPLACE TEMP MACRO {m.group(1)}{m.group(2)};"), sql)


def _stored_macro(name: str, definition: str) -> str:
    return (f"DELETE FROM {MACROS} WHERE macro_name = '{name}'; "
            f"INSERT INTO {MACROS} VALUES ('{name}', '{definition.replace(chr(39), chr(39) * 2)}');")


def load_macros(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create the lake's macros (as TEMP macros) in this session; returns their names."""
    rows = con.execute(f"SELECT macro_name, definition FROM {MACROS}").fetchall()
    for _, definition in rows:
        con.execute(definition)
    return [name for name, _ in rows]


def _stored_comment(name: str, column: str | None, literal: str) -> str:
    col = "NULL" if column is None else f"'{column}'"
    return (f"DELETE FROM {COMMENTS} WHERE object_name = '{name}' AND column_name IS NOT DISTINCT FROM {col}; "
            f"INSERT INTO {COMMENTS} VALUES ('{name}', {col}, {literal});")


@lru_cache(maxsize=1)
def view_names() -> frozenset[str]:
    """Every view any migration creates (their column comments go to lake_meta.comments)."""
    from govnlp.warehouse.connection import migrations

    return frozenset(name for _, _, sql in migrations() for name in _VIEW.findall(sql))


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """The connection's current database is a DuckLake."""
    return con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0] == "ducklake"


def adapt(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """``sql`` as written for a DuckDB file, or rewritten when ``con`` is on a lake."""
    return lake_sql(sql) if is_lake(con) else sql


@lru_cache(maxsize=1)
def table_keys() -> dict[str, tuple[str, ...]]:
    """Each table's primary key, as the migrations declare it (applied to an in-memory DuckDB once)."""
    from govnlp.warehouse.connection import migrate

    con = duckdb.connect()
    try:
        migrate(con)
        rows = con.execute(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    finally:
        con.close()
    return {table: tuple(cols) for table, cols in rows}


def insert(con: duckdb.DuckDBPyConnection, table: str, source: str, mode: str) -> None:
    """``INSERT [OR IGNORE | OR REPLACE] INTO table BY NAME SELECT * FROM source`` without key constraints.

    ``mode`` is ``insert``, ``ignore`` (rows whose key is stored are left out)
    or ``replace`` (stored rows with a key in ``source`` are deleted first).
    Within ``source`` one row per key is kept, as a keyed table would.
    """
    keys = table_keys().get(table)
    if mode == "insert" or not keys:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {source}")
        return
    match = " AND ".join(f't."{k}" = s."{k}"' for k in keys)
    partition = ", ".join(f'"{k}"' for k in keys)
    if mode == "replace":
        con.execute(f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM {source} s WHERE {match})")
    con.execute(
        f"INSERT INTO {table} BY NAME SELECT * EXCLUDE (_govnlp_n) FROM ("
        f"SELECT *, row_number() OVER (PARTITION BY {partition}) AS _govnlp_n FROM {source} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})) WHERE _govnlp_n = 1"
    )


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, batch: pa.Table, mode: str) -> None:
    """``insert`` for an Arrow table."""
    con.register("_govnlp_rows", batch)
    try:
        insert(con, table, "_govnlp_rows", mode)
    finally:
        con.unregister("_govnlp_rows")
