"""Crash safety, graceful stops, a second writer, analysts reading during a run, schema migrations, export/import.

Every run here is a real `govnlp run` process on a three-seed corpus.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from benchmarks.crash import clean_reference, content, differences, kill_trial, run, runs, start
from conftest import REPO, SEEDS

KILL_POINTS = int(os.environ.get("GOVNLP_KILL_POINTS", "10"))
SMALL_BATCHES = {"GOVNLP_MODEL_BATCH_PARAGRAPHS": "4", "GOVNLP_EMBED_TASK_PARAGRAPHS": "4"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("small-corpus")
    for name in ("000_f0e23e95e569c3c8.txt", "002_ebcb0091893fd720.txt", "004_e194388e1b3b96e1.txt"):
        shutil.copy(SEEDS / name, src / name)
    return src


@pytest.fixture(scope="module")
def clean(corpus, tmp_path_factory, prefect_home, first_run):
    """An uninterrupted run: the content every interrupted run must end up with (after first_run has warmed the Prefect home)."""
    return clean_reference(corpus, tmp_path_factory.mktemp("clean") / "govnlp.duckdb")


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _documents_published(warehouse: Path) -> bool:
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute("SELECT count(*) FROM documents").fetchone()[0] > 0
    except (duckdb.Error, FileNotFoundError):
        return False


def test_killed_runs_resume_to_the_same_content(corpus, clean, tmp_path):
    content_clean, counts_clean, seconds = clean
    rng = random.Random(20261123)
    delays = sorted(round(rng.uniform(0.15, 1.0) * seconds, 1) for _ in range(KILL_POINTS))
    failed = []
    for i, delay in enumerate(delays):
        trial = kill_trial(corpus, tmp_path / f"trial-{i}" / "govnlp.duckdb", delay, content_clean, counts_clean, env=SMALL_BATCHES)
        print(f"kill at {delay:5.1f}s: committed {trial.killed_at} -> {'ok' if trial.ok else trial.problems}")
        if not trial.ok:
            failed.append((delay, trial.problems))
    assert not failed, failed


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_stop_signal_ends_the_run_at_a_batch_boundary(corpus, clean, tmp_path, signum, code):
    warehouse = tmp_path / "govnlp.duckdb"
    args = ("run", "--source", str(corpus), "--warehouse", str(warehouse))
    proc = start(*args, env=SMALL_BATCHES)
    _wait_for(lambda: _documents_published(warehouse), 120, "the ingest stage to publish")
    time.sleep(1.0)
    signalled = time.monotonic()
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr[-2000:]
    assert time.monotonic() - signalled < 30  # a batch of 4 paragraphs, not the rest of the run
    assert f"stopped by {signal.Signals(signum).name}" in stderr and "Traceback" not in stderr
    history = runs(warehouse)
    assert history[-1]["status"] == "cancelled"
    checked = run("check", "--warehouse", str(warehouse))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "pending paragraphs" in checked.stdout
    resumed = run(*args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert differences(clean[0], content(warehouse)) == []


READER = r"""
import json, pathlib, sys, time, duckdb
path, mode, stop, out = sys.argv[1:5]
held = duckdb.connect(path, read_only=True) if mode == "held" else None   # one session kept open for the whole run
seen, errors = [], []
while not pathlib.Path(stop).exists():
    try:
        if held is not None:
            seen.append(held.execute("SELECT count(*) FROM paragraph_annotations").fetchone()[0])
        else:   # a new session each time sees the latest published snapshot
            with duckdb.connect(path, read_only=True) as con:
                seen.append(con.execute("SELECT count(*) FROM paragraph_annotations").fetchone()[0])
    except Exception as exc:
        errors.append(repr(exc))
    time.sleep(0.2)
json.dump({"seen": seen, "errors": errors}, open(out, "w"))
"""


def test_second_writer_and_analysts_during_a_run(corpus, clean, tmp_path):
    warehouse = tmp_path / "govnlp.duckdb"
    args = ("run", "--source", str(corpus), "--warehouse", str(warehouse))
    first = start(*args, env=SMALL_BATCHES)
    _wait_for(warehouse.exists, 120, "the first snapshot")
    stop = tmp_path / "stop"
    readers = {mode: subprocess.Popen([sys.executable, "-c", READER, str(warehouse), mode, str(stop), str(tmp_path / f"{mode}.json")])
               for mode in ("held", "fresh")}
    _wait_for(lambda: _documents_published(warehouse), 120, "the ingest stage to publish")

    # Freeze the first run (it keeps its lock) so that it cannot finish before the other writers try:
    # on a fast machine it used to end while they were still starting, and the backfill then ran.
    first.send_signal(signal.SIGSTOP)
    try:
        busy = start(*args)  # no waiting: a clear message naming the run that holds the warehouse
        busy_backfill = start("backfill", "--stages", "themes", "--warehouse", str(warehouse))  # the same lock
        busy_out, busy_err = busy.communicate(timeout=300)
        backfill_out, backfill_err = busy_backfill.communicate(timeout=300)
    finally:
        first.send_signal(signal.SIGCONT)
    holder = [r["run_id"] for r in runs(warehouse) if r["status"] == "running"]
    assert busy.returncode == 75, busy_err
    assert holder and holder[0] in busy_err and "Traceback" not in busy_err
    assert busy_backfill.returncode == 75 and holder[0] in backfill_err, backfill_err

    waiting = start(*args, env={"GOVNLP_LOCK_TIMEOUT_SECONDS": "600"})  # waits for the lock, then finds nothing new
    _, first_err = first.communicate(timeout=600)
    assert first.returncode == 0, first_err[-2000:]
    _, waiting_err = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, waiting_err[-2000:]
    stop.touch()
    for reader in readers.values():
        reader.wait(timeout=60)
    held, fresh = (json.loads((tmp_path / f"{mode}.json").read_text()) for mode in ("held", "fresh"))
    assert held["errors"] == [] and fresh["errors"] == []
    assert len(held["seen"]) > 5 and len(set(held["seen"])) == 1  # the open session keeps its snapshot, for hours if need be
    assert fresh["seen"] == sorted(fresh["seen"]) and fresh["seen"][-1] > fresh["seen"][0]  # new sessions see the progress
    statuses = [r["status"] for r in runs(warehouse)]
    assert statuses == ["completed", "completed"]
    assert runs(warehouse)[-1]["counts"].get("files", 0) == 0
    assert differences(clean[0], content(warehouse)) == []  # no doubled rows


def test_check_reports_broken_links(first_run, tmp_path):
    broken = tmp_path / "govnlp.duckdb"
    shutil.copy(first_run["warehouse"], broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("DELETE FROM entities WHERE entity_id IN (SELECT entity_id FROM mentions LIMIT 3)")
        con.execute("DELETE FROM embeddings WHERE paragraph_id IN (SELECT paragraph_id FROM embeddings LIMIT 2)")
    checked = run("check", "--warehouse", str(broken))
    assert checked.returncode == 1
    assert "mentions of missing entities" in checked.stderr
    assert "paragraphs marked embedded without a vector" in checked.stderr
    good = run("check", "--warehouse", first_run["warehouse"])
    assert good.returncode == 0 and "ok" in good.stdout


def test_old_warehouse_migrates_with_every_row_kept(tmp_path):
    """tests/fixtures/warehouse-001.duckdb.gz was written by the schema-001 code (commit a5aa2bc) on the seeds."""
    warehouse = tmp_path / "govnlp.duckdb"
    warehouse.write_bytes(gzip.decompress((REPO / "tests" / "fixtures" / "warehouse-001.duckdb.gz").read_bytes()))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name <> 'schema_migrations'").fetchall()]
        before = {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in tables}
    dry = run("migrate", "--dry-run", "--warehouse", str(warehouse))
    assert dry.returncode == 0 and "schema version 1" in dry.stdout and "002_" in dry.stdout
    done = run("migrate", "--warehouse", str(warehouse))
    assert done.returncode == 0, done.stderr
    backups = list((tmp_path / "backups").glob("govnlp.*.v1.duckdb"))
    assert len(backups) == 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] >= 2
        for t in tables:  # every row kept; new columns are NULL on old rows
            old_cols = len(before[t][0]) if before[t] else 0
            after = con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()
            assert [row[:old_cols] for row in after] == before[t], t
        assert con.execute("SELECT count(*) FROM source_files WHERE read_seconds IS NULL").fetchone()[0] == len(before["source_files"])
    assert run("check", "--warehouse", str(warehouse)).returncode == 0
    again = run("migrate", "--warehouse", str(warehouse))
    assert again.returncode == 0 and "already up to date" in again.stdout


def test_export_and_import_round_trip(first_run, tmp_path):
    exported = run("export", str(tmp_path / "export"), "--warehouse", first_run["warehouse"])
    assert exported.returncode == 0, exported.stderr
    manifest = json.loads((tmp_path / "export" / "schema.json").read_text())
    assert manifest["tables"]["paragraphs"]["columns"][0]["comment"]
    restored = tmp_path / "restored" / "govnlp.duckdb"
    imported = run("import", str(tmp_path / "export"), "--warehouse", str(restored))
    assert imported.returncode == 0, imported.stderr
    assert differences(content(Path(first_run["warehouse"])), content(restored), atol=0) == []
    with duckdb.connect(str(restored), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == manifest["rows"]["runs"]
    refused = run("import", str(tmp_path / "export"), "--warehouse", str(restored))
    assert refused.returncode == 2 and "not empty" in refused.stderr


def test_user_text_never_becomes_sql(first_run, tmp_path):
    """Quotes and SQL in a search, a source path and a file name are data, not code."""
    injection = "x'); DROP TABLE documents; --"
    found = run("search", injection, "-k", "2", "--warehouse", first_run["warehouse"])
    assert found.returncode == 0, found.stderr
    copy = tmp_path / "govnlp.duckdb"
    shutil.copy(first_run["warehouse"], copy)
    src = tmp_path / injection.replace("/", "_")
    src.mkdir()
    (src / f"{injection}.txt").write_text(
        "AI safety talks in Geneva\n\nThe Secretary-General spoke about AI safety in Geneva on Monday.\n\n"
        "Delegates from forty countries discussed testing of frontier models and shared evaluation methods.\n", encoding="utf-8")
    done = run("backfill", "--stages", "entities", "--source", str(src), "--warehouse", str(copy))
    assert done.returncode == 0, done.stderr
    ingested = run("run", "--source", str(src), "--stages", "ingest", "--warehouse", str(copy))
    assert ingested.returncode == 0, ingested.stderr
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 6
        assert con.execute("SELECT count(*) FROM documents WHERE source_uri LIKE '%DROP%'").fetchone()[0] == 1
