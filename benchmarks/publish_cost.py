"""What one publish costs on a 100 MB and a 1 GB warehouse: a DuckDB file against a DuckLake.

    python -m benchmarks.publish_cost [--sizes-mb 100 1000] [--repeats 3] [--catalog postgres|sqlite] [--work DIR]

A file warehouse publishes by CHECKPOINT, copy, fsync and rename of the
whole file (connection.py), so its cost grows with the warehouse; a lake
publishes by committing (each commit is a snapshot readers see), so its
cost should not.  For each size the benchmark fills the embeddings table
with synthetic unit vectors (random floats hardly compress, so the size on
disk follows the row count), then times ``repeats`` publishes of a
one-row change (a row in ``runs``): for the file, the commit plus
``WarehouseWriter.publish()``; for the lake, the commit (under the commit
lock, as a run does it) and, separately, how long until a new reader
sees the row.  The PostgreSQL catalog is a throwaway server
(benchmarks/postgres.py).  Results go to
benchmarks/results/<date>-publish-cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from govnlp.warehouse import open_reader, writes
from govnlp.warehouse.connection import WarehouseWriter
from govnlp.warehouse.lake import LakeWriter
from govnlp.warehouse.target import parse_lake

BYTES_PER_ROW = 384 * 4 + 60  # one FLOAT[384] vector plus its keys
FILL_ROWS_PER_STATEMENT = 50_000


def _fill(writer, rows: int) -> None:
    """``rows`` synthetic embeddings, written in slices so memory stays flat."""
    for start in range(0, rows, FILL_ROWS_PER_STATEMENT):
        n = min(FILL_ROWS_PER_STATEMENT, rows - start)
        with writer.transaction() as con:
            con.execute(
                f"""INSERT INTO embeddings (paragraph_id, model, vector, chunks, text_hash)
                SELECT 'p' || i, 'synthetic', list_transform(range(384), x -> (random() - 0.5)::FLOAT), 1, md5(i::VARCHAR)
                FROM range({start}, {start + n}) t(i)"""
            )


def _one_row_change(writer) -> None:
    with writer.transaction() as con:
        writes.start_run(con, uuid.uuid4().hex, "benchmark", [], [], {})


def _size_on_disk(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def bench_file(folder: Path, rows: int, repeats: int) -> dict:
    published = folder / "govnlp.duckdb"
    with WarehouseWriter(published, folder / ".govnlp.work.duckdb", folder / ".govnlp.lock") as writer:
        _fill(writer, rows)
        writer.publish()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            _one_row_change(writer)
            writer.publish()
            times.append(time.perf_counter() - start)
    return {"bytes": _size_on_disk(published), "publish_seconds": times, "median_seconds": statistics.median(times)}


def bench_lake(spec: str, data: Path, rows: int, repeats: int) -> dict:
    target = parse_lake(spec, str(data))
    with LakeWriter(target) as writer:
        _fill(writer, rows)
        times, visible = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            _one_row_change(writer)
            times.append(time.perf_counter() - start)
            reader = open_reader(target.spec)
            reader.execute("SELECT count(*) FROM runs").fetchone()
            reader.close()
            visible.append(time.perf_counter() - start)
    return {"bytes": _size_on_disk(data), "publish_seconds": times, "median_seconds": statistics.median(times),
            "until_a_new_reader_sees_it_seconds": visible}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--catalog", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--work", type=Path, default=None, help="Scratch folder (default: a temporary one, removed after).")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results") / f"{date.today()}-publish-cost.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="govnlp-publish-", dir=args.work))
    server = None
    if args.catalog == "postgres":
        from benchmarks.postgres import PostgresServer, binaries

        if binaries() is None:
            raise SystemExit("PostgreSQL server binaries are missing: apt-get install -y postgresql, or --catalog sqlite")
        server = PostgresServer(binaries()).start()
    results = []
    try:
        for size in args.sizes_mb:
            rows = size * 1_000_000 // BYTES_PER_ROW
            file = bench_file(work / f"file-{size}", rows, args.repeats)
            shutil.rmtree(work / f"file-{size}")
            spec = (f"ducklake:postgres:{server.create_database(f'publish_{size}')}" if server
                    else f"ducklake:sqlite:{work / f'lake-{size}.sqlite'}")
            lake = bench_lake(spec, work / f"lake-{size}-data", rows, args.repeats)
            shutil.rmtree(work / f"lake-{size}-data", ignore_errors=True)
            results.append({"size_mb": size, "rows": rows, "file": file, "lake": lake})
            print(f"{size} MB ({rows} rows): file publish {file['median_seconds']:.3f} s ({file['bytes'] / 1e6:.0f} MB), "
                  f"lake publish {lake['median_seconds']:.3f} s ({lake['bytes'] / 1e6:.0f} MB of Parquet)", flush=True)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    out = {"date": str(date.today()), "catalog": args.catalog, "repeats": args.repeats, "cpus": os.cpu_count(),
           "what": "one publish of a one-row change: file = commit + CHECKPOINT/copy/fsync/rename; lake = commit (a snapshot)",
           "results": results}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
