"""Shared fixtures: one real Prefect flow run on the seeds into a temporary warehouse."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "raw"
SHARED = REPO.parent / "shared"

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# A fresh Prefect home migrates its database on first start: slow on a 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    return home


@pytest.fixture(scope="session")
def source_dir(tmp_path_factory) -> Path:
    """The five seeds plus two files that cannot be read."""
    src = tmp_path_factory.mktemp("source")
    for f in SEEDS.glob("*.txt"):
        shutil.copy(f, src / f.name)
    (src / "corrupt.pdf").write_bytes(b"%PDF-1.7\n\x00\x01 this is not a real PDF \xff\xfe")
    (src / "broken.json").write_text('{"title": "unterminated", "text": ', encoding="utf-8")
    return src


@pytest.fixture(scope="session")
def first_run(prefect_home, source_dir, tmp_path_factory) -> dict:
    from flows.ingest import ingest_flow

    warehouse = tmp_path_factory.mktemp("warehouse") / "govnlp.duckdb"
    result = ingest_flow(sources=[str(source_dir)], warehouse=str(warehouse))
    return result


@pytest.fixture()
def db(first_run):
    import duckdb

    con = duckdb.connect(first_run["warehouse"], read_only=True)
    yield con
    con.close()
