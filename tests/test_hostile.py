"""A run over 1,000+ hostile files with the seeds mixed in: no crash, every file accounted for, seeds intact.

The corpus comes from tests/hostile.py (bombs, broken PDFs, deep HTML,
symlinks out of the root, FIFOs, odd names, odd encodings, ...).  The run is
a real `govnlp run` process; its memory is sampled over the whole process
tree.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import duckdb
import psutil
import pytest

from benchmarks.crash import start
from conftest import SEEDS
from hostile import HOSTILE_MARKER, make_hostile_corpus

MEMORY_CAP_MB = 2048
FILE_TIMEOUT_S = 60


class TreeMemory(threading.Thread):
    """Peak memory of a process and its descendants (proportional set size: shared pages counted once), sampled every 0.2 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root, self.peak, self.done = psutil.Process(pid), 0, False

    def run(self) -> None:
        while not self.done:
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_full_info().pss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, prefect_home):
    base = tmp_path_factory.mktemp("hostile")
    root, outside = base / "root", base / "outside"
    files = make_hostile_corpus(root, outside, seed=0, fillers=1000, big_mb=200)
    for seed in SEEDS.glob("*.txt"):
        shutil.copy(seed, root / seed.name)
    warehouse = base / "w" / "govnlp.duckdb"
    proc = start("run", "--source", str(root), "--warehouse", str(warehouse),
                 env={"GOVNLP_WORKER_MEMORY_MB": str(MEMORY_CAP_MB), "GOVNLP_FILE_TIMEOUT_SECONDS": str(FILE_TIMEOUT_S)})
    memory = TreeMemory(proc.pid)
    memory.start()
    t = time.perf_counter()
    stdout, stderr = proc.communicate(timeout=1800)
    memory.done = True
    con = duckdb.connect(str(warehouse), read_only=True)
    yield {"files": files, "root": root, "returncode": proc.returncode, "stdout": stdout, "stderr": stderr,
           "peak_mb": memory.peak / 2**20, "seconds": time.perf_counter() - t, "con": con}
    con.close()
    shutil.rmtree(base, ignore_errors=True)  # the corpus holds a 200 MB file


def test_hostile_run_finishes_and_accounts_for_every_file(hostile_run):
    r, con = hostile_run, hostile_run["con"]
    assert len(r["files"]) >= 1000
    assert r["returncode"] == 0, r["stderr"][-3000:]
    assert "Traceback" not in r["stderr"]
    stored = {u for (u,) in con.execute("SELECT DISTINCT source_uri FROM documents").fetchall()}
    errors = dict(con.execute("SELECT source_uri, any_value(error_type) FROM ingest_errors GROUP BY 1").fetchall())
    unaccounted, wrong = [], []
    for f in r["files"]:
        uri = (r["root"] / f.name).absolute().as_uri()
        if f.expect == "skip":
            continue
        if uri not in stored and uri not in errors:
            unaccounted.append((f.kind, f.name))
        if f.expect == "error" and uri in stored:
            wrong.append((f.kind, f.name, "stored"))
        if f.expect == "ingest" and uri not in stored:
            wrong.append((f.kind, f.name, errors.get(uri)))
    assert not unaccounted, unaccounted[:20]
    assert not wrong, wrong[:20]
    # Every rejection says specifically why (no catch-all reasons).
    kinds = {k for (k,) in con.execute("SELECT DISTINCT error_type FROM ingest_errors").fetchall()}
    assert not kinds & {"reader_error", "worker_crashed"}, kinds
    assert {"empty_file", "too_large", "bad_pdf", "encrypted_pdf", "bad_json", "bad_front_matter", "outside_source", "not_a_regular_file"} <= kinds


def test_hostile_run_reads_nothing_outside_the_root_and_executes_nothing(hostile_run):
    con = hostile_run["con"]
    assert con.execute("SELECT count(*) FROM paragraphs WHERE contains(text, ?)", [HOSTILE_MARKER]).fetchone()[0] == 0
    assert not Path("/tmp/HOSTILE_PWNED").exists()
    outside = con.execute("SELECT count(*) FROM ingest_errors WHERE error_type = 'outside_source'").fetchone()[0]
    assert outside >= 2


def test_hostile_run_stays_within_memory_and_time_limits(hostile_run):
    con = hostile_run["con"]
    assert hostile_run["peak_mb"] < MEMORY_CAP_MB, hostile_run["peak_mb"]
    slowest = con.execute("SELECT max(read_seconds) FROM source_files").fetchone()[0]
    assert slowest is not None and slowest < FILE_TIMEOUT_S
    stored = con.execute("SELECT count(DISTINCT source_uri) FROM documents").fetchone()[0]
    rejected = con.execute("SELECT count(DISTINCT source_uri) FROM ingest_errors").fetchone()[0]
    reasons = con.execute("SELECT error_type, count(*) FROM ingest_errors GROUP BY 1 ORDER BY 2 DESC").fetchall()
    print(f"hostile: {len(hostile_run['files'])} files, {stored} stored, {rejected} listed in ingest_errors {reasons}, "
          f"{hostile_run['seconds']:.0f} s, peak tree PSS {hostile_run['peak_mb']:.0f} MB, slowest file {slowest:.1f} s")


def test_seeds_come_out_as_in_a_clean_run(hostile_run, db):
    """The seeds' documents, paragraphs and entity mentions equal those of the clean session run."""
    query = """
        SELECT d.title, d.published_on, d.publisher, d.doc_type, d.content_hash, d.paragraph_count,
               list(p.text_hash || ':' || coalesce(p.duplicate_kind, '') ORDER BY p.position) AS paragraphs,
               (SELECT list(e.canonical_name || '/' || m.label || '@' || m.start_char ORDER BY m.paragraph_id, m.start_char)
                FROM mentions m JOIN paragraphs q USING (paragraph_id) JOIN entities e USING (entity_id) WHERE q.doc_id = d.doc_id) AS mentions
        FROM documents d JOIN paragraphs p ON p.doc_id = d.doc_id
        WHERE d.source_uri LIKE '%/0__\\_%.txt' ESCAPE '\\' GROUP BY ALL ORDER BY d.content_hash
    """
    hostile = hostile_run["con"].execute(query).fetchall()
    clean = db.execute(query).fetchall()
    assert len(clean) == 5 and hostile == clean
