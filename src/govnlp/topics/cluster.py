"""Paragraph vectors -> topic memberships, with scikit-learn.

Two methods, chosen by measurement (``benchmarks/topics.py``):

``kmeans-merge`` (the default)
    Over-cluster with MiniBatchKMeans (k about twice the square root of the
    number of paragraphs) in a 64-dimension PCA projection of the unit
    vectors (the partition only: k-means++ seeding in 384 dimensions cost
    ten times more, measured), then merge topics whose centroids, taken in
    the full space, are closer than ``merge_distance`` (cosine, average
    linkage: AgglomerativeClustering).
    Topics smaller than ``min_size`` are dissolved into their nearest
    neighbour.  It scales linearly, is deterministic for a seed, and keeps
    centroids, so a new paragraph joins the nearest topic without a re-run.
``hdbscan``
    HDBSCAN over a PCA projection of the vectors (density clustering finds
    its own number of topics, but leaves many paragraphs as noise).

With either, a paragraph less similar than ``min_similarity`` to its
topic's centroid stays unassigned: a topic is a claim that the paragraph
is about that, and a far member would make trends say more than the text.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.preprocessing import normalize

UNASSIGNED = -1
METHODS = ("kmeans-merge", "hdbscan")


@dataclass(frozen=True)
class ClusterParams:
    method: str = "kmeans-merge"
    min_size: int = 5            # fewer members: dissolved (kmeans-merge) or noise (hdbscan)
    merge_distance: float = 0.45  # cosine distance under which two k-means centroids are one topic
    min_similarity: float = 0.4   # cosine to the topic centroid below which a paragraph stays unassigned
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def initial_k(n: int) -> int:
    """Over-clustering size for k-means: about 2*sqrt(n), at least 2, at most n/5 (merging brings it down)."""
    return max(2, min(n // 5, round(2 * math.sqrt(n))))


def cluster(vectors: np.ndarray, params: ClusterParams) -> tuple[np.ndarray, np.ndarray]:
    """(labels, centroids): a topic index per row (UNASSIGNED for none) and one unit centroid per topic."""
    if params.method not in METHODS:
        raise ValueError(f"unknown topic method {params.method!r}; choose from {', '.join(METHODS)}")
    x = normalize(np.asarray(vectors, dtype=np.float32))
    if len(x) < 2 * params.min_size:
        return np.full(len(x), UNASSIGNED), np.zeros((0, x.shape[1]), np.float32)
    raw = _kmeans_merge(x, params) if params.method == "kmeans-merge" else _hdbscan(x, params)
    labels = _dissolve_small(x, raw, params.min_size)
    labels, centroids = _renumber(x, labels)
    scores = _similarity_to_own(x, labels, centroids)
    labels[scores < params.min_similarity] = UNASSIGNED
    topics, sizes = np.unique(labels[labels != UNASSIGNED], return_counts=True)
    labels[np.isin(labels, topics[sizes < params.min_size])] = UNASSIGNED  # too few close members left
    return _renumber(x, labels)


def assign(vectors: np.ndarray, centroids: np.ndarray, min_similarity: float) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) of new paragraphs against existing topics: the nearest centroid, if similar enough."""
    x = normalize(np.asarray(vectors, dtype=np.float32))
    if len(centroids) == 0 or len(x) == 0:
        return np.full(len(x), UNASSIGNED), np.zeros(len(x), np.float32)
    sims = x @ np.asarray(centroids, dtype=np.float32).T
    best = sims.argmax(axis=1)
    scores = sims[np.arange(len(x)), best]
    return np.where(scores >= min_similarity, best, UNASSIGNED), scores.astype(np.float32)


def member_scores(vectors: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Cosine of each paragraph to its own topic's centroid (NaN when unassigned)."""
    return _similarity_to_own(normalize(np.asarray(vectors, dtype=np.float32)), labels, centroids)


def _kmeans_merge(x: np.ndarray, params: ClusterParams) -> np.ndarray:
    k = initial_k(len(x))
    km = MiniBatchKMeans(n_clusters=k, random_state=params.seed, n_init=3, batch_size=4096).fit(_project(x, 64, params.seed))
    parts = np.unique(km.labels_)
    if len(parts) < 2:
        return km.labels_
    centroids = _centroids(x, km.labels_, parts)
    merged = AgglomerativeClustering(n_clusters=None, distance_threshold=params.merge_distance,
                                     metric="cosine", linkage="average").fit(centroids).labels_
    return merged[np.searchsorted(parts, km.labels_)]


def _project(x: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """PCA to at most ``dims`` dimensions (fewer with few rows)."""
    n = min(dims, x.shape[1], len(x) - 1)
    return PCA(n_components=n, random_state=seed).fit_transform(x) if n < x.shape[1] else x


def _hdbscan(x: np.ndarray, params: ClusterParams) -> np.ndarray:
    return HDBSCAN(min_cluster_size=params.min_size, min_samples=params.min_size, copy=True).fit(_project(x, 20, params.seed)).labels_


def _centroids(x: np.ndarray, labels: np.ndarray, topics: np.ndarray) -> np.ndarray:
    return normalize(np.vstack([x[labels == t].mean(axis=0) for t in topics])) if len(topics) else np.zeros((0, x.shape[1]), np.float32)


def _dissolve_small(x: np.ndarray, labels: np.ndarray, min_size: int) -> np.ndarray:
    """Members of topics under min_size move to the nearest topic that is big enough."""
    labels = labels.copy()
    topics, sizes = np.unique(labels[labels != UNASSIGNED], return_counts=True)
    big = topics[sizes >= min_size]
    small = np.isin(labels, topics[sizes < min_size])
    if not small.any():
        return labels
    if len(big) == 0:
        return np.full(len(labels), UNASSIGNED)
    nearest = (x[small] @ _centroids(x, labels, big).T).argmax(axis=1)
    labels[small] = big[nearest]
    return labels


def _renumber(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Topics numbered 0.. by decreasing size (ties by first member), with their centroids."""
    topics, first, sizes = np.unique(labels[labels != UNASSIGNED], return_index=True, return_counts=True)
    order = topics[np.lexsort((first, -sizes))]
    mapping = {int(t): i for i, t in enumerate(order)}
    out = np.array([mapping.get(int(t), UNASSIGNED) for t in labels], dtype=np.int64)
    return out, _centroids(x, out, np.arange(len(order)))


def _similarity_to_own(x: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    scores = np.full(len(x), np.nan, dtype=np.float32)
    mask = labels != UNASSIGNED
    if mask.any():
        scores[mask] = np.einsum("ij,ij->i", x[mask], centroids[labels[mask]])
    return scores
