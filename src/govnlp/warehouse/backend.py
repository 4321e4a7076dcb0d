"""One interface for both kinds of warehouse: callers name the warehouse, this picks the file or the lake code.

``open_reader`` gives a read-only DuckDB connection whose current database
is the warehouse; ``open_writer`` gives an object with ``con``,
``transaction()``, ``publish()``, ``holder_info()`` and ``live_run_ids()``.
Everything above (steps, queries, writes, the CLI) works on those alone.
"""

from __future__ import annotations

from pathlib import Path

from govnlp.warehouse import connection
from govnlp.warehouse.target import is_lake, parse_lake


def open_reader(warehouse, data_path: str | None = None):
    if is_lake(warehouse):
        from govnlp.warehouse import lake

        return lake.open_reader(parse_lake(warehouse, data_path))
    return connection.open_reader(Path(warehouse))


def open_writer(settings, sources=()):
    """The writer for ``settings.warehouse``; on a lake it locks ``sources`` (a file's writer locks the whole file)."""
    if is_lake(settings.warehouse):
        from govnlp.warehouse.lake import LakeWriter

        return LakeWriter(parse_lake(settings.warehouse, settings.lake_data_path), settings.lock_timeout_seconds, sources)
    return connection.WarehouseWriter(settings.warehouse, settings.work_file, settings.lock_file, settings.lock_timeout_seconds)
