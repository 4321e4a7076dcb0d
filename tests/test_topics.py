"""Topics: clustering, labels, coherence, the stage in a real warehouse, and the analysts' views and macros.

The warehouse tests use a fixed small set: three subjects with their own
words, written in January and February 2025, with vectors built around one
direction per subject (the embedding model is not what is tested here;
the seeds' end-to-end run covers it).  Subject C (semiconductor export
controls) appears only in February: it is the emerging topic.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from govnlp import steps
from govnlp.records import Document, Paragraph, short_id, text_hash
from govnlp.settings import load_settings
from govnlp.topics import ClusterParams, assign, build
from govnlp.topics.cluster import UNASSIGNED, cluster, initial_k
from govnlp.topics.labels import Vocabulary
from govnlp.warehouse import open_reader, writes

DIM = 384
SUBJECTS = {
    "A": ["Hospitals deploy diagnostic imaging models to detect tumours earlier in patients across rural clinics {}.",
          "Regulators review clinical evidence before diagnostic imaging models reach hospitals and their patients {}."],
    "B": ["Teachers adapt classroom curricula so pupils learn programming and data literacy in primary schools {}.",
          "Schools receive funding for teacher training in programming and data literacy for older pupils {}."],
    "C": ["The commerce department tightens semiconductor export controls on advanced chips and fabrication tools {}.",
          "Allies coordinate semiconductor export controls covering advanced chips, fabrication tools and licences {}."],
}
AXIS = {"A": 0, "B": 1, "C": 2}


def subject_vectors(subject: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.zeros(DIM, np.float32)
    base[AXIS[subject]] = 1.0
    v = base + 0.03 * rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# ---- pure functions ---------------------------------------------------------------

def test_well_separated_groups_become_topics_and_far_points_stay_unassigned():
    groups = [subject_vectors(s, 20, i) for i, s in enumerate("ABC")]
    rng = np.random.default_rng(9)
    far = rng.standard_normal((4, DIM)).astype(np.float32)
    far[:, :3] = 0  # orthogonal to every subject
    x = np.vstack(groups + [far])
    labels, centroids = cluster(x, ClusterParams(min_size=5, merge_distance=0.3, min_similarity=0.3))
    assert len(centroids) == 3
    for g in range(3):
        assert len(set(labels[20 * g: 20 * g + 20])) == 1  # one topic per subject
    assert set(labels[:60]) == {0, 1, 2}
    assert list(labels[60:]) == [UNASSIGNED] * 4
    assert np.allclose(np.linalg.norm(centroids, axis=1), 1.0, atol=1e-5)


def test_topics_are_numbered_by_size_and_small_clusters_dissolve():
    x = np.vstack([subject_vectors("A", 30, 1), subject_vectors("B", 12, 2), subject_vectors("C", 3, 3)])
    labels, centroids = cluster(x, ClusterParams(min_size=5, merge_distance=0.3, min_similarity=0.3))
    assert len(centroids) == 2
    assert (labels[:30] == 0).all() and (labels[30:42] == 1).all()
    assert (labels[42:] == UNASSIGNED).all()  # dissolved into a far neighbour, then too far from it


def test_too_few_paragraphs_give_no_topics():
    labels, centroids = cluster(subject_vectors("A", 6, 1), ClusterParams(min_size=5))
    assert len(centroids) == 0 and (labels == UNASSIGNED).all()


def test_initial_k_over_clusters_by_square_root():
    assert [initial_k(n) for n in (10, 100, 18_000)] == [2, 20, 268]


def test_hdbscan_finds_the_same_groups():
    x = np.vstack([subject_vectors(s, 25, i) for i, s in enumerate("ABC")])
    labels, centroids = cluster(x, ClusterParams(method="hdbscan", min_size=5, min_similarity=0.3))
    assert len(centroids) == 3
    assert all(len(set(labels[25 * g: 25 * g + 25])) == 1 for g in range(3))


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown topic method 'lda'"):
        cluster(subject_vectors("A", 20, 1), ClusterParams(method="lda"))


def test_assign_takes_the_nearest_centroid_above_the_floor():
    centroids = np.eye(DIM, dtype=np.float32)[:2]
    v = np.zeros((3, DIM), np.float32)
    v[0, 0], v[1, 1], v[1, 0] = 1.0, 0.9, 0.1
    v[2, 5] = 1.0  # like neither topic
    found = assign(["p0", "p1", "p2"], v, centroids, 0.3)
    assert [(pid, t) for pid, t, _ in found] == [("p0", 0), ("p1", 1)]
    assert found[0][2] == pytest.approx(1.0)


def test_class_tfidf_labels_name_what_sets_a_topic_apart():
    texts = [t.format(i) for s in "ABC" for t in SUBJECTS[s] for i in range(5)]
    labels = np.repeat([0, 1, 2], 10)
    terms = Vocabulary(texts).topic_terms(labels, 3, n_terms=5)
    # the terms in both templates of a subject (10 paragraphs) outrank those in one (5)
    assert set(terms[0].terms[:3]) <= {"diagnostic imaging", "imaging models", "hospitals", "patients"}
    assert set(terms[1].terms[:3]) <= {"programming", "data literacy", "pupils", "teacher", "teachers", "schools"}
    assert set(terms[2].terms[:3]) <= {"semiconductor export", "export controls", "advanced chips", "fabrication tools", "chips fabrication"}
    assert all(w > 0 for t in terms for w in t.weights) and all(t.weights == sorted(t.weights, reverse=True) for t in terms)
    # "imaging models" and "diagnostic imaging" are kept, but never "imaging" alone beside them
    assert not any(term in ("imaging", "export", "data") for t in terms for term in t.terms)


def test_npmi_by_hand():
    # 4 paragraphs: "alpha beta" together twice, "gamma" alone twice
    vocab = Vocabulary(["alpha beta words", "alpha beta words", "gamma delta words", "gamma delta words"])
    # P(alpha)=P(beta)=P(alpha,beta)=1/2: NPMI = log(0.5/0.25) / -log(0.5) = 1
    assert vocab.npmi(["alpha", "beta"]) == pytest.approx(1.0)
    # alpha and gamma never together: -1
    assert vocab.npmi(["alpha", "gamma"]) == pytest.approx(-1.0)
    assert vocab.npmi(["alpha", "unknown"]) is None


def test_build_names_central_paragraph_and_coherence():
    texts = [t.format(i) for s in "ABC" for t in SUBJECTS[s] for i in range(5)]
    ids = [f"p{i:02d}" for i in range(30)]
    x = np.vstack([subject_vectors(s, 10, i) for i, s in enumerate("ABC")])
    built = build(ids, texts, x, ClusterParams(min_size=5))
    assert len(built.topics) == 3 and built.eligible == 30 and len(built.memberships) == 30
    for t in built.topics:
        members = {pid for pid, topic, _ in built.memberships if topic == t.index}
        assert t.central_paragraph_id in members and t.size == 10
        assert t.coherence is not None and t.coherence > 0  # the label terms occur together more than by chance
        assert t.label == ", ".join(t.terms[:3])
    mixed = Vocabulary(texts).npmi([built.topics[0].terms[0], built.topics[1].terms[0], built.topics[2].terms[0]])
    assert mixed == pytest.approx(-1.0)  # terms of different subjects never share a paragraph


# ---- the stage in a real warehouse, views and macros --------------------------------

def make_doc(name: str, subject: str, month: int, n: int) -> Document:
    texts = [SUBJECTS[subject][i % 2].format(f"in report {name} part {i}") for i in range(n)]
    content = text_hash("\n".join(texts))
    doc_id = short_id(name, content)
    paras = [Paragraph(f"{doc_id}-{i:05d}", doc_id, i, t, text_hash(t)) for i, t in enumerate(texts)]
    return Document(doc_id, f"file:///{name}", 0, "txt", name, date(2025, month, 10), "Ministry", None, "report", "en", paras, content, "h")


CORPUS = [("a1", "A", 1, 12), ("b1", "B", 1, 8), ("a2", "A", 2, 6), ("b2", "B", 2, 8), ("c2", "C", 2, 10)]


@pytest.fixture()
def settings(tmp_path):
    return load_settings(warehouse=tmp_path / "w.duckdb", topic_min_paragraphs=10, topic_min_size=5)


def store(ctx, docs: list[Document], seed: int) -> None:
    model = ctx.settings.embed_model
    with ctx.writer.transaction() as con:
        writes.insert_documents(con, docs, {}, ctx.run_id)
        for k, d in enumerate(docs):
            vectors = subject_vectors(d.title[0].upper(), len(d.paragraphs), seed + k)
            writes.write_embeddings(con, [p.paragraph_id for p in d.paragraphs], [p.text_hash for p in d.paragraphs], model, vectors, [1] * len(d.paragraphs))
            writes.mark_annotated(con, [p.paragraph_id for p in d.paragraphs], "embed", model, ctx.run_id)


def run(settings, docs=(), recluster=False, seed=0):
    with steps.open_run(settings, "ingest", ["topics"], [], {}) as ctx:
        store(ctx, list(docs), seed)
        sent = steps.topics(ctx, recluster)
        ctx.writer.publish()
        return sent, dict(ctx.counts)


def test_stage_views_and_macros_on_a_fixed_set(settings):
    docs = [make_doc(*row) for row in CORPUS]
    sent, counts = run(settings, docs)
    assert sent == 44 and counts["topics"] == 3 and counts["topic_members"] == 44
    con = open_reader(settings.warehouse)
    topics = con.execute("SELECT rank, size, label FROM topics ORDER BY rank").fetchall()
    assert [(r, s) for r, s, _ in topics] == [(0, 18), (1, 16), (2, 10)]
    assert "advanced chips" in topics[2][2] and "diagnostic imaging" in topics[0][2]  # the terms both C templates share
    assert con.execute("SELECT count(*) FROM paragraph_annotations WHERE stage = 'topics'").fetchone()[0] == 44

    trends = con.execute("SELECT month, topic_id[-3:], paragraphs, all_paragraphs, share FROM topic_trends ORDER BY month, topic_id").fetchall()
    assert trends == [
        (date(2025, 1, 1), "000", 12, 20, 0.6), (date(2025, 1, 1), "001", 8, 20, 0.4),
        (date(2025, 2, 1), "000", 6, 24, 0.25), (date(2025, 2, 1), "001", 8, 24, 1 / 3), (date(2025, 2, 1), "002", 10, 24, 10 / 24),
    ]
    emerging = con.execute("SELECT topic_id[-3:], paragraphs_now, paragraphs_before, share_now, share_before, share_change "
                           "FROM emerging_topics('2025-02-01', '2025-03-01')").fetchall()
    assert emerging == [("002", 10, 0, 0.4167, 0.0, 0.4167), ("001", 8, 8, 0.3333, 0.4, -0.0667), ("000", 6, 12, 0.25, 0.6, -0.35)]
    c_topic = con.execute("SELECT topic_id FROM topics WHERE rank = 2").fetchone()[0]
    docs_c = con.execute("SELECT title, topic_paragraphs, paragraph_share FROM topic_documents(?)", [c_topic]).fetchall()
    assert docs_c == [("c2", 10, 1.0)]
    assert con.execute("SELECT title FROM topic_documents(0)").fetchall() == [("a1",), ("a2",)]  # by rank too
    con.close()


def test_new_paragraphs_join_the_nearest_topic_and_nothing_new_sends_nothing(settings):
    run(settings, [make_doc(*row) for row in CORPUS])
    con = open_reader(settings.warehouse)
    first = con.execute("SELECT clustering_id FROM topic_clusterings").fetchall()
    con.close()

    sent, counts = run(settings, [make_doc("c3", "C", 3, 4)], seed=50)
    assert sent == 4 and "topics" not in counts and counts["topic_members"] == 4
    con = open_reader(settings.warehouse)
    assert con.execute("SELECT clustering_id FROM topic_clusterings").fetchall() == first  # no re-clustering
    rows = con.execute("SELECT t.rank, pt.assigned_by, count(*) FROM paragraph_topics pt JOIN topics t USING (topic_id) "
                       "JOIN paragraphs p USING (paragraph_id) JOIN documents d USING (doc_id) WHERE d.title = 'c3' GROUP BY ALL").fetchall()
    assert rows == [(2, "nearest", 4)]
    assert con.execute("SELECT size FROM topics WHERE rank = 2").fetchone()[0] == 14
    con.close()

    assert run(settings) == (0, {})  # nothing new: nothing sent to the clustering or the assignment

    sent, counts = run(settings, recluster=True)  # what `govnlp backfill --stages topics` asks
    assert sent == 48 and counts["topics"] == 3
    con = open_reader(settings.warehouse)
    assert con.execute("SELECT count(*) FROM topic_clusterings").fetchone()[0] == 2
    assert con.execute("SELECT count(DISTINCT clustering_id) FROM topics").fetchone()[0] == 1
    assert con.execute("SELECT count(DISTINCT version) FROM paragraph_annotations WHERE stage = 'topics'").fetchone()[0] == 1
    con.close()


def test_growth_triggers_a_full_reclustering(settings):
    run(settings, [make_doc(*row) for row in CORPUS[:2]])  # 20 paragraphs
    sent, counts = run(settings, [make_doc(*row) for row in CORPUS[2:]], seed=10)  # 24 more: more than doubled
    assert sent == 44 and counts["topics"] == 3


def test_short_paragraphs_get_no_topic_but_are_seen(settings):
    doc = make_doc("a1", "A", 1, 12)
    doc.paragraphs.append(Paragraph(f"{doc.doc_id}-00012", doc.doc_id, 12, "Thank you.", text_hash("Thank you.")))
    run(settings, [doc, make_doc("b1", "B", 1, 8)])
    con = open_reader(settings.warehouse)
    short = f"{doc.doc_id}-00012"
    assert con.execute("SELECT count(*) FROM paragraph_topics WHERE paragraph_id = ?", [short]).fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM paragraph_annotations WHERE paragraph_id = ? AND stage = 'topics'", [short]).fetchone()[0] == 1
    assert con.execute("SELECT paragraphs, eligible, assigned FROM topic_clusterings").fetchone() == (21, 20, 20)
    con.close()


def test_too_few_paragraphs_wait(settings):
    sent, counts = run(settings, [make_doc("a1", "A", 1, 6)])
    assert sent == 0 and counts == {"topics_waiting": 6}


def test_check_finds_broken_topic_links(settings, tmp_path):
    import shutil

    import duckdb

    from govnlp.warehouse import integrity

    run(settings, [make_doc(*row) for row in CORPUS])
    con = open_reader(settings.warehouse)
    topic_problems = lambda: [p for p in integrity.problems(con) if "topic" in p]  # noqa: E731 (the fixed set has no files or signatures)
    assert topic_problems() == []
    con.close()
    broken = tmp_path / "broken.duckdb"
    shutil.copy(settings.warehouse, broken)
    con = duckdb.connect(str(broken))
    con.execute("DELETE FROM topics WHERE rank = 2")
    assert topic_problems() == ["10 paragraph topics of missing paragraphs or topics"]
    con.close()


def test_settings_defaults_are_the_clustering_defaults():
    assert load_settings().topic_params() == ClusterParams()
