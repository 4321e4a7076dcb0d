"""The only code that talks to DuckDB: a DuckDB file or a DuckLake behind one interface (backend.py), writes, queries."""

from govnlp.warehouse import queries, writes
from govnlp.warehouse.backend import open_reader, open_writer
from govnlp.warehouse.connection import WarehouseBusy, WarehouseMissing, WarehouseWriter, migrate

__all__ = ["WarehouseWriter", "WarehouseBusy", "WarehouseMissing", "open_reader", "open_writer", "migrate", "queries", "writes"]
