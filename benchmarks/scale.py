"""Scale-out benchmark: `python -m benchmarks.scale` (not part of the test suite).

Model-stage throughput on the AI subset of the White House archive (the
first ``--docs`` documents of the subset ``benchmarks/speed.py`` defines),
with 1 single-threaded Dask worker versus 2 (``govnlp run --cluster
local:N``), in the same invocation:

1. ingest + dedup once, in process, into a base warehouse;
2. for each worker count, a copy of it and a fresh `govnlp run --stages
   entities,quotes,embed --cluster local:N` process.

From each run's record (``runs.seconds`` / ``runs.counts``): the model-stage
time (the stages' wall time less the one-off model load on the workers),
the seconds of model work the workers reported (``*_worker``), the batches
(tasks), and the largest worker's resident memory with its models loaded.
Derived: paragraphs/s, the speed-up and scaling efficiency of N workers
over 1, and the overhead per task (model-stage time x workers - model work,
per task: Prefect and Dask, pickling, the writer's reads and writes that do
not overlap the workers, the idle tail). The load average before and after
each run is recorded: other work on the machine disturbs the figures.
Results: ``benchmarks/results/<date>-scale.json``; ``--update-readme``
writes the table into README.md between the scale markers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks.readme import replace_block
from benchmarks.speed import ARCHIVE, REPO, ai_head, machine, prepare_corpora
from govnlp.warehouse import open_reader, queries

MODEL_STAGES = ("entities", "quotes", "embed")


def govnlp(*args: str, env: dict | None = None) -> tuple[float, tuple[float, float]]:
    """A `govnlp` command in a fresh process: (wall seconds, load average before/after)."""
    before = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "govnlp.cli", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"govnlp {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return wall, (round(before, 2), round(os.getloadavg()[0], 2))


def model_run(base: Path, warehouse: Path, workers: int | None) -> dict:
    """The model stages over the base warehouse's paragraphs: with N local workers, or in process (None)."""
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    warehouse.parent.mkdir(parents=True)
    shutil.copyfile(base, warehouse)
    cluster = ["--cluster", f"local:{workers}"] if workers else []
    wall, load = govnlp("run", "--warehouse", str(warehouse), "--stages", ",".join(MODEL_STAGES), *cluster)
    con = open_reader(warehouse)
    counts, seconds = queries.last_run(con)
    con.close()
    loads = sum(v for k, v in seconds.items() if k.startswith("worker_load_"))
    stage_s = sum(seconds.get(s, 0.0) for s in MODEL_STAGES)
    model_s = stage_s - loads
    work_s = sum(seconds.get(f"{s}_worker", 0.0) for s in MODEL_STAGES)
    tasks = sum(counts.get(f"{s}_tasks", 0) for s in MODEL_STAGES)
    paragraphs = counts.get("entity_paragraphs", 0)
    out = {
        "workers": workers or "in-process",
        "wall_s": round(wall, 2),
        "load_avg_1min": load,
        "paragraphs": paragraphs,
        "stage_s": {s: seconds.get(s) for s in MODEL_STAGES},
        "worker_load_s": round(loads, 2),
        "model_stage_s": round(model_s, 2),
        "paragraphs_per_s": round(paragraphs / model_s, 2) if model_s else None,
        "texts_embedded": counts.get("embedded", 0),
        "seconds": seconds,
    }
    if workers:
        overhead = model_s * workers - work_s
        out.update({
            "tasks": tasks,
            "worker_model_work_s": round(work_s, 2),
            "overhead_per_task_s": round(overhead / tasks, 3) if tasks else None,
            "overhead_share_of_model_work": round(overhead / work_s, 4) if work_s else None,
            "worker_rss_mb_max": counts.get("worker_rss_mb_max"),
            "writer_s": round(sum(seconds.get(f"{s}_writer", 0.0) for s in MODEL_STAGES), 2),
        })
    return out


def markdown(results: dict) -> str:
    m, r = results["machine"], results["runs"]
    lines = [
        f"Measured {results['date']} on {m['host']} ({m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB): "
        f"{results['documents']} documents of the AI subset, {results['paragraphs']} canonical paragraphs through "
        f"entities + quotes (one spaCy pass) and embed; `--cluster local:N`, single-threaded workers.",
        "",
        "| workers | model-stage s | paragraphs/s | tasks | model work s (workers) | overhead / task s | overhead / model work | worker RSS MB | load avg before, after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in r:
        lines.append(f"| {run['workers']} | {run['model_stage_s']} | {run['paragraphs_per_s']} | {run.get('tasks', '-')} | "
                     f"{run.get('worker_model_work_s', '-')} | {run.get('overhead_per_task_s', '-')} | "
                     f"{run.get('overhead_share_of_model_work', '-')} | {run.get('worker_rss_mb_max', '-')} | {run['load_avg_1min']} |")
    s = results["scaling"]
    lines += ["", f"2 workers over 1: speed-up {s['speedup']}x, scaling efficiency {s['efficiency']} "
                  f"(targets 1.7x and 0.85: {'met' if s['speedup'] >= 1.7 else 'not met'}); "
                  f"overhead {s['overhead_share_1_worker']:.1%} of model work with 1 worker (target 2%: "
                  f"{'met' if s['overhead_share_1_worker'] <= 0.02 else 'not met'})."]
    return "\n".join(lines)


DOCS_PER_DAY = 1_000_000


def gpu_figures(results_dir: Path) -> dict | None:
    """The newest ``benchmarks/gpu_worker.py`` result, if a GPU machine was ever lent to measure one."""
    found = sorted(results_dir.glob("*-gpu-worker.json"))
    return json.loads(found[-1].read_text()) | {"file": found[-1].name} if found else None


def capacity(results: dict, gpu: dict | None = None) -> dict:
    """Workers for a million documents a day, from the measured rates (GPU workers from ``gpu_worker.py``'s result)."""
    runs = [r for r in results["runs"] if r["workers"] != "in-process"]
    one, top = runs[0], runs[-1]
    per_doc = results["paragraphs"] / results["documents"]
    needed = DOCS_PER_DAY * per_doc / 86400
    compute_rate = one["paragraphs"] / one["worker_model_work_s"]  # one single-threaded worker, model work alone
    effective = top["paragraphs_per_s"] / top["workers"]  # per worker, as measured with the most workers
    writer = top["paragraphs"] / top["writer_s"] if top.get("writer_s") else None
    return {
        "paragraphs_per_document": round(per_doc, 1),
        "needed_paragraphs_per_s": round(needed, 1),
        "cpu_worker_paragraphs_per_s_model_work": round(compute_rate, 2),
        "cpu_worker_paragraphs_per_s_effective": round(effective, 2),
        "cpu_workers_needed": -(-needed // effective),
        "worker_rss_mb": top.get("worker_rss_mb_max"),
        "writer_paragraphs_per_s": round(writer, 1) if writer else None,
        "gpu_worker_paragraphs_per_s": gpu["gpu_worker_paragraphs_per_s"] if gpu else None,
        "gpu_workers_needed": -(-needed // gpu["gpu_worker_paragraphs_per_s"]) if gpu else None,
        "gpu": gpu,
        "overhead_per_task_s": one["overhead_per_task_s"],
    }


def capacity_markdown(results: dict) -> str:
    c = results["capacity"]
    writer = c["writer_paragraphs_per_s"]
    return "\n".join([
        f"Capacity plan from the figures above ({results['date']}"
        + (f"; GPU workers from `{c['gpu']['file']}`" if c["gpu"] else "; GPU workers **not measured**, no accelerator here") + "):",
        "",
        f"- One single-threaded CPU worker: {c['cpu_worker_paragraphs_per_s_model_work']} paragraphs/s of model work "
        f"(entities + quotes + embedding), {c['cpu_worker_paragraphs_per_s_effective']} paragraphs/s per worker as measured "
        f"with {results['runs'][-1 if results['runs'][-1]['workers'] != 'in-process' else -2]['workers']} workers; "
        f"about {c['worker_rss_mb']} MB resident per worker with both models loaded.",
        f"- A million documents a day like these ({c['paragraphs_per_document']} canonical paragraphs each; the AI subset's "
        f"statements are long) is {c['needed_paragraphs_per_s']} paragraphs/s: about **{int(c['cpu_workers_needed'])} CPU workers** "
        f"(cores), and {int(c['cpu_workers_needed']) * (c['worker_rss_mb'] or 0) / 1024:.0f} GB of worker memory.",
        f"- The one writer (reading inputs, storing results) kept up at {writer} paragraphs/s of its own time"
        + (f": {'enough' if writer and writer >= c['needed_paragraphs_per_s'] else 'not enough'} for that rate." if writer else "."),
    ] + gpu_markdown(c))


def gpu_markdown(c: dict) -> list[str]:
    g = c["gpu"]
    if not g:
        return ["- GPU workers: not measured. The embedder and spaCy move to CUDA by themselves on a worker that has it "
                "(`embed_device`, `spacy_device` unset)."]
    ann, emb = g["annotate_spacy_gpu"], g["embed_cuda_float32"]
    return [
        f"- One GPU worker ({g['machine']['gpu']}, measured {g['date']} with `python -m benchmarks.gpu_worker` on "
        f"{g['paragraphs']} paragraphs of the AI subset, the pipeline's own `govnlp.compute` functions and batches): spaCy on "
        f"the GPU {ann['paragraphs_per_s']} paragraphs/s (one CPU thread of that machine: "
        f"{g['annotate_cpu_1_thread']['paragraphs_per_s']}; {ann.get('mentions')} mentions and {ann.get('quotes')} quotes, as on the CPU), "
        f"the embedder {emb['paragraphs_per_s']} paragraphs/s (one CPU thread: {g['embed_cpu_1_thread_float32']['paragraphs_per_s']}; "
        f"cosine to the vectors computed here at least {emb['cosine_to_stored_min']:.5f}), so "
        f"**{c['gpu_worker_paragraphs_per_s']} paragraphs/s per GPU worker**, the two in turn. A million documents a day: "
        f"about **{int(c['gpu_workers_needed'])} GPU workers**. There spaCy is {emb['paragraphs_per_s'] / ann['paragraphs_per_s']:.0f} "
        "times slower than the embedder, so a GPU machine's CPU cores are best given further spaCy workers.",
        f"- The GPU figure is model work only (no Prefect, Dask or writer: {c['overhead_per_task_s']} s per task in the "
        "1-worker CPU run above); it was not "
        "measured through `--cluster`: the GPU machine is lent for minutes, without the pipeline's dependencies.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=40, help="the first N documents of the AI subset")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare (the first is the reference)")
    parser.add_argument("--in-process", action="store_true", help="also run without --cluster, for comparison")
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--workdir", type=Path, default=REPO / ".cache" / "bench")
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()

    corpus = ai_head(prepare_corpora(args.workdir, args.archive)["ai"], args.docs)
    out = args.workdir / "scale"
    base = out / "base" / "govnlp.duckdb"
    shutil.rmtree(base.parent, ignore_errors=True)
    print(f"[scale] ingest + dedup of {args.docs} AI documents ...", flush=True)
    govnlp("run", "--source", str(corpus), "--warehouse", str(base), "--stages", "ingest,dedup")
    # The task sizes a user gets: cluster_task_paragraphs (spaCy) and embed_task_paragraphs, made smaller
    # when a stage has too few paragraphs for 4 tasks per worker (flows/cluster.py).
    runs = []
    for n in [int(w) for w in args.workers.split(",")] + ([0] if args.in_process else []):
        print(f"[scale] model stages, {f'{n} worker(s)' if n else 'in process'} ...", flush=True)
        runs.append(model_run(base, out / f"w{n}" / "govnlp.duckdb", n or None))
        print(json.dumps({k: v for k, v in runs[-1].items() if k != "seconds"}), flush=True)
    one, two = runs[0], runs[1] if len(runs) > 1 and runs[1]["workers"] != "in-process" else runs[0]
    speedup = round(one["model_stage_s"] / two["model_stage_s"], 3)
    results = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "documents": args.docs,
        "paragraphs": one["paragraphs"],
        "runs": runs,
        "scaling": {"speedup": speedup, "efficiency": round(speedup / (two["workers"] / one["workers"]), 3),
                    "overhead_share_1_worker": one["overhead_share_of_model_work"],
                    "overhead_per_task_s_1_worker": one["overhead_per_task_s"]},
    }
    results["capacity"] = capacity(results, gpu_figures(REPO / "benchmarks" / "results"))
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"{results['date']}-scale.json"
    path.write_text(json.dumps(results, indent=2))
    table, plan = markdown(results), capacity_markdown(results)
    print(table, plan, sep="\n\n")
    print(f"\nresults: {path}")
    if args.update_readme:
        replace_block("scale-table", table)
        replace_block("capacity", plan)


if __name__ == "__main__":
    main()
