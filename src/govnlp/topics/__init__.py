"""Emergent topics: clusters of paragraph vectors, labelled with their distinctive terms.

The themes stage answers "how much is said about X" for a fixed taxonomy;
this stage answers "what is being talked about" without one.  It works on
the stored embeddings only (no model runs here):

- ``build``: cluster every eligible canonical paragraph (``cluster.py``),
  label each topic by c-TF-IDF and measure its NPMI coherence
  (``labels.py``), and name its most central paragraph;
- ``assign``: between full clusterings, put new paragraphs in the nearest
  existing topic (or none, when no centroid is close enough).

Paragraphs under ``min_words`` words (datelines, "Thank you.", headings)
take part in neither: they carry no subject of their own.
Plain records in, plain records out: no Prefect, no DuckDB.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from govnlp.topics.cluster import METHODS, UNASSIGNED, ClusterParams, cluster, member_scores
from govnlp.topics.cluster import assign as nearest
from govnlp.topics.labels import Vocabulary, central_rows

__all__ = ["METHODS", "ClusterParams", "Topic", "Clustering", "build", "assign", "params_version", "VERSION"]

VERSION = "topics-1"  # bump when the method changes in a way that changes results


@dataclass
class Topic:
    index: int
    label: str
    terms: list[str]
    term_weights: list[float]
    size: int
    central_paragraph_id: str
    coherence: float | None
    centroid: np.ndarray


@dataclass
class Clustering:
    topics: list[Topic]
    memberships: list[tuple[str, int, float]]  # (paragraph_id, topic index, cosine to the centroid)
    eligible: int                               # paragraphs clustered (the others are unassigned)


def params_version(params: ClusterParams, embed_model: str) -> str:
    """What a clustering's results depend on: method version, parameters and the vectors' model."""
    blob = json.dumps({"v": VERSION, "params": params.as_dict(), "model": embed_model}, sort_keys=True)
    return f"{VERSION}+{hashlib.sha256(blob.encode()).hexdigest()[:10]}"


def build(paragraph_ids: list[str], texts: list[str], vectors: np.ndarray, params: ClusterParams, n_terms: int = 10) -> Clustering:
    """Cluster the paragraphs and describe each topic."""
    labels, centroids = cluster(vectors, params)
    scores = member_scores(vectors, labels, centroids)
    n = len(centroids)
    described = Vocabulary(texts).topic_terms(labels, n, n_terms)
    central = central_rows(np.nan_to_num(scores, nan=-2.0), labels, n)
    sizes = np.bincount(labels[labels != UNASSIGNED], minlength=n)
    topics = [
        Topic(t, ", ".join(d.terms[:3]) or f"topic {t}", d.terms, d.weights, int(sizes[t]), paragraph_ids[central[t]], d.coherence, centroids[t])
        for t, d in enumerate(described)
    ]
    members = [(paragraph_ids[i], int(labels[i]), float(scores[i])) for i in np.flatnonzero(labels != UNASSIGNED)]
    return Clustering(topics, members, len(paragraph_ids))


def assign(paragraph_ids: list[str], vectors: np.ndarray, centroids: np.ndarray, min_similarity: float) -> list[tuple[str, int, float]]:
    """(paragraph_id, topic index, score) for the new paragraphs close enough to an existing topic."""
    labels, scores = nearest(vectors, centroids, min_similarity)
    return [(paragraph_ids[i], int(labels[i]), float(scores[i])) for i in np.flatnonzero(labels != UNASSIGNED)]
