"""The only code that talks to DuckDB: connection and migrations, writes, queries."""

from govnlp.warehouse import queries, writes
from govnlp.warehouse.connection import WarehouseBusy, WarehouseMissing, WarehouseWriter, migrate, open_reader

__all__ = ["WarehouseWriter", "WarehouseBusy", "WarehouseMissing", "open_reader", "migrate", "queries", "writes"]
