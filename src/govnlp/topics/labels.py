"""What a topic is about: its most distinctive terms (class-based TF-IDF) and their coherence (NPMI).

c-TF-IDF (Grootendorst 2022, the weighting BERTopic uses): all paragraphs of
a topic are one "class document"; a term's weight in a topic is its
frequency there (relative to the topic's length) times
``log(1 + A / f)``, A the average number of words per topic and f the
term's frequency over all topics.  Words and two-word phrases are counted;
English stop words, numbers and terms in more than a fifth of all
paragraphs (boilerplate such as "white house" in a White House archive)
are left out by the vectorizer.

NPMI (Bouma 2009; the topic-coherence measure of Lau et al. 2014) of a
topic's label terms, with paragraphs as the co-occurrence window, says
whether the terms actually occur together in the corpus (1: always
together, 0: independent, -1: never).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from govnlp.topics.cluster import UNASSIGNED

# Words of reporting and transcripts that say nothing about a subject, and the pieces
# the tokenizer leaves of contractions ("don't" -> "don", "we've" -> "ve").
REPORTING_WORDS = frozenset("""
said says say saying stated noted added told asked going know think want just like really yes okay ok thank thanks
mr ms mrs dr applause laughter inaudible today yesterday tomorrow did does doing
don didn doesn isn aren wasn weren won wouldn couldn shouldn haven hasn ve ll re
""".split())
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS | REPORTING_WORDS)
TOKEN = re.compile(r"(?u)\b[^\W\d_][^\W\d_'’-]+\b")  # words of two or more letters; no numbers
LINKS = re.compile(r"\S*(?:https?://|www\.|@)\S*")  # URLs and e-mail addresses are not words of a subject


def terms_of(text: str) -> list[str]:
    """Words and adjacent two-word phrases, neither word a stop word.

    A phrase is built from words next to each other in the text, so that
    "good morning, and thank you for joining" gives no "morning joining"
    (sklearn's own n-grams are formed after stop words are removed).
    """
    tokens = TOKEN.findall(LINKS.sub(" ", text.lower()))
    keep = [t not in STOP_WORDS for t in tokens]
    words = [t for t, k in zip(tokens, keep) if k]
    return words + [f"{a} {b}" for a, b, ka, kb in zip(tokens, tokens[1:], keep, keep[1:]) if ka and kb]


@dataclass(frozen=True)
class TopicTerms:
    terms: list[str]        # most distinctive first
    weights: list[float]
    coherence: float | None  # mean NPMI over pairs of label terms; None with fewer than two usable terms


class Vocabulary:
    """The paragraph-term counts the labels and the coherence are computed from."""

    def __init__(self, texts: list[str], max_share: float = 0.2):
        min_df = 2 if len(texts) >= 20 else 1
        self.vectorizer = CountVectorizer(analyzer=terms_of, min_df=min_df, max_df=max_share if len(texts) >= 50 else 1.0)
        try:
            self.counts = self.vectorizer.fit_transform(texts).tocsr().astype(np.float64)
            self.terms = self.vectorizer.get_feature_names_out()
        except ValueError:  # nothing left after stop words (tiny or empty corpus)
            self.counts = sparse.csr_matrix((len(texts), 0))
            self.terms = np.array([], dtype=object)
        self.present = (self.counts > 0).astype(np.float64).tocsc()

    def topic_terms(self, labels: np.ndarray, n_topics: int, n_terms: int = 10) -> list[TopicTerms]:
        """For topics 0..n_topics-1: the top terms by c-TF-IDF, their weights and their NPMI coherence.

        Counting a topic's paragraphs that hold a term instead of its
        occurrences was tried on the dev corpus: 12/20 labels fit either way
        (benchmarks/results/2026-12-04-topics-dev-hand-check-*), so the
        published weighting stays.
        """
        if n_topics == 0:
            return []
        if len(self.terms) == 0:
            return [TopicTerms([], [], None) for _ in range(n_topics)]
        assigned = np.flatnonzero(labels != UNASSIGNED)
        member = sparse.csr_matrix((np.ones(len(assigned)), (labels[assigned], assigned)), shape=(n_topics, len(labels)))
        tf = np.asarray((member @ self.counts).todense())
        size = tf.sum(axis=1, keepdims=True)
        idf = np.log(1 + size.mean() / np.maximum(tf.sum(axis=0), 1))
        weight = tf / np.maximum(size, 1) * idf
        out = []
        for t in range(n_topics):
            ranked = [i for i in np.argsort(-weight[t]) if weight[t, i] > 0]
            chosen = _distinct_terms([(self.terms[i], float(weight[t, i])) for i in ranked[: 4 * n_terms]], n_terms)
            out.append(TopicTerms([c[0] for c in chosen], [round(c[1], 6) for c in chosen], self.npmi([c[0] for c in chosen])))
        return out

    def npmi(self, terms: list[str]) -> float | None:
        """Mean normalized PMI over pairs of terms (pairs where one term contains the other are skipped)."""
        index = {t: i for i, t in enumerate(self.terms)}
        cols = [index[t] for t in terms if t in index]
        n = self.present.shape[0]
        if len(cols) < 2 or n == 0:
            return None
        sub = self.present[:, cols]
        together = np.asarray((sub.T @ sub).todense())
        alone = np.diag(together) / n
        names = [self.terms[c] for c in cols]
        values = []
        for i, j in combinations(range(len(cols)), 2):
            if set(names[i].split()) & set(names[j].split()):
                continue
            p_ij = together[i, j] / n
            if p_ij == 0:
                values.append(-1.0)
            elif p_ij == 1:
                values.append(1.0)
            else:
                values.append(float(np.log(p_ij / (alone[i] * alone[j])) / -np.log(p_ij)))
        return round(float(np.mean(values)), 4) if values else None


def _distinct_terms(ranked: list[tuple[str, float]], n: int) -> list[tuple[str, float]]:
    """Top terms without repeating a word: a phrase replaces a single word it contains, a word inside a chosen phrase is skipped."""
    chosen: list[tuple[str, float]] = []
    for term, weight in ranked:
        words = set(term.split())
        if any(words <= set(c.split()) for c, _ in chosen):
            continue
        chosen = [(c, w) for c, w in chosen if not set(c.split()) < words]
        chosen.append((term, weight))
        if len(chosen) == n:
            break
    return chosen


def central_rows(similarities: np.ndarray, labels: np.ndarray, n_topics: int) -> list[int]:
    """Row of each topic's most central paragraph (highest cosine to the centroid)."""
    rows = []
    for t in range(n_topics):
        members = np.flatnonzero(labels == t)
        rows.append(int(members[np.argmax(similarities[members])]))
    return rows
