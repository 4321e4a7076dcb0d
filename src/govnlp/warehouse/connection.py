"""Opening the warehouse: one writer with a private copy, readers on a published snapshot.

DuckDB lets one process write a database file, and while it does no other
process can open that file, not even read-only.  So the writer never opens
the file analysts read: it works on ``.govnlp.work.duckdb`` beside it, under
an exclusive lock, and after each committed stage copies it (CHECKPOINT,
copy, fsync, atomic rename) over ``govnlp.duckdb``.  A reader sees the last
published state and keeps its own view for as long as its session lasts;
the rename never waits for readers.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa

MIGRATIONS_PACKAGE = "govnlp.warehouse.migrations"


class WarehouseBusy(RuntimeError):
    pass


class WarehouseMissing(FileNotFoundError):
    pass


def migrations() -> list[tuple[int, str, str]]:
    files = sorted(p for p in resources.files(MIGRATIONS_PACKAGE).iterdir() if p.name.endswith(".sql"))
    return [(int(p.name.split("_", 1)[0]), p.name, p.read_text(encoding="utf-8")) for p in files]


def _ensure_migrations_table(con: duckdb.DuckDBPyConnection, transform=None) -> None:
    ddl = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    con.execute(transform(ddl) if transform else ddl)
    con.execute("COMMENT ON TABLE schema_migrations IS 'Schema migrations applied to this file, in order.'")
    con.execute("COMMENT ON COLUMN schema_migrations.version IS 'Migration number (the file name prefix).'")
    con.execute("COMMENT ON COLUMN schema_migrations.name IS 'Migration file name.'")
    con.execute("COMMENT ON COLUMN schema_migrations.applied_at IS 'UTC time it was applied.'")


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied (0 for an empty file)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = 'schema_migrations'"
    ).fetchone()[0]
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0] if exists else 0


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """Table name -> comment, for the file's own tables."""
    return dict(con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' ORDER BY 1"
    ).fetchall())


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, str | None]]:
    """(name, type, comment) of a table's columns, in order."""
    return con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = current_database() "
        "AND table_name = ? ORDER BY column_index", [table],
    ).fetchall()


def pending_migrations(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str]]:
    current = schema_version(con)
    return [m for m in migrations() if m[0] > current]


def migrate(con: duckdb.DuckDBPyConnection, backup: Path | None = None, transform=None) -> list[str]:
    """Apply the pending migrations in one transaction; returns their names.

    ``backup``: where to copy the file first when it already holds data (the
    caller's database file is checkpointed, then copied and fsynced).
    ``transform``: rewrites each migration's SQL for another catalog (a lake: dialect.lake_sql).
    """
    todo = pending_migrations(con)
    if not todo:
        return []
    if backup is not None and schema_version(con) > 0:
        con.execute("CHECKPOINT")
        source = Path(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0])
        backup.parent.mkdir(parents=True, exist_ok=True)
        copy_durably(source, backup)
    con.begin()
    try:
        _ensure_migrations_table(con, transform)
        for version, name, sql in todo:
            con.execute(transform(sql) if transform else sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, utcnow()])
        con.commit()
    except Exception:
        con.rollback()
        raise
    return [name for _, name, _ in todo]


def copy_durably(source: Path, target: Path) -> None:
    """Copy to a temporary name, fsync, rename: the target is whole or absent, never half-written."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def registered_keys(con: duckdb.DuckDBPyConnection, values, name: str = "_govnlp_keys"):
    """Expose a list of strings as a one-column view ``k``: binding a long Python list as a parameter is slow."""
    con.register(name, pa.table({"k": pa.array([str(v) for v in values], pa.string())}))
    try:
        yield name
    finally:
        con.unregister(name)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=read_only, config={"threads": str(os.cpu_count() or 2)})


def _holder_text(raw: bytes) -> str:
    try:
        info = json.loads(raw.decode() or "{}")
    except ValueError:
        info = {}
    if not info.get("run_id"):
        return f"another process (pid {info.get('pid', '?')})"
    return f"run {info['run_id']} ({info.get('flow', '?')} flow, pid {info.get('pid', '?')}, since {info.get('since', '?')} UTC)"


class WarehouseWriter:
    """The single writer: holds the lock and the working copy, publishes snapshots."""

    def __init__(self, published: Path, work: Path, lock: Path, lock_timeout: float = 0.0):
        self.published, self.work, self.lock_path = Path(published), Path(work), Path(lock)
        self.lock_timeout = lock_timeout
        self._lock_fd: int | None = None
        self.con: duckdb.DuckDBPyConnection | None = None
        self.unpublished = True  # committed changes the snapshot lacks
        self.migrated: list[str] = []

    def __enter__(self) -> WarehouseWriter:
        self.published.parent.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        try:
            self._remove_stale_temporaries()
            if not self.work.exists() and self.published.exists():
                copy_durably(self.published, self.work)  # recover the working copy from the last snapshot
            self.con = _connect(self.work)
            stamp = utcnow().strftime("%Y%m%dT%H%M%S")
            self.migrated = migrate(self.con, backup=self.published.parent / "backups" / f"{self.published.stem}.{stamp}.v{schema_version(self.con)}.duckdb")
            if self.migrated:
                self.publish()
        except BaseException:
            self._release_lock()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.con is not None:
                self.publish()
                self.con.close()
                self.con = None
        finally:
            self._release_lock()

    def _remove_stale_temporaries(self) -> None:
        """Half-copied snapshots left by a process killed while publishing (we hold the lock: none is live)."""
        for tmp in self.published.parent.glob(".*.tmp"):
            if tmp.name.startswith((f".{self.published.name}.", f".{self.work.name}.")):
                tmp.unlink(missing_ok=True)

    def holder_info(self, **info) -> None:
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, json.dumps({"pid": os.getpid(), "since": utcnow().isoformat(timespec="seconds"), **info}).encode(), 0)

    def _acquire_lock(self) -> None:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder_text(os.pread(fd, 4096, 0))
                    os.close(fd)
                    raise WarehouseBusy(
                        f"the warehouse {self.published} is being written by {holder}; "
                        f"waited {self.lock_timeout:.0f}s (set GOVNLP_LOCK_TIMEOUT_SECONDS to wait longer). "
                        "Reading it is never blocked: analysts can query it meanwhile."
                    ) from None
                time.sleep(0.5)
        self._lock_fd = fd
        self.holder_info()

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def live_run_ids(self) -> set[str]:
        """Runs being written now by other processes: none, since this writer holds the file's only lock."""
        return set()

    def publish(self, only_if_changed: bool = False) -> None:
        """Atomically replace the published snapshot with the committed working state."""
        if only_if_changed and not self.unpublished:
            return
        self.con.execute("CHECKPOINT")
        self.con.close()
        try:
            copy_durably(self.work, self.published)
            self.unpublished = False
        finally:
            self.con = _connect(self.work)

    @contextmanager
    def transaction(self):
        with committed(self.con) as con:
            yield con
        self.unpublished = True


@contextmanager
def committed(con: duckdb.DuckDBPyConnection):
    """One transaction: committed when the block ends, rolled back when it raises (file and lake writers alike)."""
    con.begin()
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    con.commit()


def open_reader(published: Path) -> duckdb.DuckDBPyConnection:
    """A read-only session on the published snapshot (what analysts and `govnlp status` use)."""
    published = Path(published)
    if not published.exists():
        raise WarehouseMissing(f"no warehouse at {published}: run `govnlp run` first")
    return _connect(published, read_only=True)
