"""Fetching speed against the local White House site (no politeness delay), and what a second poll costs.

    python -m benchmarks.fetch_speed [--rounds 3]

Measures, in one run: (1) the fetcher alone (govnlp.fetch.poll_source on
the 30-item feed, 8 workers, per-host concurrency 8, no delay): pages/s;
(2) `govnlp run --source FEED --stages ingest` end to end (fetch, raw store,
extraction, dedup, warehouse) in a fresh process: wall seconds and pages/s;
(3) the same command again on the unchanged feed: requests made and how
many were conditional and answered 304.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from benchmarks import crash
from benchmarks.goldset import REPO
from benchmarks.whsite import Site, serve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from govnlp.fetch import FetchLimits, History, PoliteClient, Source, poll_source

    site = Site()
    out: dict = {"date": date.today().isoformat()}
    with serve(site) as server, tempfile.TemporaryDirectory() as tmp:
        feed = f"{server.url}/feed.xml"
        limits = FetchLimits(user_agent="govnlp-benchmark", min_delay_seconds=0, per_host_concurrency=8, allow_private=True)
        rates = []
        for _ in range(args.rounds):
            with PoliteClient(limits) as client:
                start = time.perf_counter()
                poll = poll_source(Source("bench", "feed", feed), client, History(), workers=8)
                seconds = time.perf_counter() - start
            pages = [r for r in poll.requests if r.role == "page" and r.fetched.outcome == "ok"]
            rates.append(len(pages) / seconds)
        out["fetcher_pages_per_second"] = round(sorted(rates)[len(rates) // 2], 1)
        out["fetcher_pages"] = len(pages)
        env = {"GOVNLP_RAW_STORE": f"{tmp}/store", "GOVNLP_FETCH_MIN_DELAY_SECONDS": "0", "GOVNLP_FETCH_PER_HOST_CONCURRENCY": "8"}
        warehouse = f"{tmp}/w.duckdb"
        for label in ("first_poll", "second_poll"):
            mark = len(server.requests)
            start = time.perf_counter()
            result = crash.run("run", "--source", feed, "--allow-private-hosts", "--stages", "ingest", "-w", warehouse, env=env)
            wall = time.perf_counter() - start
            if result.returncode != 0:
                raise SystemExit(result.stderr[-2000:])
            requests = server.requests[mark:]
            out[label] = {
                "wall_seconds": round(wall, 1),
                "requests": len(requests),
                "conditional": sum("if-none-match" in r.headers or "if-modified-since" in r.headers for r in requests),
                "paths": sorted({r.path.split("/")[1] or "/" for r in requests}),
            }
        import duckdb

        with duckdb.connect(warehouse, read_only=True) as con:
            rows = con.execute("SELECT counts, stage_seconds FROM runs ORDER BY started_at").fetchall()
        for label, (counts, stages) in zip(("first_poll", "second_poll"), rows):
            out[label]["counts"], out[label]["stage_seconds"] = json.loads(counts), json.loads(stages)
        first = out["first_poll"]["stage_seconds"]
        out["first_poll"]["pages_per_second_fetch_and_ingest"] = round(30 / (first["fetch"] + first["ingest"]), 1)
        out["first_poll"]["pages_per_second_whole_command"] = round(30 / out["first_poll"]["wall_seconds"], 2)
    path = REPO / "benchmarks" / "results" / f"{out['date']}-fetch-speed.json"
    path.write_text(json.dumps(out, indent=1, default=str) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
