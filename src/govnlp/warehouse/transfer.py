"""`govnlp export` / `govnlp import`: every table as Parquet, with the schema comments beside it.

Paths go through pyarrow, never into SQL text; rows are streamed in
batches, so a large warehouse is not held in memory.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from govnlp.warehouse.connection import columns, schema_version, tables

MANIFEST = "schema.json"
BATCH_ROWS = 50_000


def describe(con) -> dict:
    """Tables and columns with types and comments (the data dictionary)."""
    return {
        name: {"comment": comment, "columns": [{"name": c, "type": t, "comment": k} for c, t, k in columns(con, name)]}
        for name, comment in tables(con).items()
    }


def export_tables(con: duckdb.DuckDBPyConnection, directory: Path) -> dict[str, int]:
    """Write <table>.parquet for every table and schema.json; returns rows per table."""
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    for table in tables(con):
        reader = con.execute(f'SELECT * FROM "{table}"').fetch_record_batch(BATCH_ROWS)
        rows = 0
        with pq.ParquetWriter(directory / f"{table}.parquet", reader.schema, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(batch)
                rows += batch.num_rows
        counts[table] = rows
    manifest = {"schema_version": schema_version(con), "rows": counts, "tables": describe(con)}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    return counts


class ImportRefused(ValueError):
    pass


def import_tables(con: duckdb.DuckDBPyConnection, directory: Path) -> dict[str, int]:
    """Load an export into an empty warehouse at the current schema (newer columns stay NULL).

    Call it inside the writer's transaction: a refused or broken export leaves nothing behind.
    """
    manifest_path = directory / MANIFEST
    if not manifest_path.exists():
        raise ImportRefused(f"{directory} has no {MANIFEST}: not a `govnlp export` folder")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest["schema_version"] > schema_version(con):
        raise ImportRefused(f"the export has schema version {manifest['schema_version']}, newer than this govnlp's {schema_version(con)}: upgrade govnlp")
    known = set(tables(con))
    occupied = [t for t in known - {"schema_migrations"} if con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]]
    if occupied:
        raise ImportRefused(f"the target warehouse is not empty ({', '.join(sorted(occupied))}); import into a new warehouse file")
    counts = {}
    for table in manifest["rows"]:
        if table == "schema_migrations":
            continue
        if table not in known:
            raise ImportRefused(f"the export has a table {table!r} this schema does not know")
        rows = 0
        for batch in pq.ParquetFile(directory / f"{table}.parquet").iter_batches(BATCH_ROWS):
            con.register("_govnlp_import", batch)
            try:
                con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _govnlp_import')
            finally:
                con.unregister("_govnlp_import")
            rows += batch.num_rows
        if rows != manifest["rows"][table]:
            raise ImportRefused(f"{table}.parquet has {rows} rows, the manifest says {manifest['rows'][table]}")
        counts[table] = rows
    return counts
