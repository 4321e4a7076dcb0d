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

    return parse_text(text, wrapped=True if pdf else None).title


def _font_title(path: Path) -> str | None:
    from govnlp.ingest.title import largest_font_title

    return largest_font_title(path.read_bytes()) if path.suffix.lower() == ".pdf" else None


def dev_corpus_files(gold_file: str):
    """(gold row, file) for the wide corpus's dev publishers' PDFs and text exports (none without the corpus)."""
    from benchmarks import goldset, wide_corpus

    root = wide_corpus.corpus_root()
    if root is None:
        return
    part_of = wide_corpus.parts(wide_corpus.manifest(root))
    for row in goldset.load_jsonl(goldset.GOLD / gold_file):
        path = root / row["doc"]
        if part_of.get(row["doc"]) == "dev" and path.suffix.lower() in (".pdf", ".txt") and path.exists():
            yield row, path


def title_examples() -> list[tuple[str, str | None, str | None, str | None, str]]:
    """(text, metadata title, header rule's title, largest-font title, gold title) for dev documents read as plain text or PDF."""
    from benchmarks import goldset
    from benchmarks.whsite import load_markdown, render_text

    out = []
    for row, path in dev_corpus_files("documents.jsonl"):
        if row["title"]:
            text, meta = _reader_text(path), document_text(path)[1]
            out.append((text, meta, _rule_title(text, path.suffix.lower() == ".pdf"), _font_title(path), row["title"]))
    for row in goldset.load_jsonl(goldset.GOLD / "metadata.jsonl"):
        if row["input"] == "html" or any(k in row["doc"] for k in HELD_OUT_OLD_GOLD) or not row["title"]:
            continue
        if row["input"] == "text":
            front, body = load_markdown(goldset.resolve(row["doc"]))
            text, meta, pdf, font = render_text(front, body), None, False, None
        else:
            path = goldset.resolve(row["doc"])
            text, meta, pdf, font = _reader_text(path), document_text(path)[1], path.suffix.lower() == ".pdf", _font_title(path)
        out.append((text, meta, _rule_title(text, pdf), font, row["title"]))
    return out


def fit(rows: list[list[float]], labels: list[int], names: tuple[str, ...], balanced: bool = True, **extra) -> dict:
    """A standardized logistic regression as plain numbers (no pickle)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(rows, dtype=float)
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=1.0, class_weight="balanced" if balanced else None, max_iter=2000).fit((x - scaler.mean_) / scale, labels)
    return {"features": list(names), "mean": [round(float(v), 6) for v in scaler.mean_], "scale": [round(float(v), 6) for v in scale],
            "coef": [round(float(v), 6) for v in model.coef_[0]], "intercept": round(float(model.intercept_[0]), 6),
            "examples": len(labels), "positives": int(sum(labels)), **extra}


def train_titles() -> dict:
    from benchmarks.metrics import same_title
    from govnlp.ingest import title

    rows, labels, docs, covered = [], [], 0, 0
    for text, meta_title, rule_title, font_title, gold in title_examples():
        lines = title.opening_lines(text)
        pool = title.candidates(lines, meta_title, rule_title, font_title)
        hits = [same_title(gold.casefold(), c.text.casefold()) for c in pool]
        docs += 1
        covered += any(hits)
        for c, hit in zip(pool, hits):
            rows.append(title.features(c, lines, text, meta_title, rule_title, font_title))
            labels.append(int(hit))
    model = fit(rows, labels, title.FEATURES, documents=docs, title_among_candidates=covered)
    _write("title.json", model)
    return {k: model[k] for k in ("documents", "title_among_candidates", "examples", "positives")}


def segment_examples() -> list[tuple[str, str, list[str], bool]]:
    """(name, text as the reader sees it, gold paragraph starts, gold covers the whole text) for dev PDFs and text exports."""
    from benchmarks import goldset

    out = [(row["doc"], _reader_text(path), row["paragraphs"], row.get("to_page") is None) for row, path in dev_corpus_files("segments.jsonl")]
    for row in goldset.load_jsonl(goldset.GOLD / "paragraphs.jsonl"):
        if row["doc"].endswith(".pdf") and not any(k in row["doc"] for k in HELD_OUT_OLD_GOLD):
            out.append((row["doc"], _reader_text(goldset.resolve(row["doc"])), row["paragraphs"], row.get("to_page") is None))
    return out


def _reader_text(path: Path) -> str:
    text, _ = document_text(path)
    return text.replace("\f", "\n\f") if path.suffix.lower() == ".pdf" else text  # as read_pdf joins its pages


def label_breaks(text: str, gold: list[str], whole: bool):
    """(features, label, line) for each break between kept lines inside the gold's range; label 1 where a gold paragraph starts."""
    from benchmarks.metrics import align, squeeze, strip_marker
    from govnlp.ingest import segment
    from govnlp.ingest.text import TextLayout, scan_lines

    kept = scan_lines(text, TextLayout()).kept
    starts, stream = [], []
    offset = 0
    for line in kept:
        body = squeeze(strip_marker(line.text))
        starts.append(offset + len(squeeze(line.text)) - len(body))
        stream.append(squeeze(line.text))
        offset += len(stream[-1])
    joined = "".join(stream)
    gold_at = {at for at in align(gold, joined) if at is not None}
    if not gold_at:
        return []
    low, high = min(gold_at), (len(joined) if whole else max(gold_at))
    width_of = segment.widths([x.text for x in kept])
    out, paragraph = [], kept[0].text if kept else ""
    for k in range(1, len(kept)):
        label = int(starts[k] in gold_at)
        if low < starts[k] <= high:
            out.append((segment.features(kept[k - 1], kept[k], width_of[k - 1], paragraph), label))
        paragraph = kept[k].text if label else paragraph  # the paragraph so far, as the gold lays it out
    return out


def train_segments() -> dict:
    """Fit the break model; the threshold is chosen by leave-one-document-out predictions on dev."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from govnlp.ingest import segment

    rows, labels, groups, names = [], [], [], []
    for name, text, gold, whole in segment_examples():
        for vector, label in label_breaks(text, gold, whole):
            rows.append(vector)
            labels.append(label)
            groups.append(len(names))
        names.append(name)
    x, y = np.asarray(rows, dtype=float), np.asarray(labels)
    folds = min(len(names), 5)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    held = cross_val_predict(pipe, x, y, groups=groups, cv=GroupKFold(folds), method="predict_proba")[:, 1]

    def f1(threshold: float) -> float:
        predicted = held >= threshold
        tp = int((predicted & (y == 1)).sum())
        return 2 * tp / max(1, int(predicted.sum()) + int(y.sum()))

    threshold = max((round(t, 2) for t in np.arange(0.05, 0.81, 0.05)), key=f1)
    model = fit(rows, labels, segment.FEATURES, balanced=False, threshold=threshold, cv_break_f1=round(f1(threshold), 4), documents=names)
    model.pop("documents_count", None)
    _write("segment.json", model)
    return {"documents": len(names), "breaks": len(labels), "paragraph_starts": int(y.sum()), "threshold": threshold,
            "cv_break_f1": model["cv_break_f1"]}


def _write(name: str, model: dict) -> None:
    MODELS.mkdir(exist_ok=True)
    (MODELS / name).write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    which = (argv if argv is not None else sys.argv[1:]) or ["segments", "titles"]  # titles use the segmenter (the header rule)
    for name in which:
        if name == "titles":
            print("titles:", train_titles())
        elif name == "segments":
            print("segments:", train_segments())
        else:
            print(f"unknown model {name!r}: titles or segments", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
