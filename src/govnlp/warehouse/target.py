"""What `--warehouse` names: a DuckDB file, or a DuckLake (catalog database + data folder).

A DuckDB file lets one process write and, while it writes, no other process
open it; so a file warehouse is written through a private copy and published
by copy-and-rename (connection.py).  A DuckLake keeps its catalog in a
database made for many clients (PostgreSQL across machines, SQLite for
several processes on one machine) and its rows as Parquet files under a data
path, so several writers and readers work on it at once and every commit is
a snapshot (lake.py).  This module only parses the name and writes the
ATTACH statement; nothing here opens a connection.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LAKE_PREFIX = "ducklake:"
CATALOGS = ("postgres", "sqlite")
DATA_PATH_ENV = "GOVNLP_LAKE_DATA_PATH"
ALIAS = "govnlp"  # the name the lake is attached under in our own sessions


class TargetError(ValueError):
    """A --warehouse value that names no usable warehouse."""


@dataclass(frozen=True)
class LakeTarget:
    """A DuckLake: ``catalog`` is ``postgres`` (``location`` a libpq conninfo) or ``sqlite`` (``location`` a file path)."""

    catalog: str
    location: str
    data_path: str | None = None

    @property
    def spec(self) -> str:
        return f"{LAKE_PREFIX}{self.catalog}:{self.location}"

    def __str__(self) -> str:
        return self.spec

    def attach_sql(self, alias: str = ALIAS, read_only: bool = False, data_path: bool = True) -> str:
        """The ATTACH statement (values quoted as SQL literals; the conninfo is the user's own configuration)."""
        options = []
        if data_path and self.data_path:
            options.append(f"DATA_PATH {_literal(self.data_path)}")
        if read_only:
            options.append("READ_ONLY")
        tail = f" ({', '.join(options)})" if options else ""
        return f"ATTACH {_literal(self.spec)} AS {alias}{tail}"

    @property
    def local_files(self) -> Path | None:
        """The folder beside a SQLite catalog where this machine's lock files live (None for PostgreSQL)."""
        return Path(self.location).with_name(Path(self.location).name + ".locks") if self.catalog == "sqlite" else None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def is_lake(warehouse) -> bool:
    return isinstance(warehouse, LakeTarget) or str(warehouse).startswith(LAKE_PREFIX)


def parse_lake(warehouse, data_path: str | None = None) -> LakeTarget:
    """``ducklake:postgres:<conninfo>`` or ``ducklake:sqlite:<path>``; the data path from the argument or GOVNLP_LAKE_DATA_PATH.

    The data path is needed only to create a lake: DuckLake records it in the
    catalog, and later clients (analysts included) read it from there.
    """
    if isinstance(warehouse, LakeTarget):
        return warehouse
    text = str(warehouse)
    rest = text[len(LAKE_PREFIX):]
    catalog, _, location = rest.partition(":")
    if catalog not in CATALOGS or not location.strip():
        raise TargetError(
            f"--warehouse {text}: a lake is ducklake:postgres:<libpq conninfo> (e.g. 'ducklake:postgres:dbname=govnlp host=db.example.org') "
            "or ducklake:sqlite:<catalog file> (several processes on one machine)"
        )
    data = data_path or os.environ.get(DATA_PATH_ENV) or None
    if catalog == "sqlite":
        location = str(Path(location).expanduser().absolute())
        if data is None:
            data = str(Path(location).with_name(Path(location).name + ".files")) + "/"
    if data and "://" not in data:
        data = str(Path(data).expanduser().absolute()) + "/"
    return LakeTarget(catalog, location.strip(), data)
