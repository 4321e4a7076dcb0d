"""Named locks that every writer of one lake sees: in the PostgreSQL catalog, or beside a SQLite catalog.

A file warehouse locks with flock beside the file (connection.py); writers
of a lake may run on other machines, so their locks live where the lake's
catalog lives.  In PostgreSQL a lock is a row of ``govnlp_locks`` (name is
the key, so only one INSERT of a name succeeds) that its holder refreshes
every few seconds; a row not refreshed for ``LEASE_SECONDS`` is a dead
holder's and is taken over (a killed process releases nothing), and on its
own machine a holder whose process is gone is taken over at once.  A SQLite
catalog serves processes of one machine, so there flock on files beside the
catalog does the same, and the kernel releases a dead holder's lock.

Three kinds of names are used (lake.py): ``commit`` serialises the writers'
transactions (short), ``run:<source>`` keeps two runs off one source, and
``poll:<name>`` keeps two polls of one web source apart.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

import duckdb

from govnlp.warehouse.extensions import load
from govnlp.warehouse.target import LakeTarget, _literal

LEASE_SECONDS = 60.0
HEARTBEAT_SECONDS = 5.0
TABLE = "govnlp_locks"
HOST = socket.gethostname()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PostgresLocks:
    """Lock rows in the catalog database, refreshed by a heartbeat thread while held."""

    def __init__(self, target: LakeTarget):
        self._db = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
        load(self._db, "postgres_scanner")
        self._db.execute(f"ATTACH {_literal(target.location)} AS catalog (TYPE postgres)")
        self._mutex = threading.Lock()
        self._execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, token TEXT NOT NULL, holder TEXT, host TEXT, pid INTEGER, heartbeat TIMESTAMPTZ NOT NULL)")
        self._held: dict[str, str] = {}  # name -> token
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def _execute(self, sql: str) -> None:
        with self._mutex:
            self._db.execute(f"CALL postgres_execute('catalog', {_literal(sql)})")

    def _query(self, sql: str) -> list[tuple]:
        with self._mutex:
            return self._db.execute(f"SELECT * FROM postgres_query('catalog', {_literal(sql)})").fetchall()

    def try_acquire(self, name: str, info: dict) -> str | None:
        """None when this process now holds ``name``; else the holder's description."""
        token = uuid.uuid4().hex
        n = _literal(name)
        self._execute(f"DELETE FROM {TABLE} WHERE name = {n} AND heartbeat < now() - interval '{LEASE_SECONDS} seconds'")
        self._execute(
            f"INSERT INTO {TABLE} VALUES ({n}, '{token}', {_literal(json.dumps(info))}, {_literal(HOST)}, {os.getpid()}, now()) "
            "ON CONFLICT (name) DO NOTHING"
        )
        rows = self._query(f"SELECT token, holder, host, pid FROM {TABLE} WHERE name = {n}")
        if rows and rows[0][0] == token:
            self._held[name] = token
            self._start_heartbeat()
            return None
        if rows and rows[0][2] == HOST and rows[0][3] != os.getpid() and not _alive(rows[0][3]):
            self._execute(f"DELETE FROM {TABLE} WHERE name = {n} AND token = {_literal(rows[0][0])}")  # a dead process of this machine
            return self.try_acquire(name, info)
        return rows[0][1] if rows else "{}"

    def release(self, name: str) -> None:
        token = self._held.pop(name, None)
        if token is not None:
            self._execute(f"DELETE FROM {TABLE} WHERE name = {_literal(name)} AND token = '{token}'")

    def held(self) -> set[str]:
        return set(self._held)

    def live(self, prefix: str) -> dict[str, str]:
        """name -> holder of the unexpired locks whose name starts with ``prefix`` (any process)."""
        rows = self._query(
            f"SELECT name, holder FROM {TABLE} WHERE starts_with(name, {_literal(prefix)}) "
            f"AND heartbeat >= now() - interval '{LEASE_SECONDS} seconds'"
        )
        return dict(rows)

    def _start_heartbeat(self) -> None:
        if self._beat is None:
            self._beat = threading.Thread(target=self._heartbeat, name="govnlp-lock-heartbeat", daemon=True)
            self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            tokens = list(self._held.values())
            if tokens:
                try:
                    self._execute(f"UPDATE {TABLE} SET heartbeat = now() WHERE token IN ({', '.join(repr(t) for t in tokens)})")
                except duckdb.Error:
                    pass  # the next beat tries again; a lease outlives a few missed beats

    def close(self) -> None:
        for name in list(self._held):
            self.release(name)
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=HEARTBEAT_SECONDS + 1)
        self._db.close()


class FileLocks:
    """flock on files beside a SQLite catalog (processes of one machine; the kernel frees a dead holder's lock)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._held: dict[str, int] = {}

    def _path(self, name: str) -> Path:
        return self.folder / (hashlib.sha256(name.encode()).hexdigest()[:32] + ".lock")

    def try_acquire(self, name: str, info: dict) -> str | None:
        fd = os.open(self._path(name), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode(errors="replace") or "{}"
            os.close(fd)
            return holder
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"name": name, **info}).encode(), 0)
        self._held[name] = fd
        return None

    def release(self, name: str) -> None:
        fd = self._held.pop(name, None)
        if fd is not None:
            if name.startswith("live:"):  # one file per run: remove it rather than keep one per run ever made
                self._path(name).unlink(missing_ok=True)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def held(self) -> set[str]:
        return set(self._held)

    def live(self, prefix: str) -> dict[str, str]:
        found = {}
        for path in self.folder.glob("*.lock"):
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:  # a run's file removed as it ended
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    continue  # nobody holds it
                except BlockingIOError:
                    raw = os.pread(fd, 4096, 0).decode(errors="replace")
            finally:
                os.close(fd)
            try:
                info = json.loads(raw)
            except ValueError:
                continue
            if str(info.get("name", "")).startswith(prefix):
                found[info["name"]] = raw
        return found

    def close(self) -> None:
        for name in list(self._held):
            self.release(name)


def catalog_locks(target: LakeTarget):
    return PostgresLocks(target) if target.catalog == "postgres" else FileLocks(target.local_files)


def acquire(locks, name: str, info: dict, timeout: float, poll: float = 0.05) -> str | None:
    """Wait up to ``timeout`` seconds for ``name``; None once held, else the holder's description."""
    deadline = time.monotonic() + timeout
    while True:
        holder = locks.try_acquire(name, info)
        if holder is None or time.monotonic() >= deadline:
            return holder
        time.sleep(poll)
