"""Quotes stage against the hand-labelled gold (benchmarks/gold/quotes.jsonl, rules in QUOTES.md).

Each labelled document is read with the ingest code (``ingest.read_file``), its
within-document near-repeated paragraphs dropped as dedup does, then run
through the one-pass ``Annotator`` (entities, then quotes, one spaCy pass) as the
pipeline runs them. A prediction matches a gold
row when paragraph and speaker (case/space/punctuation-blind) agree and the
word-set Jaccard of the spans is >= 0.5. Gold rows with speaker null are
"don't care": neither missed nor counted against a prediction that hits them.

    python -m benchmarks.quotes_quality [--subset N] [--output benchmarks/results/<date>-quotes.json]
"""

from __future__ import annotations

import argparse
import json
import re
import tarfile
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "benchmarks" / "gold" / "quotes.jsonl"
SHARED = REPO.parent / "shared"


def load_gold(path: Path = GOLD) -> tuple[list[str], list[dict]]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[0]["documents"], lines[1:]


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def _name_key(name: str | None) -> str:
    return re.sub(r"[\W_]+", "", (name or "").casefold())


def jaccard(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


def source_path(source: str, shared: Path, cache: Path) -> Path:
    """seeds/... and corpora/... paths lie under shared/; 'archive.tar.gz#member' is unpacked once into cache."""
    if "#" not in source:
        return shared / source
    archive, member = source.split("#", 1)
    target = cache / member
    if not target.exists():
        with tarfile.open(shared / archive) as tar:
            tar.extract(member, cache, filter="data")
    return target


def read_paragraphs(path: Path):
    """The document's canonical paragraphs, as ingest + dedup produce them."""
    from govnlp import ingest
    from govnlp.dedup import prepare
    from govnlp.records import ParagraphText
    from govnlp.settings import Settings

    s = Settings()
    source = ingest._source_file(path, path.resolve().parent, {})
    docs, errors = ingest.read_file(source, s.max_file_bytes, s.max_text_chars)
    if not docs:
        raise RuntimeError(f"{path}: {errors}")
    out = []
    for doc in docs:
        near = prepare(doc, s.minhash_permutations, s.paragraph_near_duplicate_threshold).near_links
        out += [ParagraphText(p.paragraph_id, p.doc_id, p.position, p.text, p.text_hash) for p in doc.paragraphs if p.paragraph_id not in near]
    return out


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0, "tp": tp, "fp": fp, "fn": fn}


def evaluate(subset: int | None = None, model: str | None = None, shared: Path = SHARED, verbose: bool = False) -> dict:
    from govnlp.annotate import Annotator
    from govnlp.settings import Settings

    model = model or Settings().spacy_model
    documents, gold = load_gold()
    documents = documents[:subset] if subset else documents
    started = time.perf_counter()
    annotator = Annotator(model)
    load_seconds = time.perf_counter() - started
    counts = {k: {"tp": 0, "fp": 0, "fn": 0} for k in ("all", "direct", "reported")}
    unresolved, errors, n_paragraphs = 0, [], 0
    with tempfile.TemporaryDirectory() as cache:
        for source in documents:
            paragraphs = read_paragraphs(source_path(source, shared, Path(cache)))
            n_paragraphs += len(paragraphs)
            predicted = annotator.annotate(paragraphs).quotes
            by_head = {}
            for p in paragraphs:
                by_head.setdefault(" ".join(p.text[:60].split()), p.paragraph_id)
            rows = [g for g in gold if g["source"] == source]
            for g in rows:
                g["paragraph_id"] = by_head.get(" ".join(g["paragraph"].split()))
                if g["paragraph_id"] is None:
                    errors.append(f"gold paragraph not found: {source} {g['paragraph']!r}")
            matched: set[int] = set()
            for q in predicted:
                unresolved += q.speaker_entity_id is None
                hit = next((i for i, g in enumerate(rows) if i not in matched and g["paragraph_id"] == q.paragraph_id
                            and jaccard(g["quote"], q.text) >= 0.5
                            and (g["speaker"] is None or _name_key(g["speaker"]) == _name_key(q.speaker_name))), None)
                if hit is not None and rows[hit]["speaker"] is None:
                    matched.add(hit)  # don't care
                    continue
                kind = rows[hit]["kind"] if hit is not None else q.kind
                key = "tp" if hit is not None else "fp"
                if hit is not None:
                    matched.add(hit)
                elif verbose:
                    print(f"  FP [{q.kind}/{q.method}] {q.speaker_text!r}->{q.speaker_name!r}: {q.text[:90]!r}")
                counts["all"][key] += 1
                counts[kind][key] += 1
            for i, g in enumerate(rows):
                if i not in matched and g["speaker"] is not None:
                    counts["all"]["fn"] += 1
                    counts[g["kind"]]["fn"] += 1
                    if verbose:
                        print(f"  FN [{g['kind']}] {g['speaker']!r}: {g['quote'][:90]!r}")
    result = {
        "date": date.today().isoformat(),
        "model": model,
        "version": annotator.quote_extractor.version,
        "documents": len(documents),
        "paragraphs": n_paragraphs,
        "gold_scored": sum(1 for g in gold if g["source"] in documents and g["speaker"] is not None),
        **{k: _prf(**v) for k, v in counts.items()},
        "unresolved_speakers": unresolved,
        "seconds": round(time.perf_counter() - started, 1),
        "model_load_seconds": round(load_seconds, 1),
        "errors": errors,
    }
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subset", type=int, help="only the first N labelled documents")
    ap.add_argument("--output", type=Path, help="write the result JSON here")
    ap.add_argument("--model", help="spaCy model (default: settings)")
    ap.add_argument("--verbose", action="store_true", help="print every false positive and miss")
    args = ap.parse_args(argv)
    result = evaluate(args.subset, args.model, verbose=args.verbose)
    for k in ("all", "direct", "reported"):
        r = result[k]
        print(f"{k:9s} P={r['precision']:.3f} R={r['recall']:.3f} F1={r['f1']:.3f} (tp={r['tp']} fp={r['fp']} fn={r['fn']})")
    print(f"unresolved speakers: {result['unresolved_speakers']}; {result['documents']} documents, {result['seconds']} s")
    for e in result["errors"]:
        print("ERROR", e)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
