"""Kill `govnlp run` at chosen moments and check that nothing is lost, doubled or corrupted.

One trial: start a real `govnlp run` process, SIGKILL it after ``delay``
seconds, check the published snapshot (`govnlp check`), run again to the
end, and compare every table with a clean run's (exact digests; float
columns within 1e-5, since a vector computed in a batch of another shape
may differ in its last bit).  Used by tests/test_reliability.py (10 points)
and by ``python -m benchmarks.kill_trials`` (50).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from govnlp.warehouse import open_reader
from govnlp.warehouse.integrity import fingerprint

GOVNLP = [sys.executable, "-m", "govnlp.cli"]


def _env(extra: dict | None) -> dict:
    """The caller's environment, less its Prefect log level: the CLI's own quiet default applies, as for a user."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_LOGGING_LEVEL"}
    return {**env, **(extra or {})}


def start(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([*GOVNLP, *args], env=_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def interrupt(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a started command as Ctrl-C would; kill it if it does not end within ``timeout`` seconds."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def run(*args: str, env: dict | None = None, timeout: float = 600, input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*GOVNLP, *args], env=_env(env), capture_output=True, text=True, timeout=timeout, input=input_text)


def content(warehouse) -> dict:
    """Every table's fingerprint; ``warehouse`` is a file or a lake (ducklake:...)."""
    con = open_reader(warehouse)
    try:
        return fingerprint(con)
    finally:
        con.close()


def differences(a: dict, b: dict, atol: float = 1e-5) -> list[str]:
    out = []
    for table in sorted(set(a) | set(b)):
        if table not in a or table not in b:
            out.append(f"{table}: only in one warehouse")
            continue
        x, y = a[table], b[table]
        if x["rows"] != y["rows"] or x["digest"] != y["digest"]:
            out.append(f"{table}: {x['rows']} vs {y['rows']} rows, digests {'equal' if x['digest'] == y['digest'] else 'differ'}")
            continue
        for rx, ry in zip(x["floats"], y["floats"]):
            if not all(np.allclose(np.asarray(u, dtype=float), np.asarray(v, dtype=float), atol=atol, rtol=0, equal_nan=True) for u, v in zip(rx, ry)):
                out.append(f"{table}: float values differ beyond {atol}")
                break
    return out


def runs(warehouse: Path) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT run_id, status, counts FROM runs ORDER BY started_at").fetchall()
    return [{"run_id": r, "status": s, "counts": json.loads(c) if c else {}} for r, s, c in rows]


def committed_work(work_file: Path) -> dict:
    """What the killed writer had committed (its private copy; DuckDB replays the WAL on open)."""
    if not work_file.exists():
        return {"documents": 0, "entities": 0, "embedded_texts": 0, "themes": 0}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "work.duckdb"
        shutil.copyfile(work_file, copy)
        wal = Path(f"{work_file}.wal")
        if wal.exists():
            shutil.copyfile(wal, Path(f"{copy}.wal"))
        with duckdb.connect(str(copy)) as con:
            one = lambda q: con.execute(q).fetchone()[0]  # noqa: E731
            tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            if "documents" not in tables:
                return {"documents": 0, "entities": 0, "embedded_texts": 0, "themes": 0}
            return {
                "documents": one("SELECT count(*) FROM documents"),
                "entities": one("SELECT count(*) FROM paragraph_annotations WHERE stage = 'entities'"),
                "embedded_texts": one("SELECT count(DISTINCT text_hash) FROM embeddings"),
                "themes": one("SELECT count(*) FROM paragraph_annotations WHERE stage = 'themes'"),
            }


@dataclass
class Trial:
    delay: float
    killed_at: dict = field(default_factory=dict)  # work committed when killed
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def _descendants(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def kill_trial(corpus: Path, warehouse: Path, delay: float, clean: dict, clean_counts: dict, env: dict | None = None) -> Trial:
    """Kill at ``delay`` s, check, resume, compare with the clean run's content and model work."""
    import psutil

    started = time.perf_counter()
    trial = Trial(delay)
    args = ("run", "--source", str(corpus), "--warehouse", str(warehouse))
    proc = start(*args, env=env)
    time.sleep(delay)
    children = _descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    _, alive = psutil.wait_procs(children, timeout=15)
    if alive:
        trial.problems.append(f"{len(alive)} child process(es) outlived the killed run: {[p.pid for p in alive]}")
        for p in alive:
            p.kill()
    work_file = warehouse.with_name(f".{warehouse.stem}.work.duckdb")
    trial.killed_at = committed_work(work_file)
    if warehouse.exists():
        checked = run("check", "--warehouse", str(warehouse))
        if checked.returncode != 0:
            trial.problems.append(f"check after the kill: {checked.stdout}{checked.stderr}"[-800:])
    resumed = run(*args, env=env)
    if resumed.returncode != 0:
        trial.problems.append(f"resumed run exit {resumed.returncode}: {resumed.stderr[-800:]}")
        return trial
    checked = run("check", "--warehouse", str(warehouse))
    if checked.returncode != 0:
        trial.problems.append(f"check after resuming: {checked.stdout}{checked.stderr}"[-800:])
    trial.problems += differences(clean, content(warehouse))
    history = runs(warehouse)
    if any(r["status"] == "running" for r in history):
        trial.problems.append("a run is still marked running")
    last = history[-1]["counts"]
    # Committed model work is never redone: what the killed run committed plus what the resumed run did equals a clean run.
    for count, committed in (("embedded", "embedded_texts"), ("entity_paragraphs", "entities"), ("themed_paragraphs", "themes")):
        done = trial.killed_at[committed] + last.get(count, 0)
        if done != clean_counts.get(count, 0):
            trial.problems.append(f"{count}: {trial.killed_at[committed]} committed before the kill + {last.get(count, 0)} after = {done}, clean run {clean_counts.get(count, 0)}")
    trial.seconds = round(time.perf_counter() - started, 1)
    return trial


def clean_reference(corpus: Path, warehouse: Path, env: dict | None = None) -> tuple[dict, dict, float]:
    """(content, counts, seconds) of an uninterrupted run."""
    t = time.perf_counter()
    done = run("run", "--source", str(corpus), "--warehouse", str(warehouse), env=env)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"clean run failed: {done.stderr[-2000:]}")
    return content(warehouse), runs(warehouse)[-1]["counts"], seconds
