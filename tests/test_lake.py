"""The warehouse as a DuckLake: the same schema and rows as a file, writers at once, analysts meanwhile, export/import.

PostgreSQL is real (tests/postgres.py starts Debian's server on a Unix
socket); without its binaries the PostgreSQL tests skip, and with CI set
they fail instead.  The SQLite-catalog tests need nothing but the DuckDB
extension packages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from benchmarks.crash import content, differences, interrupt, run, start
from benchmarks.postgres import PostgresServer, binaries
from conftest import SEEDS
from govnlp.warehouse import dialect, open_reader
from govnlp.warehouse.connection import columns, migrate, migrations, tables
from govnlp.warehouse.dictionary import catalog, missing_comments
from govnlp.warehouse.extensions import extension_path
from govnlp.warehouse.lake import LakeWriter
from govnlp.warehouse.target import TargetError, parse_lake

SEED_FILES = sorted(SEEDS.glob("*.txt"))


@pytest.fixture(scope="session")
def postgres():
    bin_dir = binaries()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing (apt-get install -y postgresql; .ci/run does it)")
        pytest.skip("PostgreSQL server binaries are missing (apt-get install -y postgresql)")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture()
def pg_lake(postgres, tmp_path, monkeypatch) -> str:
    """A new, empty lake: a fresh catalog database and a data folder (GOVNLP_LAKE_DATA_PATH)."""
    conninfo = postgres.create_database(f"lake_{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("GOVNLP_LAKE_DATA_PATH", str(tmp_path / "lake-data"))
    return f"ducklake:postgres:{conninfo}"


def _folder(tmp_path: Path, name: str, files: list[Path]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name)
    return folder


# ---- the schema on a lake (SQLite catalog: no server needed) ----

def test_lake_dialect_drops_only_what_a_lake_cannot_hold():
    for _, name, sql in migrations():
        lake = re.sub(r"--[^\n]*", "", dialect.lake_sql(sql))  # SQL comments may name what they like
        for refused in ("PRIMARY KEY", "FLOAT[384]", "CREATE MACRO", "COMMENT ON MACRO", "array_cosine_similarity("):
            assert refused not in lake, (name, refused)
        assert lake.count("CREATE TABLE") == sql.count("CREATE TABLE") and lake.count("CREATE VIEW") == sql.count("CREATE VIEW"), name
    assert dialect.table_keys()["mentions"] == ("paragraph_id", "start_char", "end_char")


def test_lake_schema_equals_the_file_schema(tmp_path):
    """Tables, columns, comments, views and macros as in a file; only the vector type changes (FLOAT[384] -> FLOAT[])."""
    target = parse_lake(f"ducklake:sqlite:{tmp_path / 'catalog.sqlite'}")
    with LakeWriter(target) as writer:
        assert writer.migrated == [name for _, name, _ in migrations()]
    file = duckdb.connect()
    migrate(file)
    lake = open_reader(target.spec)
    assert list(tables(lake)) == list(tables(file))
    for table in tables(file):
        expected = [(c, t.replace("FLOAT[384]", "FLOAT[]"), k) for c, t, k in columns(file, table)]
        assert columns(lake, table) == expected, table
    in_file, in_lake = catalog(file), catalog(lake)
    assert missing_comments(in_lake) == []
    assert sorted((o.kind, o.name, o.comment) for o in in_lake) == sorted((o.kind, o.name, o.comment) for o in in_file)
    assert {o.name: o.columns for o in in_lake if o.kind == "view"} == {
        o.name: [(c, t.replace("FLOAT[384]", "FLOAT[]"), k) for c, t, k in o.columns] for o in in_file if o.kind == "view"}
    with LakeWriter(target) as again:  # a second writer finds nothing to migrate
        assert again.migrated == []


def test_bad_lake_names_are_argument_errors(tmp_path):
    with pytest.raises(TargetError):
        parse_lake("ducklake:oracle:whatever")
    wrong = run("status", "--warehouse", "ducklake:mysql:db=x")
    assert wrong.returncode == 2 and "ducklake:postgres:" in wrong.stderr and "Traceback" not in wrong.stderr
    missing = run("status", "--warehouse", f"ducklake:sqlite:{tmp_path / 'none.sqlite'}")
    assert missing.returncode == 1 and "no lake catalog" in missing.stderr


# ---- the pipeline into a lake (PostgreSQL catalog) ----

def test_seeds_into_a_lake_give_the_file_run_rows(first_run, source_dir, pg_lake, tmp_path):
    """Every stage, the same rows and digests as the file run; analysts attach it read-only from plain DuckDB."""
    from flows.ingest import ingest_flow

    result = ingest_flow(sources=[str(source_dir)], warehouse=pg_lake)
    assert result["counts"]["documents"] == first_run["counts"]["documents"]
    assert differences(content(Path(first_run["warehouse"])), content(pg_lake)) == []
    checked = run("check", "--warehouse", pg_lake)
    assert checked.returncode == 0 and "ok" in checked.stdout, checked.stdout + checked.stderr
    # The README's ATTACH lines, under another name than govnlp's own sessions use.
    con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    for name in ("ducklake", "postgres_scanner"):
        con.execute(f"LOAD '{extension_path(name)}'")
    con.execute(f"ATTACH '{pg_lake}' AS analysis (READ_ONLY)")
    con.execute("USE analysis")
    assert con.execute("SELECT sum(documents) FROM documents_per_month").fetchone()[0] == first_run["counts"]["documents"]
    with pytest.raises(duckdb.Error):
        con.execute("DELETE FROM documents")
    for (definition,) in con.execute("SELECT definition FROM lake_meta.macros").fetchall():
        con.execute(definition)
    assert con.execute("SELECT count(*) FROM top_entities(n := 3)").fetchone()[0] == 3
    # The session govnlp sql opens: keyword search (BM25, built in memory) and semantic search.
    found = run("sql", "--warehouse", pg_lake, "--format", "json",
                "SELECT (SELECT count(*) FROM keyword_search('capacity building', k := 3)) AS keyword, "
                "(SELECT count(*) FROM semantic_search('capacity building for developing countries', k := 3)) AS semantic")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == [{"keyword": 3, "semantic": 3}]
    searched = run("search", "capacity building for developing countries", "-k", "2", "--warehouse", pg_lake)
    assert searched.returncode == 0 and "capacity" in searched.stdout.lower(), searched.stderr


ANALYST_QUERY = "SELECT count(*) AS documents, (SELECT count(*) FROM who_said_what) AS quotes FROM documents"


def test_two_writers_and_an_analyst_at_once(first_run, pg_lake, tmp_path):
    """Two runs on two folders write one lake at the same time; `govnlp sql` meanwhile never errors."""
    folders = [_folder(tmp_path, "a", SEED_FILES[:3]), _folder(tmp_path, "b", SEED_FILES[3:])]
    run("migrate", "--warehouse", pg_lake)  # both writers then start on a migrated lake (they could migrate too, one after the other)
    writers = [start("run", "--source", str(f), "--warehouse", pg_lake, "--stages", "ingest,entities,embed") for f in folders]
    analyst, seen, started = [], [], time.monotonic()
    while any(w.poll() is None for w in writers) and time.monotonic() - started < 900:
        both = all(w.poll() is None for w in writers)
        answer = run("sql", "--warehouse", pg_lake, "--format", "json", ANALYST_QUERY)
        analyst.append((both, answer.returncode, answer.stderr[-500:]))
        if answer.returncode == 0:
            seen.append(json.loads(answer.stdout)[0]["documents"])
    outcomes = [w.communicate(timeout=60) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [err[-2000:] for _, err in outcomes]
    assert [(code, err) for _, code, err in analyst if code != 0] == []
    assert sum(1 for both, _, _ in analyst if both) >= 2, "the analyst queried fewer than twice while both writers ran"
    assert seen == sorted(seen)
    con = open_reader(pg_lake)
    assert con.execute("SELECT count(*), count(DISTINCT status) FROM runs WHERE status = 'completed'").fetchone() == (2, 1)
    runs = con.execute("SELECT started_at, finished_at FROM runs ORDER BY started_at").fetchall()
    assert runs[1][0] < runs[0][1], "the two runs did not overlap"
    for table, keys in dialect.table_keys().items():  # no key stored twice, though the catalog does not enforce keys
        key = ", ".join(f'"{k}"' for k in keys)
        assert con.execute(f"SELECT count(*) - count(DISTINCT ({key})) FROM {table}").fetchone()[0] == 0, table
    file = open_reader(first_run["warehouse"])
    for table in ("documents", "paragraphs", "entities", "mentions", "quotes", "embeddings"):
        query = f"SELECT count(*) FROM {table}" + (" WHERE duplicate_of IS NULL" if table in ("documents", "paragraphs") else "")
        assert con.execute(query).fetchone() == file.execute(query).fetchone(), table
    assert run("check", "--warehouse", pg_lake).returncode == 0


def test_two_runs_of_one_source_do_not_overlap(pg_lake, tmp_path):
    """The per-source lock lives in the catalog: a second run of the same folder is refused (exit 75) while the first runs."""
    from govnlp.warehouse.locks import PostgresLocks

    folder = _folder(tmp_path, "one", SEED_FILES[:2])
    first = start("run", "--source", str(folder), "--warehouse", pg_lake)  # every stage: long enough for the second to start
    locks = PostgresLocks(parse_lake(pg_lake))
    try:
        deadline = time.monotonic() + 300
        while not locks.live("run:") and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list(locks.live("run:")) == [f"run:{folder}"], "the first run never took its source lock"
    finally:
        locks.close()
    second = run("run", "--source", str(folder), "--warehouse", pg_lake, "--stages", "ingest")
    first.communicate(timeout=600)
    assert first.returncode == 0
    assert second.returncode == 75 and "is being run into the lake" in second.stderr and "Traceback" not in second.stderr, second.stderr


# ---- export / import between a file and a lake, both ways (SQLite catalog) ----

def test_export_import_file_to_lake_to_file(first_run, tmp_path):
    lake = f"ducklake:sqlite:{tmp_path / 'catalog.sqlite'}"
    assert run("export", str(tmp_path / "from-file"), "--warehouse", first_run["warehouse"]).returncode == 0
    imported = run("import", str(tmp_path / "from-file"), "--warehouse", lake)
    assert imported.returncode == 0, imported.stderr
    assert differences(content(Path(first_run["warehouse"])), content(lake), atol=0) == []
    assert run("export", str(tmp_path / "from-lake"), "--warehouse", lake).returncode == 0
    restored = tmp_path / "restored" / "govnlp.duckdb"
    back = run("import", str(tmp_path / "from-lake"), "--warehouse", str(restored))
    assert back.returncode == 0, back.stderr
    assert differences(content(Path(first_run["warehouse"])), content(restored), atol=0) == []
    refused = run("import", str(tmp_path / "from-file"), "--warehouse", lake)
    assert refused.returncode == 2 and "not empty" in refused.stderr


def test_sqlite_catalog_takes_two_writers_at_once(tmp_path):
    """ducklake:sqlite: for several processes on one machine: two ingest runs at once, then the rows of both."""
    lake = f"ducklake:sqlite:{tmp_path / 'catalog.sqlite'}"
    folders = [_folder(tmp_path, "a", SEED_FILES[:3]), _folder(tmp_path, "b", SEED_FILES[3:])]
    writers = [start("run", "--source", str(f), "--warehouse", lake, "--stages", "ingest") for f in folders]
    outcomes = [w.communicate(timeout=600) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], [err[-2000:] for _, err in outcomes]
    answer = run("sql", "--warehouse", lake, "--format", "json", "SELECT count(*) AS n FROM documents")
    assert answer.returncode == 0 and json.loads(answer.stdout) == [{"n": len(SEED_FILES)}], answer.stderr


def test_catalog_locks_exclude_and_expire(postgres, monkeypatch):
    from govnlp.warehouse import locks

    target = parse_lake(f"ducklake:postgres:{postgres.create_database('locks_' + uuid.uuid4().hex[:8])}", "/tmp/unused")
    first, second = locks.PostgresLocks(target), locks.PostgresLocks(target)
    try:
        assert first.try_acquire("run:x", {"who": "first"}) is None
        assert json.loads(second.try_acquire("run:x", {"who": "second"}))["who"] == "first"
        assert set(second.live("run:")) == {"run:x"}
        first.release("run:x")
        assert second.try_acquire("run:x", {"who": "second"}) is None
        second._held.clear()  # as if its process had died on another machine: no heartbeat, no release
        monkeypatch.setattr(locks, "LEASE_SECONDS", 0.5)
        monkeypatch.setattr(locks, "HOST", "another-host")
        time.sleep(1.0)
        assert first.try_acquire("run:x", {"who": "first"}) is None  # the lease ran out
    finally:
        first.close()
        second.close()


# ---- backfill, report and serve on a lake (PostgreSQL catalog) ----

def test_backfill_and_report_on_a_lake(pg_lake, tmp_path):
    """A backfill forgets and recomputes stages in the lake (the same rows again); the topics backfill re-clusters; the report reads it."""
    folder = _folder(tmp_path, "seeds", SEED_FILES)
    first = run("run", "--source", str(folder), "--warehouse", pg_lake)
    assert first.returncode == 0, first.stderr[-3000:]
    before = content(pg_lake)
    again = run("backfill", "--stages", "entities,quotes,themes", "--warehouse", pg_lake)
    assert again.returncode == 0, again.stderr[-3000:]
    assert differences(before, content(pg_lake)) == []
    con = open_reader(pg_lake)
    try:
        flows = con.execute("SELECT flow, status, counts FROM runs ORDER BY started_at").fetchall()
        assert [(f, s) for f, s, _ in flows] == [("ingest", "completed"), ("backfill", "completed")]
        assert json.loads(flows[1][2])["reset_annotations"] > 0  # the stages were really forgotten and recomputed
        clusterings = con.execute("SELECT count(*) FROM topic_clusterings").fetchone()[0]
    finally:
        con.close()
    assert clusterings == 1
    topics = run("backfill", "--stages", "topics", "--warehouse", pg_lake)
    assert topics.returncode == 0, topics.stderr[-3000:]
    con = open_reader(pg_lake)
    try:
        assert con.execute("SELECT count(*) FROM topic_clusterings").fetchone()[0] == 2
        assert con.execute("SELECT count(DISTINCT clustering_id) FROM topics").fetchone()[0] >= 1
        title = con.execute("SELECT title FROM documents WHERE duplicate_of IS NULL ORDER BY title LIMIT 1").fetchone()[0]
    finally:
        con.close()
    assert run("check", "--warehouse", pg_lake).returncode == 0
    html = tmp_path / "report.html"
    report = run("report", "--warehouse", pg_lake, "--output", str(html))
    assert report.returncode == 0, report.stderr[-3000:]
    text = html.read_text(encoding="utf-8")
    assert "<svg" in text or "<canvas" in text
    assert title.split()[0] in text


def test_serve_runs_a_scheduled_folder_into_a_lake(pg_lake, tmp_path):
    """`govnlp serve` with the warehouse on a lake: the cron makes the run, and the rows land in the lake."""
    folder = _folder(tmp_path, "served", SEED_FILES[:2])
    sources_file = tmp_path / "sources.toml"
    sources_file.write_text(f'[[source]]\nname = "seeds"\nkind = "folder"\nlocation = "{folder}"\nschedule = "* * * * *"\n', encoding="utf-8")
    env = {"GOVNLP_SOURCES_FILE": str(sources_file), "GOVNLP_WAREHOUSE": pg_lake, "PREFECT_HOME": str(tmp_path / "prefect-home")}
    proc = start("serve", env=env)

    def completed() -> int:
        try:
            con = open_reader(pg_lake)
        except Exception:  # not migrated yet
            return 0
        try:
            return con.execute("SELECT count(*) FROM runs WHERE status = 'completed'").fetchone()[0]
        finally:
            con.close()

    try:
        deadline = time.monotonic() + 300  # Prefect's start, the next minute boundary, then the run (every stage) itself
        while time.monotonic() < deadline and not completed():
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            time.sleep(2)
        assert completed() >= 1, "the cron schedule never produced a run in the lake"
        con = open_reader(pg_lake)
        try:
            assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 2
        finally:
            con.close()
    finally:
        interrupt(proc)
