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

    def merge(self, other: PRF) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

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


def align(gold_snippets: Sequence[str], joined: str, limit: int | None = None) -> list[int | None]:
    """Where each gold paragraph starts in the squeezed stream ``joined``, in order; None where it is not found.

    Each entry is searched after the previous one.  An entry found only beyond
    where the next (longer) entry already matches is taken as missing: a short
    heading the pipeline dropped ("Introduction") must not pull the search past
    the rest of the document.  ``limit``: nothing is looked for at or past it.
    """
    gold: list[int | None] = []
    cursor = 0
    targets = [squeeze(strip_marker(snippet)) for snippet in gold_snippets]
    for k, target in enumerate(targets):
        at = joined.find(target, cursor) if target else -1
        following = targets[k + 1] if k + 1 < len(targets) else ""
        after = joined.find(following, cursor) if following else -1
        if at < 0 or (limit is not None and at >= limit) or (0 <= after < at and len(following) > len(target)):
            gold.append(None)
            continue
        gold.append(at)
        cursor = at + 1
    return gold


def _starts(gold_snippets: Sequence[str], predicted_paragraphs: Sequence[str], covered_to_end: bool, limit: int | None = None):
    """(gold start positions in order, None where not found; predicted starts in range; stream length).

    ``limit``: no gold entry is looked for at or past this position (the end of the labelled page range).
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
    gold = align(gold_snippets, joined, limit)
    found = [g for g in gold if g is not None]
    if found:
        low, high = min(found), (len(joined) if covered_to_end else max(found))
        predicted = {p for p in predicted if low <= p <= high}
    return gold, predicted, len(joined)


def _score(gold: list[int | None], predicted: set[int]) -> PRF:
    """Starts found in both; a gold start not found at all counts as missed."""
    score = PRF()
    score.add({g for g in gold if g is not None}, predicted)
    score.fn += sum(g is None for g in gold)
    return score


def boundary_prf(gold_snippets: Sequence[str], predicted_paragraphs: Sequence[str], covered_to_end: bool = True) -> tuple[PRF, int]:
    """Paragraph-start F1 in the pipeline's character stream; returns (score, gold snippets not found).

    A boundary is the position where a paragraph's first word (after any list
    marker) starts.  Gold snippets are found in order, each after the previous
    one.  When the gold covers only part of the document (PDF page range),
    predicted starts after the last gold start are not counted.
    """
    gold, predicted, _ = _starts(gold_snippets, predicted_paragraphs, covered_to_end)
    return _score(gold, predicted), sum(g is None for g in gold)


def boundary_prf_whole(gold_snippets: Sequence[str], predicted_paragraphs: Sequence[str], covered_to_end: bool = True,
                       limit: int | None = None) -> tuple[PRF, int, int]:
    """Boundary F1 plus how many gold paragraphs were stored as exactly one paragraph, out of how many are judged.

    A gold paragraph is whole when a stored paragraph starts where it starts
    and the next stored start is where the next gold paragraph starts (or the
    document ends).  The last gold paragraph of a page range cannot be judged
    (its end lies beyond the range) and is left out of the count.
    """
    gold, predicted, length = _starts(gold_snippets, predicted_paragraphs, covered_to_end, limit)
    score = _score(gold, predicted)
    ordered = sorted(predicted)
    whole, judged = 0, 0
    for i, start in enumerate(gold):
        last = i == len(gold) - 1
        if last and not covered_to_end:
            continue
        judged += 1
        if start is None or start not in predicted:
            continue
        nxt = next((p for p in ordered if p > start), length)
        end = length if last else gold[i + 1]
        whole += end is not None and nxt == end
    return score, whole, judged


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
