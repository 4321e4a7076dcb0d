"""Warehouse: migrations, comments on every table and column, the writer lock, snapshots."""

from __future__ import annotations

import duckdb
import pytest

from govnlp.warehouse import WarehouseBusy, WarehouseWriter, migrate
from govnlp.warehouse.connection import migrations


def test_migrations_apply_once_and_are_numbered():
    con = duckdb.connect()
    assert migrate(con) == [name for _, name, _ in migrations()]
    assert migrate(con) == []
    versions = [v for v, _, _ in migrations()]
    assert versions == sorted(versions) == list(range(1, len(versions) + 1))


def test_every_table_and_column_has_a_comment():
    con = duckdb.connect()
    migrate(con)
    tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE comment IS NULL OR comment = ''").fetchall()
    columns = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal AND (comment IS NULL OR comment = '')").fetchall()
    assert tables == [] and columns == []


def test_second_writer_gets_a_clear_message_naming_the_holder(tmp_path):
    pub, work, lock = tmp_path / "w.duckdb", tmp_path / ".w.work.duckdb", tmp_path / ".w.lock"
    with WarehouseWriter(pub, work, lock) as first:
        first.holder_info(run_id="run-123")
        with pytest.raises(WarehouseBusy, match="run-123"):
            with WarehouseWriter(pub, work, lock, lock_timeout=0.6):
                pass
    with WarehouseWriter(pub, work, lock):  # released: a later writer gets in
        pass


def test_publish_makes_committed_state_visible_to_a_new_reader_and_spares_open_ones(tmp_path):
    pub, work, lock = tmp_path / "w.duckdb", tmp_path / ".w.work.duckdb", tmp_path / ".w.lock"
    with WarehouseWriter(pub, work, lock) as writer:
        writer.publish()
        reader = duckdb.connect(str(pub), read_only=True)
        with writer.transaction() as con:
            con.execute("INSERT INTO ingest_errors VALUES ('r', 'file:///x', NULL, 'ingest', 'empty_file', 'empty', now())")
        writer.publish()  # not blocked by the open reader
        assert reader.execute("SELECT count(*) FROM ingest_errors").fetchone()[0] == 0  # its snapshot
        reader.close()  # (in one process DuckDB shares an open file's instance; a new session must reconnect)
        with duckdb.connect(str(pub), read_only=True) as fresh:
            assert fresh.execute("SELECT count(*) FROM ingest_errors").fetchone()[0] == 1


def test_lost_working_copy_is_recovered_from_the_snapshot(tmp_path):
    pub, work, lock = tmp_path / "w.duckdb", tmp_path / ".w.work.duckdb", tmp_path / ".w.lock"
    with WarehouseWriter(pub, work, lock) as writer:
        with writer.transaction() as con:
            con.execute("INSERT INTO ingest_errors VALUES ('r', 'file:///x', NULL, 'ingest', 'empty_file', 'empty', now())")
    work.unlink()
    with WarehouseWriter(pub, work, lock) as writer:
        assert writer.con.execute("SELECT count(*) FROM ingest_errors").fetchone()[0] == 1
