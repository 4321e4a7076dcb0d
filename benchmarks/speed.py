"""Speed benchmark: `python -m benchmarks.speed` (not part of the test suite).

Workloads
  seeds    the five sample documents in raw/
  ai       the AI subset of the White House archive: documents whose body
           mentions "artificial intelligence" (any case) or the word "AI"
           (upper case, whole word) 5 times or more, counted together
  archive  the whole archive; ingest + dedup by default, every stage with --full

For each: a cold run (`govnlp run` in a fresh process, empty warehouse), the
model floor measured in this process on the same unique texts (spaCy's full
pipeline once, `nlp.pipe` with every component the entities and quotes
stages use: tok2vec, tagger, parser, attribute ruler, lemmatizer, entity
ruler, NER; `SentenceTransformer.encode` with the pipeline's batch size), a warm re-run of unchanged input, and for the
archive 10 held-out documents added to the full warehouse versus the same 10
into an empty one.  Results: benchmarks/results/<date>-<machine>.json and a
Markdown table (written into README.md between the speed-table markers
with --update-readme).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from datetime import date
from importlib import metadata
from pathlib import Path

from benchmarks.readme import replace_block
from govnlp.warehouse import open_reader, queries

REPO = Path(__file__).resolve().parents[1]
ARCHIVE = REPO.parent / "shared" / "corpora" / "whitehouse" / "whitehouse-briefings.tar.gz"
AI_WORD = re.compile(r"\bAI\b")
AI_PHRASE = re.compile(r"artificial intelligence", re.IGNORECASE)
HELD_OUT = 10


def is_ai_document(text: str, minimum: int = 5) -> bool:
    """The documented selection rule for workload 2 (front matter excluded)."""
    body = text.split("\n---", 1)[-1] if text.startswith("---") else text
    return len(AI_WORD.findall(body)) + len(AI_PHRASE.findall(body)) >= minimum


def ai_head(ai: Path, limit: int) -> Path:
    """The first ``limit`` documents of the AI subset (by name), linked into their own folder."""
    head = ai.with_name(f"ai{limit}")
    if not head.exists():
        head.mkdir()
        for p in sorted(ai.iterdir())[:limit]:
            os.link(p, head / p.name)
    return head


def prepare_corpora(workdir: Path, archive: Path) -> dict[str, Path]:
    """Unpack the archive once; link the AI subset; move 10 documents aside for the incremental run."""
    root = workdir / "archive"
    if not (root / "wh").exists():
        print(f"unpacking {archive} ...", flush=True)
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
    corpus = root / "wh"
    held = workdir / "held_out"
    if not held.exists():
        held.mkdir()
        candidates = sorted(p for p in corpus.rglob("*.md") if p.name.lower() != "readme.md")
        step = len(candidates) // HELD_OUT
        for i, p in enumerate(candidates[::step][:HELD_OUT]):
            p.rename(held / f"{i:02d}-{p.name}")
    ai = workdir / "ai"
    if not ai.exists():
        ai.mkdir()
        for p in sorted(corpus.rglob("*.md")):
            if p.name.lower() != "readme.md" and is_ai_document(p.read_text(encoding="utf-8", errors="replace")):
                os.link(p, ai / "__".join(p.relative_to(corpus).parts))
    return {"seeds": REPO / "raw", "ai": ai, "archive": corpus, "held_out": held}


def run_cli(source: Path, warehouse: Path, stages: str) -> dict:
    """One `govnlp run` in a fresh process: wall time, peak RSS, and what the run recorded."""
    cmd = [sys.executable, "-m", "govnlp.cli", "run", "--source", str(source), "--warehouse", str(warehouse), "--stages", stages]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{stderr[-3000:]}")
    con = open_reader(warehouse)
    counts, seconds = queries.last_run(con)
    summary = queries.summary(con)
    con.close()
    docs, paras = summary["documents"], summary["paragraphs"]
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        # CPU seconds of the run and the children it waited for (the local API, the file readers): less
        # disturbed than wall time by other processes on a shared machine
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "stage_s": seconds,
        "documents_added": counts.get("documents", 0),
        "paragraphs_added": counts.get("paragraphs", 0),
        "documents_total": docs,
        "paragraphs_total": paras,
        "texts_to_ner": counts.get("entity_paragraphs", 0),
        "texts_to_embedder": counts.get("embedded", 0),
        "docs_per_s": round(counts.get("documents", 0) / wall, 2),
        "paragraphs_per_s": round(counts.get("paragraphs", 0) / wall, 2),
        "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # before, after: other work on the machine disturbs timings
    }


def model_floor(warehouse: Path) -> dict:
    """The models alone on the same unique texts the run sent them, with the run's settings."""
    from govnlp.embed import Embedder
    from govnlp.entities import EntityExtractor
    from govnlp.settings import load_settings

    load_before = os.getloadavg()[0]
    settings = load_settings()
    con = open_reader(warehouse)
    texts = queries.canonical_texts(con)
    con.close()
    extractor = EntityExtractor(settings.spacy_model, parse=True)  # the full pipeline: entities and quotes read it
    start, cpu = time.perf_counter(), time.process_time()
    for _ in extractor.nlp.pipe(texts, batch_size=64):
        pass
    ner, ner_cpu = time.perf_counter() - start, time.process_time() - cpu
    embedder = Embedder(settings.embed_model, settings.embed_device, settings.embed_batch_size)
    start, cpu = time.perf_counter(), time.process_time()
    embedder.model.encode(texts, batch_size=settings.embed_batch_size, normalize_embeddings=True, show_progress_bar=False)
    embed, embed_cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"texts": len(texts), "words": sum(len(t.split()) for t in texts), "ner_s": round(ner, 2), "embed_s": round(embed, 2),
            "sum_s": round(ner + embed, 2), "cpu_s": round(ner_cpu + embed_cpu, 2), "embed_device": embedder.device, "spacy_components": extractor.nlp.pipe_names,
            "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {p: metadata.version(p) for p in ("govnlp", "duckdb", "spacy", "sentence-transformers", "torch", "prefect", "datasketch")}
    return {"host": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem, 1),
            "python": platform.python_version(), "versions": versions}


def bench_workload(name: str, source: Path, stages: str, out: Path, with_floor: bool) -> dict:
    warehouse = out / name / "govnlp.duckdb"
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    print(f"[{name}] cold run ({stages}) ...", flush=True)
    result = {"source": str(source), "stages": stages, "cold": run_cli(source, warehouse, stages)}
    print(f"[{name}] warm re-run ...", flush=True)
    result["warm"] = run_cli(source, warehouse, stages)
    result["warm_over_cold"] = round(result["warm"]["wall_s"] / result["cold"]["wall_s"], 3)
    if with_floor:
        print(f"[{name}] model floor ...", flush=True)
        floor = model_floor(warehouse)
        result["floor"] = floor
        result["cold_over_floor"] = round(result["cold"]["wall_s"] / floor["sum_s"], 3)
        result["cold_over_floor_cpu"] = round(result["cold"]["cpu_s"] / floor["cpu_s"], 3)  # the same ratio in CPU seconds
    return result


def bench_incremental(archive_warehouse: Path, held_out: Path, stages: str, out: Path) -> dict:
    full = out / "incremental-full" / "govnlp.duckdb"
    empty = out / "incremental-empty" / "govnlp.duckdb"
    for p in (full, empty):
        shutil.rmtree(p.parent, ignore_errors=True)
        p.parent.mkdir(parents=True)
    shutil.copyfile(archive_warehouse, full)
    print("[incremental] 10 new documents into the full warehouse, then into an empty one ...", flush=True)
    into_full = run_cli(held_out, full, stages)
    into_empty = run_cli(held_out, empty, stages)
    return {"into_full": into_full, "into_empty": into_empty, "full_over_empty": round(into_full["wall_s"] / into_empty["wall_s"], 3)}


def targets(results: dict) -> dict:
    w = results["workloads"]
    out = {}
    for name in [n for n in w if n.startswith("ai") and "floor" in w[n]]:
        out[f"{name}_cold_le_1.15x_floor"] = {"value": w[name]["cold_over_floor"], "met": w[name]["cold_over_floor"] <= 1.15}
        out[f"{name}_cold_le_1.15x_floor_cpu_seconds"] = {"value": w[name]["cold_over_floor_cpu"], "met": w[name]["cold_over_floor_cpu"] <= 1.15}
    for name, r in w.items():
        out[f"{name}_warm_le_5pct_cold"] = {"value": r["warm_over_cold"], "met": r["warm_over_cold"] <= 0.05}
        sent = r["warm"]["texts_to_ner"] + r["warm"]["texts_to_embedder"]
        out[f"{name}_warm_zero_model_texts"] = {"value": sent, "met": sent == 0}
        out[f"{name}_noop_run_le_10s"] = {"value": r["warm"]["wall_s"], "met": r["warm"]["wall_s"] <= 10}
    if "archive" in w:
        a = w["archive"]["cold"]
        ingest_s = a["stage_s"].get("ingest", a["wall_s"])
        out["archive_ingest_dedup_le_60s"] = {"value": ingest_s, "wall_s": a["wall_s"], "met": ingest_s <= 60}
        out["archive_peak_rss_le_2.5gb"] = {"value": a["peak_rss_mb"], "met": a["peak_rss_mb"] <= 2560}
    if "incremental" in results:
        ratio = results["incremental"]["full_over_empty"]
        out["incremental_le_2x"] = {"value": ratio, "met": ratio <= 2}
    return out


def markdown_table(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"Measured {results['date']} on {m['host']} ({m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB), "
        f"Python {m['python']}, govnlp {m['versions']['govnlp']}, duckdb {m['versions']['duckdb']}, spaCy {m['versions']['spacy']}, "
        f"torch {m['versions']['torch']}, prefect {m['versions']['prefect']}.",
        "",
        "| workload | stages | docs | paragraphs | cold s | docs/s | peak RSS MB | texts NER / embed | floor s (NER + embed) | cold / floor | warm s | warm / cold |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["workloads"].items():
        c, f = r["cold"], r.get("floor")
        floor = f"{f['sum_s']} ({f['ner_s']} + {f['embed_s']})" if f else "-"
        lines.append(
            f"| {name} | {r['stages']} | {c['documents_total']} | {c['paragraphs_total']} | {c['wall_s']} | {c['docs_per_s']} | "
            f"{c['peak_rss_mb']} | {c['texts_to_ner']} / {c['texts_to_embedder']} | {floor} | {r.get('cold_over_floor', '-')} | "
            f"{r['warm']['wall_s']} | {r['warm_over_cold']} |"
        )
    if "incremental" in results:
        inc = results["incremental"]
        lines += ["", f"10 new documents: {inc['into_full']['wall_s']} s into the full archive warehouse, "
                      f"{inc['into_empty']['wall_s']} s into an empty one (ratio {inc['full_over_empty']})."]
    lines += ["", "| target | value | met |", "|---|---|---|"]
    lines += [f"| {k} | {v['value']} | {'yes' if v['met'] else 'no'} |" for k, v in results["targets"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default="seeds,ai,archive")
    parser.add_argument("--full", action="store_true", help="every stage on the whole archive (hours on 2 CPU cores)")
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--workdir", type=Path, default=REPO / ".cache" / "bench")
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument("--ai-limit", type=int, help="only the first N documents of the AI subset (workload ai<N>)")
    args = parser.parse_args()

    wanted = args.workloads.split(",")
    corpora = prepare_corpora(args.workdir, args.archive) if {"ai", "archive"} & set(wanted) else {"seeds": REPO / "raw"}
    if args.ai_limit and "ai" in wanted:
        name = f"ai{args.ai_limit}"
        corpora[name] = ai_head(corpora["ai"], args.ai_limit)
        wanted = [name if w == "ai" else w for w in wanted]
    runs = args.workdir / "runs"
    all_stages, ingest_only = "ingest,dedup,entities,quotes,embed,themes", "ingest,dedup"
    results = {"date": date.today().isoformat(), "machine": machine(), "workloads": {}}
    for name in wanted:
        stages = ingest_only if name == "archive" and not args.full else all_stages
        results["workloads"][name] = bench_workload(name, corpora[name], stages, runs, with_floor="entities" in stages)
    if "archive" in wanted:
        stages = results["workloads"]["archive"]["stages"]
        results["incremental"] = bench_incremental(runs / "archive" / "govnlp.duckdb", corpora["held_out"], stages, runs)
    results["targets"] = targets(results)
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"{results['date']}-{results['machine']['host']}.json"
    path.write_text(json.dumps(results, indent=2))
    table = markdown_table(results)
    print(table)
    print(f"\nresults: {path}")
    if args.update_readme:
        replace_block("speed-table", table)


if __name__ == "__main__":
    main()
