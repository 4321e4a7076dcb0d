"""A DuckLake warehouse: many writers and readers at once, every commit a snapshot.

What the file warehouse does with a private copy, a lock and copy-and-rename
(connection.py), a lake gets from its catalog: a commit is published the
moment it is made, readers never wait, and a publish costs nothing however
large the warehouse (benchmarks/publish_cost.py).  What the catalog does not
do for us is keep keys unique, so the writers of one lake take turns to
commit (the ``commit`` lock, held for one transaction at a time) and keyed
writes check the stored rows inside that turn (dialect.insert).  Runs of
different sources therefore read, parse and compute at once and interleave
their commits; two runs of one source are kept apart by a lock per source,
which lives in the catalog (locks.py) so writers on other machines see it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import duckdb

from govnlp.warehouse import dialect
from govnlp.warehouse.connection import WarehouseBusy, WarehouseMissing, committed, migrate, pending_migrations, schema_version, utcnow
from govnlp.warehouse.extensions import load
from govnlp.warehouse.locks import acquire, catalog_locks
from govnlp.warehouse.target import ALIAS, LakeTarget

COMMIT_WAIT_SECONDS = 600.0  # a writer waits this long for its turn to commit before it gives up
CATALOG_EXTENSIONS = {"postgres": "postgres_scanner", "sqlite": "sqlite_scanner"}


def connect(target: LakeTarget, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB session with the lake attached as ``govnlp`` and in use; extensions from their PyPI packages, nothing downloaded."""
    con = duckdb.connect(config={"threads": str(os.cpu_count() or 2), "autoinstall_known_extensions": "false"})
    load(con, "ducklake")
    load(con, CATALOG_EXTENSIONS[target.catalog])
    if target.data_path and "://" in target.data_path:
        load(con, "httpfs")  # s3://, gs://, https:// data paths
        _object_store_secret(con)
    con.execute(target.attach_sql(read_only=read_only, data_path=not read_only))
    con.execute(f"USE {ALIAS}")
    return con


def _object_store_secret(con: duckdb.DuckDBPyConnection) -> None:
    """S3 credentials from the usual AWS_* variables, as a DuckDB secret (httpfs does not read them by itself)."""
    from govnlp.warehouse.target import _literal

    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        return
    options = {"KEY_ID": "AWS_ACCESS_KEY_ID", "SECRET": "AWS_SECRET_ACCESS_KEY", "SESSION_TOKEN": "AWS_SESSION_TOKEN",
               "REGION": "AWS_REGION", "ENDPOINT": "AWS_ENDPOINT_URL"}
    given = ", ".join(f"{key} {_literal(os.environ[env])}" for key, env in options.items() if os.environ.get(env))
    con.execute(f"CREATE OR REPLACE SECRET govnlp_s3 (TYPE s3, {given})")


def open_reader(target: LakeTarget) -> duckdb.DuckDBPyConnection:
    """A read-only session on the lake's latest snapshot (it keeps that snapshot until its next transaction)."""
    if target.catalog == "sqlite" and not os.path.exists(target.location):
        raise WarehouseMissing(f"no lake catalog at {target.location}: run `govnlp run --warehouse {target}` first")
    try:
        con = connect(target, read_only=True)
    except duckdb.Error as exc:
        raise WarehouseMissing(f"cannot open the lake {target}: {str(exc).splitlines()[0]}") from None
    if schema_version(con) == 0:
        con.close()
        raise WarehouseMissing(f"the lake {target} holds no warehouse yet: run `govnlp run --warehouse {target}` first")
    dialect.load_macros(con)
    return con


def migrate_lake(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The file migrations through dialect.lake_sql (plus the lake's own table of the comments its catalog cannot hold)."""
    if pending_migrations(con):
        con.execute(dialect.COMMENTS_DDL)
    return migrate(con, transform=dialect.lake_sql)


class LakeWriter:
    """The WarehouseWriter interface on a lake: ``con``, ``transaction()``, ``publish()``, ``holder_info()``."""

    def __init__(self, target: LakeTarget, lock_timeout: float = 0.0, sources=()):
        self.target, self.lock_timeout = target, lock_timeout
        self.sources = sorted({str(s) for s in sources})
        self.con: duckdb.DuckDBPyConnection | None = None
        self.unpublished = False  # a lake publishes every commit
        self.migrated: list[str] = []
        self.info: dict = {"pid": os.getpid()}
        self.locks = None

    def __enter__(self) -> LakeWriter:
        self.locks = catalog_locks(self.target)
        try:
            for source in self.sources:  # sorted: two runs over overlapping sources cannot wait on each other in a circle
                holder = acquire(self.locks, f"run:{source}", self.info, self.lock_timeout, poll=0.5)
                if holder is not None:
                    raise WarehouseBusy(
                        f"the source {source} is being run into the lake {self.target} by {holder}; waited {self.lock_timeout:.0f}s "
                        "(set GOVNLP_LOCK_TIMEOUT_SECONDS to wait longer). Runs of other sources and analysts are not blocked."
                    )
            self.con = connect(self.target)
            with self._turn():
                self.migrated = migrate_lake(self.con)
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None
        if self.locks is not None:
            self.locks.close()
            self.locks = None

    def holder_info(self, **info) -> None:
        """Who holds this writer's locks; with a run_id, the run is marked live for other writers (live_run_ids)."""
        self.info.update(info, since=utcnow().isoformat(timespec="seconds"))
        if info.get("run_id"):
            self.locks.try_acquire(f"live:{info['run_id']}", self.info)

    def live_run_ids(self) -> set[str]:
        """Runs some writer is doing now: their 'running' rows are not a dead process's."""
        return {name.split(":", 1)[1] for name in self.locks.live("live:")}

    def publish(self, only_if_changed: bool = False) -> None:
        """Nothing to do: every commit is already a snapshot readers see."""

    @contextmanager
    def _turn(self):
        holder = acquire(self.locks, "commit", self.info, COMMIT_WAIT_SECONDS)
        if holder is not None:
            raise WarehouseBusy(f"waited {COMMIT_WAIT_SECONDS:.0f}s for a turn to commit to the lake {self.target}; holder: {holder}")
        try:
            yield
        finally:
            self.locks.release("commit")

    @contextmanager
    def transaction(self):
        with self._turn(), committed(self.con) as con:
            yield con


@contextmanager
def poll_lock(target: LakeTarget, name: str):
    """steps.source_lock for a lake: None when this process may poll the source, else the holder."""
    locks = catalog_locks(target)
    try:
        yield locks.try_acquire(f"poll:{name}", {"pid": os.getpid(), "since": utcnow().isoformat(timespec="seconds")})
    finally:
        locks.close()
