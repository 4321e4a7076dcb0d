"""Quality of every stage against the hand-labelled gold in benchmarks/gold/.

    python -m benchmarks.quality            # full: all gold documents (a few minutes)
    python -m benchmarks.quality --subset   # seeds and a few pairs (CI)
    python -m benchmarks.quality --update-readme

Runs the real pipeline (the Prefect ingestion flow, real models) on the gold
documents into temporary warehouses and prints, per stage, the pipeline's
figures next to a plain baseline measured in the same run: stock spaCy
entities (no rules, no canonicalization), a nearest-theme baseline (each
paragraph's single nearest theme description, no examples), one paragraph
per extracted line, exact-hash duplicates.  Results go to
benchmarks/results/<date>-quality[-subset].json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from benchmarks import goldset, metrics, wide_corpus
from benchmarks.readme import replace_block

RESULTS = goldset.REPO / "benchmarks" / "results"
TARGETS = {
    ("entities", "canonical_f1"): 0.85,
    ("entities", "gain_over_stock"): 0.25,
    ("themes", "micro_f1"): 0.75,
    ("themes", "weakest_frequent_f1"): 0.5,
    ("metadata", "date_accuracy"): 0.97,
    ("metadata", "title_accuracy"): 0.95,
    ("paragraphs", "pdf_boundary_f1"): 0.95,
    ("duplicates", "precision"): 0.98,
    ("duplicates", "recall"): 0.95,
}


# ---- inputs: gold references -> files in a temporary folder ----

def _copy(ref: str, folder: Path, name: str) -> Path:
    src = goldset.resolve(ref)
    dst = folder / f"{name}{src.suffix}"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


def _uri(path: Path) -> str:
    return path.absolute().as_uri()


def variant_text(side: dict) -> str:
    """A re-published version of a file: header after the front matter, footer, edited sentences."""
    text = goldset.resolve(side["ref"]).read_text(encoding="utf-8")
    front, body = "", text
    if text.startswith("---"):
        end = text.find("\n---", 3)
        front, body = text[: end + 4] + "\n", text[end + 4 :]
    for old, new in side.get("replace", []):
        if body.count(old) != 1:
            raise ValueError(f"{side['ref']}: replacement text found {body.count(old)} times: {old[:60]!r}")
        body = body.replace(old, new)
    if side.get("header"):
        body = "\n" + side["header"] + "\n\n" + body.lstrip("\n")
    if side.get("footer"):
        body = body.rstrip() + "\n\n" + side["footer"] + "\n"
    return front + body


def load_gold(subset: bool) -> dict:
    gold = {
        "annotations": [r for p in sorted(goldset.GOLD.glob("annotations-*.jsonl")) for r in goldset.load_jsonl(p)],
        "paragraphs": goldset.load_jsonl(goldset.GOLD / "paragraphs.jsonl") if (goldset.GOLD / "paragraphs.jsonl").exists() else [],
        "metadata": goldset.load_jsonl(goldset.GOLD / "metadata.jsonl") if (goldset.GOLD / "metadata.jsonl").exists() else [],
        "duplicates": goldset.load_jsonl(goldset.GOLD / "duplicates.jsonl") if (goldset.GOLD / "duplicates.jsonl").exists() else [],
    }
    if subset:  # the seeds, plus enough of each kind that every scorer runs
        gold["annotations"] = [r for r in gold["annotations"] if r["doc"].startswith("seeds/")]
        gold["paragraphs"] = [r for r in gold["paragraphs"] if r["doc"].startswith("seeds/")]
        gold["metadata"] = [r for r in gold["metadata"] if r["doc"].startswith("seeds/")] + [r for r in gold["metadata"] if "#" in r["doc"]][:4]
        by_kind = {}
        for pair in gold["duplicates"]:
            by_kind.setdefault(pair["kind"], []).append(pair)
        gold["duplicates"] = [p for pairs in by_kind.values() for p in pairs[:3]]
    return gold


def prepare(gold: dict, work: Path) -> dict:
    """Write every input file; returns where each gold item's document lives (file URI)."""
    where = {"main": {}, "meta": [], "dups": []}
    main = work / "in" / "main"
    for i, ref in enumerate(sorted({r["doc"] for r in gold["annotations"]} | {r["doc"] for r in gold["paragraphs"]})):
        where["main"][ref] = _uri(_copy(ref, main, f"{i:03d}-{Path(ref.split('#')[-1]).stem[:60]}"))
    meta = work / "in" / "meta"
    meta.mkdir(parents=True, exist_ok=True)
    for i, row in enumerate(gold["metadata"]):
        stem = f"{i:03d}-{Path(row['doc'].split('#')[-1]).stem[:60]}"
        if row["input"] == "as_is":
            path = _copy(row["doc"], meta, stem)
        else:
            from benchmarks.whsite import load_markdown, render_page, render_text

            front, body = load_markdown(goldset.resolve(row["doc"]))
            path = meta / (stem + (".html" if row["input"] == "html" else ".txt"))
            path.write_text(render_page(front, body) if row["input"] == "html" else render_text(front, body), encoding="utf-8")
        where["meta"].append(_uri(path))
    dups = work / "in" / "dups"
    dups.mkdir(parents=True, exist_ok=True)
    made: dict[str, str] = {}
    for i, pair in enumerate(gold["duplicates"]):
        uris = []
        for side_name in ("a", "b"):
            side = pair[side_name]
            key = json.dumps(side, sort_keys=True)
            if key not in made:
                if isinstance(side, str):
                    made[key] = _uri(_copy(side, dups, f"r{len(made):04d}"))
                else:
                    path = dups / f"v{len(made):04d}{goldset.resolve(side['ref']).suffix}"
                    path.write_text(variant_text(side), encoding="utf-8")
                    made[key] = _uri(path)
            uris.append(made[key])
        where["dups"].append(tuple(uris))
    return where


def run_pipeline(folder: Path, warehouse: Path, stages: list[str]) -> None:
    from flows.ingest import ingest_flow

    result = ingest_flow(sources=[str(folder)], warehouse=str(warehouse), stages=stages)
    if not isinstance(result, dict):
        raise RuntimeError(f"the pipeline run on {folder} did not complete: {result}")


# ---- scoring ----

def _doc_paragraphs(con, uri: str, record: int) -> list[tuple[str, str, str]]:
    """(paragraph_id, canonical paragraph id, text) in order."""
    return con.execute(
        """SELECT p.paragraph_id, coalesce(p.duplicate_of, p.paragraph_id), p.text FROM paragraphs p
           JOIN documents d USING (doc_id) WHERE d.source_uri = ? AND d.record_index = ? ORDER BY p.position""",
        [uri, record]).fetchall()


def _match(paragraphs, text: str):
    """Where a gold paragraph is in the pipeline's paragraphs: [(canonical paragraph id, offset of the gold text in it or None)].

    Exact or contained first (offsets valid, spans scored); else the pipeline
    paragraphs lying inside the gold text when they cover most of it (the
    pipeline split the paragraph: names and themes scored, spans not); else None.
    """
    for _, canonical, ptext in paragraphs:
        if ptext == text:
            return [(canonical, 0)]
    for _, canonical, ptext in paragraphs:
        at = ptext.find(text)
        if at >= 0:
            return [(canonical, at)]
    flat = " ".join(text.split())
    inside = [(canonical, " ".join(ptext.split())) for _, canonical, ptext in paragraphs if len(ptext) >= 20 and " ".join(ptext.split()) in flat]
    if inside and sum(len(t) for _, t in inside) >= 0.8 * len(flat):
        return [(canonical, None) for canonical, _ in inside]
    return None


def score_annotations(con, rows: list[dict], where: dict, settings) -> dict:
    mentions, themes = {}, {}
    for pid, start, end, label, name in con.execute(
            "SELECT m.paragraph_id, m.start_char, m.end_char, m.label, e.canonical_name FROM mentions m JOIN entities e USING (entity_id)").fetchall():
        mentions.setdefault(pid, []).append((start, end, label, name))
    for pid, theme in con.execute("SELECT paragraph_id, theme_id FROM paragraph_themes WHERE assigned").fetchall():
        themes.setdefault(pid, set()).add(theme)
    ent_pairs, span_pairs, theme_pairs, unmatched, split_paragraphs = {"all": [], "test": []}, [], [], 0, 0
    for row in rows:
        gold_ents = {(e["canonical"], e["type"]) for e in row["entities"]}
        gold_spans = {(e["start"], e["end"], e["type"]) for e in row["entities"]}
        hits = _match(_doc_paragraphs(con, where["main"][row["doc"]], row.get("record", 0)), row["paragraph"])
        pred_ents, pred_spans, pred_themes = set(), set(), set()
        if hits is None:
            unmatched += 1
        for canonical, offset in hits or []:
            found = [m for m in mentions.get(canonical, []) if offset is None or (offset <= m[0] and m[1] <= offset + len(row["paragraph"]))]
            pred_ents |= {(name, label) for _, _, label, name in found}
            pred_themes |= themes.get(canonical, set())
            if offset is not None:
                pred_spans |= {(s - offset, e - offset, label) for s, e, label, _ in found}
            else:
                split_paragraphs += 1
        ent_pairs["all"].append((gold_ents, pred_ents))
        if row.get("split") == "test":
            ent_pairs["test"].append((gold_ents, pred_ents))
        span_pairs.append((gold_spans, pred_spans))
        theme_pairs.append((set(row["themes"]), pred_themes))
    stock = stock_spacy(rows, settings)
    nearest = nearest_theme(rows, settings)
    per_theme = metrics.per_label_prf(theme_pairs)
    frequent = {t: s.f1 for t, (s, n) in per_theme.items() if n >= 10}
    canonical_all = metrics.set_prf(ent_pairs["all"])
    return {
        "paragraphs": len(rows), "documents": len({r["doc"] + str(r.get("record", 0)) for r in rows}), "unmatched_paragraphs": unmatched, "split_paragraph_pieces": split_paragraphs,
        "entities": {
            "canonical": canonical_all.as_dict(),
            "canonical_test_split": metrics.set_prf(ent_pairs["test"]).as_dict(),
            "spans": metrics.set_prf(span_pairs).as_dict(),
            "stock_spacy_canonical": stock["canonical"].as_dict(),
            "stock_spacy_spans": stock["spans"].as_dict(),
            "gain_over_stock": round(canonical_all.f1 - stock["canonical"].f1, 4),
            "per_type": {t: s.as_dict() for t, (s, _) in metrics.per_label_prf(
                [({t for _, t in g}, {t for _, t in p}) for g, p in ent_pairs["all"]]).items()},
        },
        "themes": {
            "micro": metrics.set_prf(theme_pairs).as_dict(),
            "macro_f1": round(sum(s.f1 for s, _ in per_theme.values()) / max(1, len(per_theme)), 4),
            "per_theme": {t: {**s.as_dict(), "support": n} for t, (s, n) in per_theme.items()},
            "weakest_frequent": min(frequent.items(), key=lambda kv: kv[1]) if frequent else None,
            "baseline_micro": nearest["micro"].as_dict(),
            "baseline_macro_f1": nearest["macro_f1"],
        },
    }


def stock_spacy(rows: list[dict], settings) -> dict:
    """Stock spaCy: its entities of the seven types, surface text as the name."""
    import spacy

    from govnlp.records import ENTITY_LABELS

    nlp = spacy.load(settings.spacy_model)
    canonical, spans = metrics.PRF(), metrics.PRF()
    for row, doc in zip(rows, nlp.pipe(r["paragraph"] for r in rows)):
        ents = [e for e in doc.ents if e.label_ in ENTITY_LABELS]
        canonical.add({(e["canonical"], e["type"]) for e in row["entities"]}, {(e.text, e.label_) for e in ents})
        spans.add({(e["start"], e["end"], e["type"]) for e in row["entities"]}, {(e.start_char, e.end_char, e.label_) for e in ents})
    return {"canonical": canonical, "spans": spans}


def nearest_theme(rows: list[dict], settings) -> dict:
    """Each paragraph's nearest theme by its description alone, kept above the default threshold."""
    import numpy as np

    from govnlp.embed import Embedder
    from govnlp.themes import load_taxonomy

    taxonomy = load_taxonomy(settings.taxonomy)
    embedder = Embedder(settings.embed_model, settings.embed_device, settings.embed_batch_size)
    theme_vecs = np.asarray(embedder.encode_texts([f"{t.label}. {t.description}" for t in taxonomy.themes]))
    para_vecs = np.asarray(embedder.encode_texts([r["paragraph"] for r in rows]))
    sims = para_vecs @ theme_vecs.T
    pairs = []
    for row, scores in zip(rows, sims):
        best = int(np.argmax(scores))
        pairs.append((set(row["themes"]), {taxonomy.themes[best].theme_id} if scores[best] >= settings.theme_threshold else set()))
    per = metrics.per_label_prf(pairs)
    return {"micro": metrics.set_prf(pairs), "macro_f1": round(sum(s.f1 for s, _ in per.values()) / max(1, len(per)), 4)}


def score_metadata(con, rows: list[dict], uris: list[str]) -> dict:
    found = {(u, r): (t, d, p, k) for u, r, t, d, p, k in con.execute(
        "SELECT source_uri, record_index, title, published_on, publisher, doc_type FROM documents").fetchall()}
    counts, misses = Counter(), []
    for row, uri in zip(rows, uris):
        title, published, publisher, doc_type = found.get((uri, row.get("record", 0)), (None, None, None, None))
        ok = {
            "title": metrics.same_title(row["title"], title),
            "date": (str(published) if published else None) == row["published_on"],
            "publisher": (publisher or "").casefold() == (row.get("publisher") or "").casefold(),
            "doc_type": doc_type == row.get("doc_type"),
        }
        counts.update({k: int(v) for k, v in ok.items()})
        if not (ok["title"] and ok["date"]):
            misses.append({"doc": row["doc"], "input": row["input"], "title": [row["title"], title], "date": [row["published_on"], str(published)]})
    n = max(1, len(rows))
    return {"documents": len(rows), "title_accuracy": round(counts["title"] / n, 4), "date_accuracy": round(counts["date"] / n, 4),
            "publisher_accuracy": round(counts["publisher"] / n, 4), "doc_type_accuracy": round(counts["doc_type"] / n, 4),
            "misses": misses}


def _baseline_lines(ref: str, record: int) -> list[str]:
    """The plain baseline: every non-empty line of the extracted text is a paragraph."""
    path = goldset.resolve(ref)
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        text = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    else:
        text = path.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip()]


def score_paragraphs(con, rows: list[dict], where: dict) -> dict:
    out, pdf, pdf_base, other, other_base, missing = {}, metrics.PRF(), metrics.PRF(), metrics.PRF(), metrics.PRF(), 0
    for row in rows:
        texts = [t for _, _, t in _doc_paragraphs(con, where["main"][row["doc"]], row.get("record", 0))]
        full = "to_page" not in row or row.get("to_page") is None
        score, lost = metrics.boundary_prf(row["paragraphs"], texts, covered_to_end=full)
        base, _ = metrics.boundary_prf(row["paragraphs"], _baseline_lines(row["doc"], row.get("record", 0)), covered_to_end=full)
        is_pdf = row["doc"].endswith(".pdf")
        for total, s in ((pdf if is_pdf else other, score), (pdf_base if is_pdf else other_base, base)):
            total.tp, total.fp, total.fn = total.tp + s.tp, total.fp + s.fp, total.fn + s.fn
        missing += lost
        out[f"{row['doc']}#{row.get('record', 0)}"] = score.as_dict()
    return {"pdf": pdf.as_dict(), "pdf_baseline": pdf_base.as_dict(), "seeds": other.as_dict(), "seeds_baseline": other_base.as_dict(),
            "gold_starts_not_found": missing, "per_document": out}


def score_duplicates(con, rows: list[dict], pairs: list[tuple[str, str]]) -> dict:
    docs = con.execute("SELECT doc_id, source_uri, duplicate_of, content_hash FROM documents WHERE record_index = 0").fetchall()
    by_uri = {u: (d, h) for d, u, _, h in docs}
    root = metrics.clusters({d: dup for d, _, dup, _ in docs})
    score, base, errors = metrics.PRF(), metrics.PRF(), []
    for row, (a, b) in zip(rows, pairs):
        if a not in by_uri or b not in by_uri:
            errors.append({"pair": row, "why": "a side was not stored"})
            predicted = baseline = False
        else:
            predicted = root[by_uri[a][0]] == root[by_uri[b][0]]
            baseline = by_uri[a][1] == by_uri[b][1]
        gold = row["label"] == "duplicate"
        for s, p in ((score, predicted), (base, baseline)):
            s.tp += gold and p
            s.fp += (not gold) and p
            s.fn += gold and not p
        if predicted != gold:
            errors.append({"kind": row["kind"], "gold": row["label"], "note": row.get("note", "")})
    kinds = Counter(r["kind"] for r in rows)
    return {"pairs": len(rows), "by_kind": dict(kinds), **score.as_dict(), "baseline_exact_hash": base.as_dict(), "errors": errors}


# ---- the command ----

def evaluate(subset: bool = False, keep: Path | None = None, only: set[str] | None = None) -> dict:
    from govnlp.settings import load_settings
    from govnlp.warehouse import open_reader

    settings = load_settings()
    gold = load_gold(subset)
    if only:
        gold = {k: (v if k in only else []) for k, v in gold.items()}
    work = Path(keep or tempfile.mkdtemp(prefix="govnlp-quality-"))
    where = prepare(gold, work)
    result = {"date": date.today().isoformat(), "commit": _commit(), "subset": subset}

    def scored(name: str, stages: list[str], score) -> None:
        """Run the pipeline on one input folder into its own warehouse, then score it."""
        warehouse = work / f"{name}.duckdb"
        run_pipeline(work / "in" / name, warehouse, stages)
        con = open_reader(warehouse)
        try:
            score(con)
        finally:
            con.close()

    def score_main(con) -> None:
        if gold["annotations"]:
            result["annotations"] = score_annotations(con, gold["annotations"], where, settings)
        if gold["paragraphs"]:
            result["paragraphs"] = score_paragraphs(con, gold["paragraphs"], where)

    if gold["annotations"] or gold["paragraphs"]:
        scored("main", ["ingest", "entities", "embed", "themes"], score_main)
    if gold["metadata"]:
        scored("meta", ["ingest"], lambda con: result.update(metadata=score_metadata(con, gold["metadata"], where["meta"])))
    if gold["duplicates"]:
        scored("dups", ["ingest"], lambda con: result.update(duplicates=score_duplicates(con, gold["duplicates"], where["dups"])))
    result["checks"] = check_targets(result)
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return result


def check_targets(result: dict) -> list[dict]:
    a, m, p, d = result.get("annotations", {}), result.get("metadata"), result.get("paragraphs"), result.get("duplicates")
    values = {}
    if a:
        values[("entities", "canonical_f1")] = (a["entities"]["canonical"]["f1"], a["entities"]["stock_spacy_canonical"]["f1"])
        values[("entities", "gain_over_stock")] = (a["entities"]["gain_over_stock"], None)
        values[("themes", "micro_f1")] = (a["themes"]["micro"]["f1"], a["themes"]["baseline_micro"]["f1"])
        weakest = a["themes"]["weakest_frequent"]
        values[("themes", "weakest_frequent_f1")] = (weakest[1] if weakest else 1.0, None)
    if m:
        values[("metadata", "date_accuracy")] = (m["date_accuracy"], None)
        values[("metadata", "title_accuracy")] = (m["title_accuracy"], None)
    if p:
        values[("paragraphs", "pdf_boundary_f1")] = (p["pdf"]["f1"], p["pdf_baseline"]["f1"])
    if d:
        values[("duplicates", "precision")] = (d["precision"], d["baseline_exact_hash"]["precision"])
        values[("duplicates", "recall")] = (d["recall"], d["baseline_exact_hash"]["recall"])
    return [{"stage": s, "metric": k, "value": v, "baseline": b, "target": TARGETS[(s, k)], "met": v >= TARGETS[(s, k)]}
            for (s, k), (v, b) in values.items()]


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=goldset.REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def render_table(result: dict) -> str:
    lines = [f"Quality on the gold ({result['date']}, commit {result['commit']}{', CI subset' if result['subset'] else ''}):", "",
             "| stage | metric | govnlp | baseline | target | met |", "|---|---|---:|---:|---:|---|"]
    for c in result["checks"]:
        base = "-" if c["baseline"] is None else f"{c['baseline']:.3f}"
        lines.append(f"| {c['stage']} | {c['metric'].replace('_', ' ')} | {c['value']:.3f} | {base} | {c['target']:.2f} | {'yes' if c['met'] else '**no**'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subset", action="store_true", help="seeds and a few pairs only (CI)")
    parser.add_argument("--keep", type=Path, help="keep the inputs and warehouses in this folder")
    parser.add_argument("--only", help="comma-separated: annotations,paragraphs,metadata,duplicates,wide (while iterating)")
    parser.add_argument("--output", type=Path, help="results file [default: benchmarks/results/<date>-quality[-subset].json]")
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    result = evaluate(args.subset, args.keep, only)
    wide = None
    if (only is None or "wide" in only) and wide_corpus.corpus_root() is not None:  # the wide corpus: dev and held-out publishers
        wide = wide_corpus.evaluate(args.subset)
        result["wide_corpus"] = wide
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = args.output or RESULTS / f"{result['date']}-quality{'-subset' if args.subset else ''}.json"
    out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    table = render_table(result)
    print(table)
    if wide is not None:
        print("\nWide corpus (baseline in brackets: the line rules before issue 14):\n" + wide_corpus.render(wide))
    elif only is None or "wide" in only:
        print("\nWide corpus: not here (benchmarks/corpus/README.md), not evaluated")
    print(f"\nwritten to {out}")
    if args.update_readme:
        replace_block("quality", table)


if __name__ == "__main__":
    main()
