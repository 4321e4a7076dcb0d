"""DuckDB extensions from their PyPI packages (duckdb-extension-<name>), so that nothing is downloaded at run time."""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb


def extension_path(name: str) -> Path:
    """The signed extension file shipped by ``duckdb-extension-<name>`` for this DuckDB version."""
    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        raise RuntimeError(f"the DuckDB extension {name!r} is not installed: pip install duckdb-extension-{name}=={duckdb.__version__}") from None
    path = Path(package.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: duckdb-extension-{name} must match duckdb {duckdb.__version__}")
    return path


def load(con: duckdb.DuckDBPyConnection, name: str) -> None:
    path = str(extension_path(name)).replace("'", "''")  # an installed package path, quoted for the LOAD statement
    con.execute(f"LOAD '{path}'")
