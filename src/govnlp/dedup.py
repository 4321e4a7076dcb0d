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

import heapq
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from govnlp.records import Document, Paragraph, normalize_text

DOC_SHINGLE = 5
PARAGRAPH_SHINGLE = 3
PARAGRAPH_NEAR_MIN_WORDS = 20
MINHASH_SCHEME = "affine32"  # datasketch 2.x default; stored signatures must be read back with it


_NGRAM_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5, 0x94D049BB133111EB], dtype=np.uint64
)


def word_hashes(words: list[str]) -> np.ndarray:
    """CRC32 of each normalized word: stable across processes (unlike hash())."""
    return np.fromiter((zlib.crc32(w.encode()) for w in words), dtype=np.uint64, count=len(words))


def ngram_hashes(hashes: np.ndarray, size: int) -> np.ndarray:
    """32-bit hashes of word n-grams, combined from word hashes with numpy (no string joins).

    Stored document signatures depend on this function: changing it needs a re-dedup.
    """
    size = min(size, len(hashes))
    if size == 0:
        return np.zeros(0, dtype=np.uint64)
    n = len(hashes) - size + 1
    acc = np.zeros(n, dtype=np.uint64)
    for k in range(size):
        acc += hashes[k : k + n] * _NGRAM_MULTIPLIERS[k]  # wraps modulo 2**64 by design
    return acc >> np.uint64(32)


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


_PERMUTATIONS: dict[int, object] = {}


def _minhash(num_perm: int, hashvalues=None) -> MinHash:
    """A MinHash over pre-hashed shingles, sharing one set of permutations per size (making them costs more than a document)."""
    if num_perm not in _PERMUTATIONS:
        _PERMUTATIONS[num_perm] = MinHash(num_perm=num_perm, scheme=MINHASH_SCHEME).permutations
    return MinHash(num_perm=num_perm, scheme=MINHASH_SCHEME, hashfunc=int,
                   permutations=_PERMUTATIONS[num_perm], hashvalues=hashvalues)


def document_signature(word_hash_values: np.ndarray, num_perm: int) -> np.ndarray:
    """MinHash values of a document's word 5-grams."""
    m = _minhash(num_perm)
    m.update_batch(np.unique(ngram_hashes(word_hash_values, DOC_SHINGLE)).tolist())
    return m.hashvalues


SKETCH_SIZE = 12


def near_paragraph_links(paragraphs: list[Paragraph], hashes: list[np.ndarray], threshold: float) -> dict[str, str]:
    """paragraph_id -> the first earlier paragraph of the same document it nearly repeats.

    Candidates come from a bottom-k sketch of each paragraph's shingles (two
    paragraphs with Jaccard >= 0.7 almost surely share a sketch value); only
    candidates get the exact Jaccard test, so long documents stay linear.
    """
    links: dict[str, str] = {}
    earlier: list[tuple[str, set[int]]] = []
    postings: dict[int, list[int]] = defaultdict(list)
    for p, h in zip(paragraphs, hashes):
        if len(h) < PARAGRAPH_NEAR_MIN_WORDS:
            continue
        sh = set(ngram_hashes(h, PARAGRAPH_SHINGLE).tolist())
        sketch = heapq.nsmallest(SKETCH_SIZE, sh)
        candidates = sorted({j for v in sketch for j in postings.get(v, ())})
        match = next((earlier[j][0] for j in candidates if jaccard(sh, earlier[j][1]) >= threshold), None)
        if match is None:
            for v in sketch:
                postings[v].append(len(earlier))
            earlier.append((p.paragraph_id, sh))
        else:
            links[p.paragraph_id] = match
    return links


@dataclass(frozen=True)
class Prepared:
    """The per-document half of dedup: pure, so it can run in a worker process."""

    signature: np.ndarray
    near_links: dict[str, str]


def prepare(doc: Document, num_perm: int, paragraph_threshold: float) -> Prepared:
    hashes = [word_hashes(normalize_text(p.text).split()) for p in doc.paragraphs]
    return Prepared(
        document_signature(np.concatenate(hashes) if hashes else np.zeros(0, np.uint64), num_perm),
        near_paragraph_links(doc.paragraphs, hashes, paragraph_threshold),
    )


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

    def __init__(self, threshold: float, paragraph_threshold: float, num_perm: int,
                 containment: float = 1.01, containment_floor: float | None = None):
        """``threshold``: Jaccard that makes two documents near duplicates.  ``containment``
        with ``containment_floor``: a pair with Jaccard of at least the floor is also a near
        duplicate when the shorter text's shingles lie this much inside the longer one's
        (a short statement re-published with a new header, footer or a few edited words)."""
        self.threshold = threshold
        self.paragraph_threshold = paragraph_threshold
        self.num_perm = num_perm
        self.containment = containment
        self.floor = min(threshold, containment_floor if containment_floor is not None else threshold)
        self.lsh = MinHashLSH(threshold=self.floor, num_perm=num_perm)
        self.sizes: dict[str, int] = {}  # doc_id -> shingle count (from the word count)
        self.signatures: dict[str, MinHash] = {}
        self.documents_by_hash: dict[str, str] = {}
        self.paragraphs_by_hash: dict[str, str] = {}

    def known_signatures(self, rows: Iterable[tuple]) -> None:
        """(doc_id, minhash values[, word count]) of stored canonical documents."""
        for doc_id, hashvalues, *words in rows:
            self._index(doc_id, _minhash(self.num_perm, np.asarray(hashvalues, dtype=np.uint64)))
            if words and words[0]:
                self.sizes[doc_id] = max(1, words[0] - DOC_SHINGLE + 1)

    def known_documents(self, by_hash: dict[str, str]) -> None:
        self.documents_by_hash.update(by_hash)

    def known_paragraphs(self, by_hash: dict[str, str]) -> None:
        self.paragraphs_by_hash.update(by_hash)

    def _index(self, doc_id: str, m: MinHash) -> None:
        if doc_id not in self.signatures:
            self.signatures[doc_id] = m
            self.lsh.insert(doc_id, m)

    def add(self, docs: list[Document], prepared: dict[str, Prepared] | None = None) -> tuple[dict[str, np.ndarray], DedupStats]:
        """Mark duplicates on ``docs`` in place; returns signatures of the new canonical docs.

        ``prepared`` may hold ``prepare`` results by doc_id (computed elsewhere, e.g. in workers).
        """
        stats = DedupStats()
        new_signatures: dict[str, np.ndarray] = {}
        prepared = prepared or {}
        for doc in docs:
            ready = prepared.get(doc.doc_id) or prepare(doc, self.num_perm, self.paragraph_threshold)
            self._link_document(doc, ready.signature, stats, new_signatures)
            self._link_paragraphs(doc.paragraphs, ready.near_links, stats)
        return new_signatures, stats

    def _link_document(self, doc: Document, values: np.ndarray, stats: DedupStats, new_signatures: dict[str, np.ndarray]) -> None:
        canonical = self.documents_by_hash.get(doc.content_hash)
        if canonical and canonical != doc.doc_id:
            doc.duplicate_of, doc.duplicate_kind, doc.duplicate_similarity = canonical, "exact", 1.0
            stats.exact_documents += 1
            return
        m = _minhash(self.num_perm, values)
        size = max(1, doc.word_count - DOC_SHINGLE + 1)
        matches = [(j, c) for c in self.lsh.query(m) if c != doc.doc_id
                   if self._near(j := m.jaccard(self.signatures[c]), size, self.sizes.get(c))]
        if matches:
            similarity, canonical = max(matches)
            doc.duplicate_of, doc.duplicate_kind, doc.duplicate_similarity = canonical, "near", round(similarity, 4)
            stats.near_documents += 1
            return
        self.documents_by_hash[doc.content_hash] = doc.doc_id
        self.sizes[doc.doc_id] = size
        self._index(doc.doc_id, m)
        new_signatures[doc.doc_id] = m.hashvalues.copy()

    def _near(self, jaccard: float, size: int, other: int | None) -> bool:
        if jaccard >= self.threshold:
            return True
        if jaccard < self.floor or not other:
            return False
        shared = jaccard * (size + other) / (1 + jaccard)  # |A and B| from the Jaccard estimate and the set sizes
        return shared / min(size, other) >= self.containment

    def _link_paragraphs(self, paragraphs: list[Paragraph], near_links: dict[str, str], stats: DedupStats) -> None:
        """Exact repeats anywhere first; then near repeats inside the document, linked to the canonical root."""
        by_id = {p.paragraph_id: p for p in paragraphs}
        for p in paragraphs:
            canonical = self.paragraphs_by_hash.get(p.text_hash)
            if canonical and canonical != p.paragraph_id:
                p.duplicate_of, p.duplicate_kind = canonical, "exact"
                stats.exact_paragraphs += 1
            elif p.paragraph_id in near_links:
                earlier = by_id[near_links[p.paragraph_id]]
                p.duplicate_of, p.duplicate_kind = earlier.duplicate_of or earlier.paragraph_id, "near"
                stats.near_paragraphs += 1
            else:
                self.paragraphs_by_hash[p.text_hash] = p.paragraph_id
