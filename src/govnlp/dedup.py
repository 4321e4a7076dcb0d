"""Duplicates: exact and near-duplicate documents, repeated paragraphs.

Nothing is dropped: a duplicate keeps its rows and points at its canonical
copy (``duplicate_of``); later stages process canonical paragraphs only, so
every distinct text goes through each model once.

- Documents: exact by normalized content hash, near by MinHash LSH
  (datasketch) over word 5-gram shingles, verified by estimated Jaccard.
- Paragraphs: exact by normalized text hash across the whole warehouse;
  near within one document (repeated photo captions, re-quoted passages)
  by Jaccard of word 3-gram shingles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from govnlp.records import Document, Paragraph, normalize_text

DOC_SHINGLE = 5
PARAGRAPH_SHINGLE = 3
PARAGRAPH_NEAR_MIN_WORDS = 20
MINHASH_SCHEME = "affine32"  # datasketch 2.x default; stored signatures must be read back with it


def shingles(text: str, size: int) -> set[str]:
    words = normalize_text(text).split()
    if len(words) <= size:
        return {" ".join(words)}
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def document_minhash(doc: Document, num_perm: int) -> MinHash:
    m = MinHash(num_perm=num_perm, scheme=MINHASH_SCHEME)
    m.update_batch([s.encode("utf-8") for s in shingles(doc.text, DOC_SHINGLE)])
    return m


@dataclass
class DedupStats:
    exact_documents: int = 0
    near_documents: int = 0
    exact_paragraphs: int = 0
    near_paragraphs: int = 0


class DuplicateIndex:
    """What is already canonical, and the rules to link new items to it.

    Callers seed it with what the warehouse holds (``known_*``); it keeps
    growing as new canonical documents and paragraphs are added, so one
    batch can hold both a text and its copy.
    """

    def __init__(self, threshold: float, paragraph_threshold: float, num_perm: int):
        self.threshold = threshold
        self.paragraph_threshold = paragraph_threshold
        self.num_perm = num_perm
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.signatures: dict[str, MinHash] = {}
        self.documents_by_hash: dict[str, str] = {}
        self.paragraphs_by_hash: dict[str, str] = {}

    def known_signatures(self, rows: Iterable[tuple[str, Iterable[int]]]) -> None:
        for doc_id, hashvalues in rows:
            values = np.asarray(hashvalues, dtype=np.uint64)
            self._index(doc_id, MinHash(num_perm=self.num_perm, hashvalues=values, scheme=MINHASH_SCHEME))

    def known_documents(self, by_hash: dict[str, str]) -> None:
        self.documents_by_hash.update(by_hash)

    def known_paragraphs(self, by_hash: dict[str, str]) -> None:
        self.paragraphs_by_hash.update(by_hash)

    def _index(self, doc_id: str, m: MinHash) -> None:
        if doc_id not in self.signatures:
            self.signatures[doc_id] = m
            self.lsh.insert(doc_id, m)

    def add(self, docs: list[Document]) -> tuple[dict[str, np.ndarray], DedupStats]:
        """Mark duplicates on ``docs`` in place; returns signatures of the new canonical docs."""
        stats = DedupStats()
        new_signatures: dict[str, np.ndarray] = {}
        for doc in docs:
            self._link_document(doc, stats, new_signatures)
            self._link_paragraphs(doc.paragraphs, stats)
        return new_signatures, stats

    def _link_document(self, doc: Document, stats: DedupStats, new_signatures: dict[str, np.ndarray]) -> None:
        canonical = self.documents_by_hash.get(doc.content_hash)
        if canonical and canonical != doc.doc_id:
            doc.duplicate_of, doc.duplicate_kind, doc.duplicate_similarity = canonical, "exact", 1.0
            stats.exact_documents += 1
            return
        m = document_minhash(doc, self.num_perm)
        best = max(
            ((m.jaccard(self.signatures[c]), c) for c in self.lsh.query(m) if c != doc.doc_id),
            default=(0.0, None),
        )
        if best[1] is not None and best[0] >= self.threshold:
            doc.duplicate_of, doc.duplicate_kind, doc.duplicate_similarity = best[1], "near", round(best[0], 4)
            stats.near_documents += 1
            return
        self.documents_by_hash[doc.content_hash] = doc.doc_id
        self._index(doc.doc_id, m)
        new_signatures[doc.doc_id] = m.hashvalues.copy()

    def _link_paragraphs(self, paragraphs: list[Paragraph], stats: DedupStats) -> None:
        earlier: list[tuple[Paragraph, set[str]]] = []
        for p in paragraphs:
            canonical = self.paragraphs_by_hash.get(p.text_hash)
            if canonical and canonical != p.paragraph_id:
                p.duplicate_of, p.duplicate_kind = canonical, "exact"
                stats.exact_paragraphs += 1
                continue
            if p.word_count >= PARAGRAPH_NEAR_MIN_WORDS:
                sh = shingles(p.text, PARAGRAPH_SHINGLE)
                match = next((q for q, qsh in earlier if jaccard(sh, qsh) >= self.paragraph_threshold), None)
                if match is not None:
                    p.duplicate_of, p.duplicate_kind = match.paragraph_id, "near"
                    stats.near_paragraphs += 1
                    continue
                earlier.append((p, sh))
            self.paragraphs_by_hash[p.text_hash] = p.paragraph_id
