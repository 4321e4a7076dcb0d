"""Train the ingest models on the dev publishers' gold: the title scorer and the paragraph-break model.

    python -m govnlp.ingest.train            # both, from the repository root
    python -m govnlp.ingest.train titles
    python -m govnlp.ingest.train segments

Reads ``benchmarks/gold`` (guides DOCUMENTS.md, PARAGRAPHS.md,
DUPLICATES_METADATA.md) and the documents they reference; only publishers
on the dev side of ``benchmarks/gold/split.toml`` are used, so the held-out
figures of ``python -m benchmarks.wide_corpus`` stay honest.  Writes
``src/govnlp/ingest/models/title.json`` and ``segment.json``: plain
coefficients (scikit-learn's logistic regression, standardized features),
the same bytes for the same gold and corpus.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MODELS = Path(__file__).with_name("models")
HELD_OUT_OLD_GOLD = ("Artificial_Intelligence_Risk_Management_Framework",)  # NIST: a held-out publisher of the wide corpus


def document_text(path: Path) -> tuple[str, str | None]:
    """(text as the reader sees it, pages separated by form feeds; the file's own metadata title)."""
    from govnlp.ingest.decode import clean_text, decode_bytes

    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        info = reader.metadata or {}
        title = info.get("/Title") if hasattr(info, "get") else None
        return clean_text("\f".join(page.extract_text() or "" for page in reader.pages)), (str(title).strip() or None) if title else None
    return decode_bytes(path.read_bytes()), None


def _rule_title(text: str, pdf: bool) -> str | None:
    from govnlp.ingest.text import parse_text

    return parse_text(text.replace("\f", "\n"), wrapped=True if pdf else None).title


def title_examples() -> list[tuple[str, str | None, str | None, str]]:
    """(text, metadata title, header rule's title, gold title) for dev documents read as plain text or PDF."""
    from benchmarks import goldset, wide_corpus
    from benchmarks.whsite import load_markdown, render_text

    out = []
    root = wide_corpus.corpus_root()
    if root is not None:
        part_of = wide_corpus.parts(wide_corpus.manifest(root))
        for row in goldset.load_jsonl(goldset.GOLD / "documents.jsonl"):
            path = root / row["doc"]
            if part_of.get(row["doc"]) == "dev" and path.suffix.lower() in (".pdf", ".txt") and path.exists() and row["title"]:
                text, meta = document_text(path)
                out.append((text, meta, _rule_title(text, path.suffix.lower() == ".pdf"), row["title"]))
    for row in goldset.load_jsonl(goldset.GOLD / "metadata.jsonl"):
        if row["input"] == "html" or any(k in row["doc"] for k in HELD_OUT_OLD_GOLD) or not row["title"]:
            continue
        if row["input"] == "text":
            front, body = load_markdown(goldset.resolve(row["doc"]))
            text, meta, pdf = render_text(front, body), None, False
        else:
            path = goldset.resolve(row["doc"])
            (text, meta), pdf = document_text(path), path.suffix.lower() == ".pdf"
        out.append((text, meta, _rule_title(text, pdf), row["title"]))
    return out


def fit(rows: list[list[float]], labels: list[int], names: tuple[str, ...], **extra) -> dict:
    """A standardized logistic regression as plain numbers (no pickle)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(rows, dtype=float)
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit((x - scaler.mean_) / scale, labels)
    return {"features": list(names), "mean": [round(float(v), 6) for v in scaler.mean_], "scale": [round(float(v), 6) for v in scale],
            "coef": [round(float(v), 6) for v in model.coef_[0]], "intercept": round(float(model.intercept_[0]), 6),
            "examples": len(labels), "positives": int(sum(labels)), **extra}


def train_titles() -> dict:
    from benchmarks.metrics import same_title
    from govnlp.ingest import title

    rows, labels, docs, covered = [], [], 0, 0
    for text, meta_title, rule_title, gold in title_examples():
        lines = title.opening_lines(text)
        pool = title.candidates(lines, meta_title, rule_title)
        hits = [same_title(gold.casefold(), c.text.casefold()) for c in pool]
        docs += 1
        covered += any(hits)
        for c, hit in zip(pool, hits):
            rows.append(title.features(c, lines, text, meta_title, rule_title))
            labels.append(int(hit))
    model = fit(rows, labels, title.FEATURES, documents=docs, title_among_candidates=covered)
    _write("title.json", model)
    return {k: model[k] for k in ("documents", "title_among_candidates", "examples", "positives")}


def _write(name: str, model: dict) -> None:
    MODELS.mkdir(exist_ok=True)
    (MODELS / name).write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    which = (argv if argv is not None else sys.argv[1:]) or ["titles", "segments"]
    for name in which:
        if name == "titles":
            print("titles:", train_titles())
        elif name == "segments":
            from govnlp.ingest.segment_train import train_segments

            print("segments:", train_segments())
        else:
            print(f"unknown model {name!r}: titles or segments", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
