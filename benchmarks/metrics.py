"""Scoring functions for the quality evaluation: plain Python, no pipeline, unit-tested."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from govnlp.records import normalize_text


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set, predicted: set) -> None:
        self.tp += len(gold & predicted)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else (1.0 if not self.fn else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


def set_prf(pairs: Iterable[tuple[set, set]]) -> PRF:
    """Micro precision/recall over (gold, predicted) sets."""
    score = PRF()
    for gold, predicted in pairs:
        score.add(set(gold), set(predicted))
    return score


def per_label_prf(pairs: Sequence[tuple[set, set]]) -> dict[str, tuple[PRF, int]]:
    """label -> (its PRF, gold support), for labels seen in gold or predictions."""
    labels = sorted({x for g, p in pairs for x in g | p})
    out = {}
    for label in labels:
        score = PRF()
        support = 0
        for gold, predicted in pairs:
            score.add({label} & gold, {label} & predicted)
            support += label in gold
        out[label] = (score, support)
    return out


_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


def same_title(gold: str | None, predicted: str | None) -> bool:
    """Exact match after Unicode, quote-style and whitespace normalization (case kept)."""
    def norm(s: str | None) -> str:
        s = re.sub("[\u200b-\u200d\u2060\ufeff\u00ad]", "", unicodedata.normalize("NFKC", s or ""))  # invisible characters
        return " ".join(s.translate(_QUOTES).split())

    return bool(gold) and norm(gold) == norm(predicted)


_MARKER = re.compile(r"^(?:[•·▪◦‣*>–—-]+|\(?\d+(?:\.\d+)*[.)]?|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])$", re.IGNORECASE)


def squeeze(text: str) -> str:
    """Letters and digits only, case-folded: the stream boundaries are compared in (blind to pypdf's stray spaces)."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def strip_marker(text: str) -> str:
    """A paragraph without its list or section marker ("•", "1.", "1.2.1", "(a)")."""
    tokens = text.split()
    while tokens and _MARKER.match(tokens[0]):
        tokens.pop(0)
    return " ".join(tokens)


def boundary_prf(gold_snippets: Sequence[str], predicted_paragraphs: Sequence[str], covered_to_end: bool = True) -> tuple[PRF, int]:
    """Paragraph-start F1 in the pipeline's character stream; returns (score, gold snippets not found).

    A boundary is the position where a paragraph's first word (after any list
    marker) starts.  Gold snippets are found in order, each after the previous
    one.  When the gold covers only part of the document (PDF page range),
    predicted starts after the last gold start are not counted.
    """
    stream, predicted = [], set()
    length = 0
    for text in predicted_paragraphs:
        body = squeeze(strip_marker(text))
        marker = squeeze(text)[: len(squeeze(text)) - len(body)]
        if body:
            predicted.add(length + len(marker))
        stream.append(squeeze(text))
        length += len(stream[-1])
    joined = "".join(stream)
    gold, missing, cursor = set(), 0, 0
    for snippet in gold_snippets:
        target = squeeze(strip_marker(snippet))
        at = joined.find(target, cursor) if target else -1
        if at < 0:
            missing += 1
            continue
        gold.add(at)
        cursor = at + 1
    if gold:
        low, high = min(gold), (len(joined) if covered_to_end else max(gold))
        predicted = {p for p in predicted if low <= p <= high}
    score = PRF()
    score.add(gold, predicted)
    score.fn += missing
    return score, missing


def clusters(parent: dict[str, str | None]) -> dict[str, str]:
    """doc_id -> root of its duplicate chain."""
    def root(d: str) -> str:
        seen = set()
        while parent.get(d) and d not in seen:
            seen.add(d)
            d = parent[d]
        return d

    return {d: root(d) for d in parent}


def alnum(text: str) -> str:
    return re.sub(r"\W+", "", text.casefold())
