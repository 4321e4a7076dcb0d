"""Topics benchmark: `python -m benchmarks.topics` (not part of the test suite).

Chooses the clustering method and its parameters on a *dev* corpus and
measures the chosen setting on the *evaluation* corpus, never tuned on:

  dev         White House archive documents that mention AI 3 or 4 times
              ("AI-adjacent": science, technology and economic policy)
  evaluation  the AI subset of benchmarks/speed.py (5 mentions or more),
              the corpus issue 17 names; disjoint from dev by construction

Each corpus is ingested and embedded once into .cache/topics/<name>.duckdb
(`govnlp run --stages ingest,embed`).  For every candidate setting on dev:
topics found, share of eligible paragraphs left unassigned, mean NPMI
coherence of the label terms (size-weighted), seconds.  The setting with
the highest coherence among those leaving at most 20% of the eligible
paragraphs unassigned and putting at most 10% of them in one topic is then run on the evaluation corpus in a fresh process, which also gives its peak memory
(the 1 GB target) and time (the 60 s target).  A sample of 20 evaluation
topics (label, terms, three most central paragraphs) is written for the
hand check (benchmarks/gold/TOPICS.md says how to judge).

Results: benchmarks/results/<date>-topics.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

from benchmarks.speed import AI_PHRASE, AI_WORD, ARCHIVE, prepare_corpora
from govnlp.settings import load_settings
from govnlp.topics import ClusterParams, build
from govnlp.warehouse import open_reader, queries

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".cache" / "topics"
MIN_WORDS = load_settings().topic_min_words

CANDIDATES = [ClusterParams("kmeans-merge", 5, merge, similarity) for merge in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5) for similarity in (0.3, 0.4)] + [
    ClusterParams("hdbscan", size, 0.3, similarity) for size in (5, 10, 20) for similarity in (0.0, 0.3)
]


def ai_mentions(path: Path) -> int:
    text = path.read_text(encoding="utf-8", errors="replace")
    body = text.split("\n---", 1)[-1] if text.startswith("---") else text
    return len(AI_WORD.findall(body)) + len(AI_PHRASE.findall(body))


def dev_folder(archive_root: Path) -> Path:
    folder = WORK / "dev"
    if not folder.exists():
        folder.mkdir(parents=True)
        for p in sorted(archive_root.rglob("*.md")):
            if p.name.lower() != "readme.md" and ai_mentions(p) in (3, 4):
                os.link(p, folder / "__".join(p.relative_to(archive_root).parts))
    return folder


def embedded_warehouse(name: str, folder: Path) -> Path:
    """Ingest and embed a folder once (the vectors are the input of every setting)."""
    warehouse = WORK / f"{name}.duckdb"
    if not warehouse.exists():
        cmd = [sys.executable, "-m", "govnlp.cli", "run", "--source", str(folder), "--warehouse", str(warehouse), "--stages", "ingest,embed"]
        subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    return warehouse


def inputs(warehouse: Path):
    con = open_reader(warehouse)
    ids, texts, words, vectors = queries.topic_inputs(con, load_settings().embed_model)
    con.close()
    keep = words >= MIN_WORDS
    return [i for i, k in zip(ids, keep) if k], [t for t, k in zip(texts, keep) if k], vectors[keep], len(ids)


def measure(ids, texts, vectors, params: ClusterParams, keep: list | None = None) -> dict:
    start = time.perf_counter()
    built = build(ids, texts, vectors, params)
    seconds = time.perf_counter() - start
    sizes = np.array([t.size for t in built.topics])
    coherence = np.array([t.coherence if t.coherence is not None else 0.0 for t in built.topics])
    assigned = len(built.memberships)
    if keep is not None:
        keep.append(built)
    return {
        "params": params.as_dict(),
        "paragraphs": len(ids),
        "topics": len(built.topics),
        "unassigned_share": round(1 - assigned / len(ids), 4),
        "coherence": round(float((coherence * sizes).sum() / max(sizes.sum(), 1)), 4),
        "coherence_unweighted": round(float(coherence.mean()) if len(coherence) else 0.0, 4),
        "median_topic_size": int(np.median(sizes)) if len(sizes) else 0,
        "largest_topic_share": round(float(sizes.max() / len(ids)), 4) if len(sizes) else 0.0,
        "seconds": round(seconds, 2),
    }


MAX_UNASSIGNED = 0.2  # a topic map that leaves more out answers "what is new" for too little of the corpus
MAX_LARGEST = 0.1     # one topic holding more than a tenth of the corpus says little about any of it


def objective(row: dict) -> float:
    """Coherence, among the settings that leave little out and keep topics specific.

    The 10% bound was added after a first dev grid showed coherence rising
    as merging makes topics fewer and larger (dev only; the evaluation
    corpus had not been clustered).
    """
    admissible = row["unassigned_share"] <= MAX_UNASSIGNED and row["largest_topic_share"] <= MAX_LARGEST
    return row["coherence"] if admissible else -2.0


def evaluate_in_child(warehouse: Path, params: ClusterParams, sample: Path) -> dict:
    """The chosen setting in a fresh process: its time, peak memory (loading the vectors included) and the hand-check sample."""
    cmd = [sys.executable, "-m", "benchmarks.topics", "--child", str(warehouse), json.dumps(params.as_dict()), str(sample)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE)  # one JSON line: never fills the pipe
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed")
    result = json.loads(proc.stdout.read().decode().strip().splitlines()[-1])
    result["process_wall_s"] = round(time.perf_counter() - start, 2)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return result


def child(warehouse: Path, params: dict, sample: Path) -> None:
    ids, texts, vectors, total = inputs(warehouse)
    kept: list = []
    row = measure(ids, texts, vectors, ClusterParams(**params), kept)
    row["all_paragraphs"] = total
    row["unassigned_share_of_all"] = round(1 - (1 - row["unassigned_share"]) * len(ids) / total, 4)
    built = kept[0]
    text_of = dict(zip(ids, texts))
    members: dict[int, list] = {}
    for pid, t, score in built.memberships:
        members.setdefault(t, []).append((score, pid))
    rng = np.random.default_rng(17)
    picked = sorted(rng.choice(len(built.topics), size=min(20, len(built.topics)), replace=False).tolist())
    lines = ["# Topics hand check: 20 topics drawn at random (seed 17) from the evaluation corpus", ""]
    for t in picked:
        topic = built.topics[t]
        lines += [f"## topic {t}: {topic.label}", f"size {topic.size}, coherence {topic.coherence}", f"terms: {', '.join(topic.terms)}", ""]
        for score, pid in sorted(members[t], reverse=True)[:3]:
            lines += [f"- ({score:.2f}) {text_of[pid][:600]}", ""]
    sample.write_text("\n".join(lines), encoding="utf-8")
    row["hand_check_topics"] = picked
    print(json.dumps(row))


def markdown(results: dict, hand_check: list[dict] | None, commit: str) -> str:
    """The README block: the dev grid's kmeans-merge/HDBSCAN extremes, the chosen setting, the evaluation figures."""
    ev, chosen = results["evaluation"], results["dev"]["chosen"]["params"]
    lines = [f"Measured {results['date']} (commit {commit}), `python -m benchmarks.topics`; "
             f"results `benchmarks/results/{results['date']}-topics.json`.", "",
             "| corpus | setting | topics | unassigned (eligible) | NPMI (size-weighted) | seconds |", "|---|---|---|---|---|---|"]
    for row in results["dev"]["grid"]:
        p = row["params"]
        name = f"{p['method']} merge {p['merge_distance']} sim {p['min_similarity']}" if p["method"] == "kmeans-merge" else f"hdbscan min size {p['min_size']} sim {p['min_similarity']}"
        mark = " (chosen)" if p == chosen else ""
        lines.append(f"| dev ({results['dev']['eligible']} paragraphs) | {name}{mark} | {row['topics']} | {row['unassigned_share']:.1%} | {row['coherence']:.3f} | {row['seconds']} |")
    lines.append(f"| **AI subset ({ev['paragraphs']} paragraphs)** | chosen | **{ev['topics']}** | **{ev['unassigned_share']:.1%}** | **{ev['coherence']:.3f}** | **{ev['seconds']}** |")
    lines += ["", f"On the AI subset: {ev['unassigned_share_of_all']:.1%} of all {ev['all_paragraphs']} canonical paragraphs have no topic "
              f"(the {ev['all_paragraphs'] - ev['paragraphs']} under {MIN_WORDS} words included); the largest topic holds "
              f"{ev['largest_topic_share']:.1%}; clustering and labelling took {ev['seconds']} s, the whole process "
              f"{ev['process_wall_s']} s with a peak of {ev['peak_rss_mb']:.0f} MB (targets: 60 s, 1 GB)."]
    if hand_check:
        fits = sum(1 for h in hand_check if h["fits"])
        lines.append(f"Hand check of 20 random topics by an independent judge (guide `benchmarks/gold/TOPICS.md`): "
                     f"**{fits}/20** labels fit their central paragraphs.")
    return "\n".join(lines)


def update_readme(results_path: Path) -> None:
    from benchmarks.readme import replace_block

    results = json.loads(results_path.read_text())
    check = results_path.with_name(f"{results['date']}-topics-hand-check.jsonl")
    hand = [json.loads(line) for line in check.read_text().splitlines() if line.strip()] if check.exists() else None
    commit = results.get("commit", "")
    replace_block("topics", markdown(results, hand, commit), REPO / "README.md")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--update-readme", type=Path, metavar="RESULTS", help="write the README's topics block from a results file, then stop")
    args = parser.parse_args()
    if args.update_readme:
        update_readme(args.update_readme)
        return
    if args.child:
        child(Path(args.child[0]), json.loads(args.child[1]), Path(args.child[2]))
        return
    corpora = prepare_corpora(REPO / ".cache" / "bench", args.archive)
    dev = embedded_warehouse("dev", dev_folder(corpora["archive"]))
    evaluation = embedded_warehouse("ai", corpora["ai"])
    ids, texts, vectors, total = inputs(dev)
    print(f"dev: {len(ids)} eligible of {total} paragraphs", flush=True)
    grid = []
    for params in CANDIDATES:
        row = measure(ids, texts, vectors, params)
        grid.append(row)
        print(json.dumps(row), flush=True)
    best = max(grid, key=objective)
    chosen = ClusterParams(**best["params"])
    print(f"chosen on dev: {chosen}", flush=True)
    sample = args.results / f"{date.today()}-topics-hand-check.md"
    held = evaluate_in_child(evaluation, chosen, sample)
    print(json.dumps(held), flush=True)
    out = args.results / f"{date.today()}-topics.json"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    out.write_text(json.dumps({"date": str(date.today()), "commit": commit, "dev": {"paragraphs": total, "eligible": len(ids), "grid": grid, "chosen": best},
                               "evaluation": held, "objective": f"highest size-weighted NPMI with at most {MAX_UNASSIGNED:.0%} of eligible paragraphs unassigned and at most {MAX_LARGEST:.0%} in one topic",
                               "load_average": os.getloadavg()}, indent=2))
    print(f"wrote {out} and {sample}")


if __name__ == "__main__":
    main()
