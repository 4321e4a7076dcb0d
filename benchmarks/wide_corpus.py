"""Titles, dates, publishers, types and paragraphs on the wide corpus, dev and held-out publishers apart (issue 14).

    python -m benchmarks.wide_corpus                 # this checkout, with the baseline commit beside it
    python -m benchmarks.wide_corpus --subset        # a few documents per part (CI)
    python -m benchmarks.wide_corpus --baseline none # without the baseline

The documents come from ``../shared/corpora/wide/`` when the steering side
has placed them there, else from ``benchmarks/corpus/`` (git-ignored: fetched
public documents are not committed; MANIFEST.csv names each one's source).
Gold: ``benchmarks/gold/documents.jsonl`` and ``segments.jsonl`` (guide
``DOCUMENTS.md``); the split: ``benchmarks/gold/split.toml``.

Each file is read by the ingest stage's own reader (``govnlp.ingest.read_file``:
the same code the Prefect ingest flow runs per file).  The baseline is the
same reading done by an earlier commit (today's rules before this work) from
a git worktree under ``.cache/``, in the same run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tomllib
from collections import defaultdict
from datetime import date
from pathlib import Path

from benchmarks import goldset, metrics

CORPUS_DIRS = (goldset.SHARED / "corpora" / "wide", goldset.REPO / "benchmarks" / "corpus")
BASELINE_COMMIT = "f8e20aa"  # main before issue 14: the line rules this work measures itself against
FORMAT_OF = {".pdf": "pdf", ".txt": "text", ".md": "markdown", ".json": "json", ".html": "html", ".htm": "html"}


def corpus_root() -> Path | None:
    for folder in CORPUS_DIRS:
        if (folder / "MANIFEST.csv").exists() and any(p.is_dir() and any(p.iterdir()) for p in folder.iterdir() if p.is_dir()):
            return folder
    return None


def manifest(root: Path) -> dict[str, dict]:
    with open(root / "MANIFEST.csv", newline="", encoding="utf-8") as fh:
        return {row["file"]: row for row in csv.DictReader(fh)}


def parts(rows: dict[str, dict]) -> dict[str, str]:
    """file -> 'dev' | 'heldout' by publisher (split.toml); an unplaced publisher is an error."""
    split = tomllib.loads((goldset.GOLD / "split.toml").read_text(encoding="utf-8"))
    side = {p: "heldout" for p in split["heldout"]} | {p: "dev" for p in split["dev"]}
    unplaced = sorted({r["publisher"] for r in rows.values()} - set(side))
    if unplaced:
        raise SystemExit(f"benchmarks/gold/split.toml does not place these publishers: {unplaced}")
    return {f: side[r["publisher"]] for f, r in rows.items()}


# ---- reading (this checkout, or the baseline's) ----

def read(root: Path, refs: list[str]) -> dict[str, dict]:
    """What the ingest reader makes of each file: title, date (and precision), publisher, type, paragraphs."""
    from govnlp.ingest import read_file

    out = {}
    for ref in refs:
        docs, errors = read_file(goldset.source_file(root / ref), max_bytes=50_000_000)
        if not docs:
            out[ref] = {"error": errors[0].message if errors else "no document"}
            continue
        d = docs[0]
        pages = _pages(root / ref)
        out[ref] = {"page_ends": [len(metrics.squeeze("".join(pages[:n]))) for n in range(1, len(pages) + 1)],"title": d.title, "published_on": str(d.published_on) if d.published_on else None,
                    "date_precision": d.metadata.get("date_precision"), "publisher": d.publisher, "doc_type": d.doc_type,
                    "paragraphs": [p.text for p in d.paragraphs]}
    return out


def _pages(path: Path) -> list[str]:
    """The file's text page by page (PDF pages; form feeds in text), for the end of a labelled page range."""
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        return [page.extract_text() or "" for page in PdfReader(str(path)).pages]
    return path.read_text(encoding="utf-8", errors="replace").split("\f")


def read_at_commit(commit: str, root: Path, refs: list[str]) -> dict[str, dict]:
    """The same reading by the code of an earlier commit (a git worktree under .cache/, made once)."""
    tree = goldset.REPO / ".cache" / f"baseline-{commit}"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=goldset.REPO, check=True, capture_output=True)
    out = tree / "wide-corpus-reading.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "src"), str(goldset.REPO)])}
    subprocess.run([sys.executable, "-m", "benchmarks.wide_corpus", "--dump", str(out), "--root", str(root), *refs],
                   cwd=goldset.REPO, env=env, check=True)
    return json.loads(out.read_text(encoding="utf-8"))


# ---- scoring ----

def same_title(gold: str | None, got: str | None) -> bool:
    """The guide compares titles case-blind, with quotes, dashes and whitespace normalized."""
    return metrics.same_title((gold or "").casefold(), (got or "").casefold())


def score(gold_docs: list[dict], gold_segments: list[dict], reading: dict[str, dict], part_of: dict[str, str]) -> dict:
    groups: dict[tuple[str, str], dict] = defaultdict(lambda: {"documents": 0, "title": 0, "date": 0, "dated": 0, "publisher": 0, "doc_type": 0,
                                                              "boundaries": metrics.PRF(), "gold_paragraphs": 0, "whole": 0, "segmented_documents": 0})
    misses = []
    for row in gold_docs:
        ref, got = row["doc"], reading.get(row["doc"], {})
        for key in ((part_of[ref], "all"), (part_of[ref], FORMAT_OF[Path(ref).suffix.lower()])):
            g = groups[key]
            g["documents"] += 1
            g["title"] += same_title(row["title"], got.get("title"))
            g["date"] += (got.get("published_on") == row["published_on"])  # a missing date is wrong when one is stated
            g["dated"] += row["published_on"] is not None
            g["publisher"] += (got.get("publisher") or "").casefold() == (row.get("publisher") or "").casefold()
            g["doc_type"] += got.get("doc_type") == row.get("doc_type")
        if not same_title(row["title"], got.get("title")) or got.get("published_on") != row["published_on"]:
            misses.append({"doc": ref, "part": part_of[ref], "title": [row["title"], got.get("title")], "date": [row["published_on"], got.get("published_on")]})
    for row in gold_segments:
        ref, got = row["doc"], reading.get(row["doc"], {})
        full = row.get("to_page") is None
        ends = got.get("page_ends") or []
        limit = None if full or not ends else ends[min(row["to_page"], len(ends)) - 1]  # furniture is dropped: a bound, not exact
        prf, whole, n = metrics.boundary_prf_whole(row["paragraphs"], got.get("paragraphs", []), covered_to_end=full, limit=limit)
        for key in ((part_of[ref], "all"), (part_of[ref], FORMAT_OF[Path(ref).suffix.lower()])):
            g = groups[key]
            g["boundaries"].merge(prf)
            g["gold_paragraphs"] += n
            g["whole"] += whole
            g["segmented_documents"] += 1
    table = {}
    for (part, fmt), g in sorted(groups.items()):
        n = max(1, g["documents"])
        table[f"{part}/{fmt}"] = {
            "documents": g["documents"], "title_accuracy": round(g["title"] / n, 4), "date_accuracy": round(g["date"] / n, 4),
            "publisher_accuracy": round(g["publisher"] / n, 4), "doc_type_accuracy": round(g["doc_type"] / n, 4),
            "segmented_documents": g["segmented_documents"], "boundary_f1": round(g["boundaries"].f1, 4),
            "boundary_precision": round(g["boundaries"].precision, 4), "boundary_recall": round(g["boundaries"].recall, 4),
            "paragraphs_whole": round(g["whole"] / max(1, g["gold_paragraphs"]), 4), "gold_paragraphs": g["gold_paragraphs"],
        }
    return {"table": table, "misses": misses}


def evaluate(subset: bool = False, baseline: str | None = BASELINE_COMMIT) -> dict:
    root = corpus_root()
    if root is None:
        raise FileNotFoundError("the wide corpus is in neither ../shared/corpora/wide/ nor benchmarks/corpus/ (see benchmarks/corpus/README.md)")
    rows = manifest(root)
    part_of = parts(rows)
    gold_docs = [r for r in goldset.load_jsonl(goldset.GOLD / "documents.jsonl") if (root / r["doc"]).exists()]
    gold_segments = [r for r in goldset.load_jsonl(goldset.GOLD / "segments.jsonl") if (root / r["doc"]).exists()]
    if subset:  # per part and format, the first two documents: every reader, both sides
        seen: dict = defaultdict(int)
        keep = set()
        for r in gold_segments + gold_docs:
            key = (part_of[r["doc"]], FORMAT_OF[Path(r["doc"]).suffix.lower()])
            if seen[key] < 2 or r["doc"] in keep:
                seen[key] += r["doc"] not in keep
                keep.add(r["doc"])
        gold_docs = [r for r in gold_docs if r["doc"] in keep]
        gold_segments = [r for r in gold_segments if r["doc"] in keep]
    refs = sorted({r["doc"] for r in gold_docs} | {r["doc"] for r in gold_segments})
    result = {"date": date.today().isoformat(), "corpus": str(root), "documents": len(gold_docs), "segmented": len(gold_segments),
              "publishers": {part: sorted({rows[r]["publisher"] for r in refs if part_of[r] == part}) for part in ("dev", "heldout")},
              "pipeline": score(gold_docs, gold_segments, read(root, refs), part_of)}
    if baseline:
        result["baseline_commit"] = baseline
        result["baseline"] = score(gold_docs, gold_segments, read_at_commit(baseline, root, refs), part_of)
    return result


def render(result: dict) -> str:
    cols = ("title_accuracy", "date_accuracy", "doc_type_accuracy", "publisher_accuracy", "boundary_f1", "paragraphs_whole")
    lines = ["| part / format | docs | title | date | type | publisher | boundary F1 | whole paragraphs |", "|---|---|---|---|---|---|---|---|"]
    base = result.get("baseline", {}).get("table", {})
    for key, row in result["pipeline"]["table"].items():
        cells = []
        for c in cols:
            if c in ("boundary_f1", "paragraphs_whole") and not row["segmented_documents"]:
                cells.append("-")
                continue
            b = base.get(key, {}).get(c)
            cells.append(f"{row[c]:.3f}" + (f" ({b:.3f})" if b is not None else ""))
        lines.append(f"| {key} | {row['documents']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subset", action="store_true")
    parser.add_argument("--baseline", default=BASELINE_COMMIT, help="commit whose reading is the baseline ('none' to skip)")
    parser.add_argument("--update-readme", action="store_true", help="write the table into the README's wide block")
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # internal: write this checkout's reading of REFS as JSON
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("refs", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump:
        args.dump.write_text(json.dumps(read(args.root, args.refs)), encoding="utf-8")
        return 0
    result = evaluate(args.subset, None if args.baseline == "none" else args.baseline)
    out = goldset.REPO / "benchmarks" / "results" / f"{result['date']}-wide-corpus{'-subset' if args.subset else ''}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(render(result))
    print(f"(baseline in brackets: commit {result.get('baseline_commit', '-')}); details in {out}")
    if args.update_readme:
        from benchmarks.readme import replace_block

        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=goldset.REPO).stdout.strip()
        replace_block("wide", f"Wide corpus ({result['date']}, commit {commit}; baseline in brackets: commit {result.get('baseline_commit', '-')}, "
                              f"the line rules before this work; the held-out rows are the ones that count):\n\n{render(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
