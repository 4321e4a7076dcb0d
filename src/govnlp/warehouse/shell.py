"""`govnlp sql`: one query to a file or stdout, or an interactive prompt, on an analyst session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv

FORMATS = ("table", "csv", "json", "parquet")
PROMPT, MORE = "govnlp> ", "   ...> "
HELP = """Enter SQL ending with ';'.  .tables lists tables, views and macros; .help this text; .quit (or Ctrl-D) leaves.
Everything in `govnlp docs` is ready: views, macros, keyword_search(...) and semantic_search(...)."""


def check_format(fmt: str, output: Path | None) -> None:
    """ValueError unless ``fmt`` is an output format this shell writes (parquet only to a file)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt == "parquet" and output is None:
        raise ValueError("--format parquet needs --output PATH")


def run_query(con: duckdb.DuckDBPyConnection, sql: str, fmt: str = "table", output: Path | None = None, max_rows: int = 40) -> int:
    """Run one statement and write its result; returns the number of rows."""
    check_format(fmt, output)
    rel = con.sql(sql)
    if rel is None:  # a statement without a result (SET, CREATE TEMP ...)
        return 0
    table = rel.fetch_arrow_table()
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, output)
    elif fmt == "csv":
        sink = open(output, "wb") if output else sys.stdout.buffer
        try:
            pacsv.write_csv(table, sink)
        finally:
            if output:
                sink.close()
            else:
                sink.flush()
    elif fmt == "json":
        text = json.dumps(table.to_pylist(), default=str, ensure_ascii=False, indent=1)
        (Path(output).write_text(text + "\n", encoding="utf-8") if output else print(text))
    else:
        text = str(duckdb.from_arrow(table, connection=con).limit(max_rows)) if table.num_rows else "(no rows)\n"
        if table.num_rows > max_rows:
            text += f"({table.num_rows} rows, first {max_rows} shown)\n"
        (Path(output).write_text(text, encoding="utf-8") if output else print(text, end=""))
    return table.num_rows


def _objects(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        "SELECT 'table' AS kind, table_name AS name FROM duckdb_tables() WHERE schema_name = 'main' "
        "UNION ALL SELECT 'view', view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal "
        "UNION ALL SELECT DISTINCT 'macro', function_name FROM duckdb_functions() WHERE function_type = 'table_macro' "
        "AND (schema_name = 'main' OR function_name = 'semantic_search') AND NOT internal ORDER BY 1, 2").fetchall()
    return "\n".join(f"{kind:6} {name}" for kind, name in rows)


def interactive(con: duckdb.DuckDBPyConnection, banner: str) -> None:
    try:
        import readline  # noqa: F401  (line editing and history at the prompt)
    except ImportError:
        pass
    print(banner)
    buffer: list[str] = []
    while True:
        try:
            line = input(MORE if buffer else PROMPT)
        except EOFError:
            print()
            return
        except KeyboardInterrupt:
            print()
            buffer = []
            continue
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            if stripped in (".quit", ".exit", ".q"):
                return
            print(_objects(con) if stripped == ".tables" else HELP)
            continue
        buffer.append(line)
        if not stripped.endswith(";"):
            continue
        sql, buffer = "\n".join(buffer), []
        try:
            run_query(con, sql)
        except duckdb.Error as exc:
            print(f"error: {exc}")
