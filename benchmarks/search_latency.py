"""Semantic search latency for k=10: exact (brute-force cosine, what semantic_search does) against an HNSW index (vss).

    python -m benchmarks.search_latency [--sizes 17850 100000] [--queries 30]

Vectors are synthetic unit vectors of the stored shape (FLOAT[384]): the
latency of a scan or an index lookup depends on the count and the dimension,
not on the text. 17,850 is the paragraph count of the archive's AI subset
(benchmarks/speed.py). The query embedding time of the real model is
measured separately. HNSW recall@10 is measured against the exact result.
Results go to benchmarks/results/<date>-search-latency.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from govnlp.warehouse.extensions import load

DIM, K = 384, 10
QUERY = "SELECT id FROM vectors ORDER BY array_cosine_distance(v, ?::FLOAT[384]) LIMIT 10"


def _timed(con, queries) -> tuple[float, list[list[int]]]:
    times, results = [], []
    for q in queries:
        start = time.perf_counter()
        results.append([r[0] for r in con.execute(QUERY, [q.tolist()]).fetchall()])
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, results


def measure(n: int, queries: int, rng, with_index: bool = True) -> dict:
    con = duckdb.connect()
    load(con, "vss")
    vectors = rng.standard_normal((n, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    con.execute(f"CREATE TABLE vectors (id INTEGER, v FLOAT[{DIM}])")
    import pyarrow as pa

    table = pa.table({"id": pa.array(range(n), pa.int32()),
                      "v": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), DIM)})
    con.register("batch", table)
    con.execute("INSERT INTO vectors SELECT * FROM batch")
    qs = [v / np.linalg.norm(v) for v in rng.standard_normal((queries, DIM), dtype=np.float32)]
    exact_ms, exact = _timed(con, qs)
    if not with_index:
        return {"paragraphs": n, "exact_ms_median": round(exact_ms, 2)}
    start = time.perf_counter()
    con.execute("CREATE INDEX hnsw ON vectors USING HNSW (v) WITH (metric = 'cosine')")
    build_s = time.perf_counter() - start
    plan = "\n".join(r[1] for r in con.execute("EXPLAIN " + QUERY, [qs[0].tolist()]).fetchall())
    hnsw_ms, approx = _timed(con, qs)
    recall = statistics.mean(len(set(a) & set(e)) / K for a, e in zip(approx, exact))
    return {"paragraphs": n, "exact_ms_median": round(exact_ms, 2), "hnsw_ms_median": round(hnsw_ms, 2),
            "hnsw_build_s": round(build_s, 2), "hnsw_recall_at_10": round(recall, 3), "index_used": "HNSW_INDEX_SCAN" in plan}


def query_embedding_ms() -> float:
    from govnlp.embed import Embedder
    from govnlp.settings import load_settings

    s = load_settings()
    embedder = Embedder(s.embed_model, s.embed_device)
    embedder.encode_texts(["warm up"])
    times = []
    for text in ("capacity building for developing countries", "AI safety institutes", "military uses of AI"):
        start = time.perf_counter()
        embedder.encode_texts([text])
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[17_850, 100_000])
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--index-up-to", type=int, default=100_000, help="Build the HNSW index only up to this many vectors (slow to build).")
    args = parser.parse_args()
    rng = np.random.default_rng(20261129)
    results = {"date": date.today().isoformat(), "k": K, "query_embedding_ms": query_embedding_ms(),
               "sizes": [measure(n, args.queries, rng, n <= args.index_up_to) for n in args.sizes],
               "note": "synthetic unit vectors (no cluster structure: a worst case for HNSW recall)"}
    print(json.dumps(results, indent=1))
    out = Path("benchmarks/results") / f"{results['date']}-search-latency.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
