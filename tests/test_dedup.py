"""Dedup: exact and near-duplicate documents, repeated paragraphs, nothing dropped."""

from __future__ import annotations

from govnlp.dedup import DuplicateIndex
from govnlp.records import Document, Paragraph, short_id, text_hash

BASE = [
    "The Group of Friends for International Cooperation on AI Capacity-Building held its first meeting at the UN headquarters in New York, bringing together representatives from more than forty countries.",
    "Participants discussed how to bridge the digital divide, share best practices in AI governance, and support developing countries in building their own AI capacity through training and infrastructure.",
    "The co-chairs announced that a series of workshops will be held over the coming year, with a focus on data governance, computing infrastructure and the education of AI professionals.",
    "They also called on all member states to uphold multilateralism and to support the central role of the United Nations in global AI governance, so that no country is left behind.",
]


def make_doc(name: str, paragraphs: list[str]) -> Document:
    content = text_hash("\n".join(paragraphs))
    doc_id = short_id(name, content)
    paras = [Paragraph(f"{doc_id}-{i:05d}", doc_id, i, t, text_hash(t)) for i, t in enumerate(paragraphs)]
    return Document(doc_id, f"file:///{name}", 0, "txt", name, None, None, None, None, "en", paras, content, "h")


def index() -> DuplicateIndex:
    return DuplicateIndex(threshold=0.8, paragraph_threshold=0.7, num_perm=128)


def test_exact_duplicate_document_links_to_canonical():
    a, b = make_doc("a", BASE), make_doc("b", [p.upper() for p in BASE])  # case differs, normalized text equal
    signatures, stats = index().add([a, b])
    assert a.duplicate_of is None and (b.duplicate_of, b.duplicate_kind) == (a.doc_id, "exact")
    assert list(signatures) == [a.doc_id] and stats.exact_documents == 1
    assert all(p.duplicate_of == q.paragraph_id for p, q in zip(b.paragraphs, a.paragraphs))


def test_republished_with_new_header_and_footer_is_near_duplicate():
    a = make_doc("a", BASE * 3)
    b = make_doc("b", ["Republished from the original source with permission."] + BASE * 3 + ["Share this article"])
    idx = index()
    idx.add([a])
    _, stats = idx.add([b])
    assert (b.duplicate_of, b.duplicate_kind) == (a.doc_id, "near") and 0.8 <= b.duplicate_similarity < 1.0
    assert stats.near_documents == 1


def test_same_topic_different_statement_is_not_a_duplicate():
    a = make_doc("a", BASE)
    b = make_doc("b", [
        "The ministry published guidelines on the ethical use of artificial intelligence in public administration, covering transparency and accountability.",
        "Officials said the rules would apply to all central agencies from next year and would be reviewed after twelve months of experience.",
    ])
    index().add([a, b])
    assert b.duplicate_of is None


def test_repeated_caption_within_a_document_is_near_duplicate_paragraph():
    caption = "Fu Cong speaks at a side event at the UN headquarters in New York, May 6, 2025. " + BASE[0] + " (Xinhua/Xie E)"
    again = "A side event is held at the UN headquarters in New York, May 6, 2025. " + BASE[0] + " (Xinhua/Xie E)"
    doc = make_doc("a", [caption, BASE[1], BASE[2], again])
    _, stats = index().add([doc])
    assert doc.paragraphs[3].duplicate_of == doc.paragraphs[0].paragraph_id and doc.paragraphs[3].duplicate_kind == "near"
    assert [p.duplicate_of for p in doc.paragraphs[:3]] == [None, None, None]


def test_boilerplate_shared_across_documents_is_processed_once():
    a = make_doc("a", [BASE[0], "Thank you."])
    b = make_doc("b", [BASE[3], "Thank you."])
    idx = index()
    idx.add([a])
    idx.known_paragraphs({})
    idx.add([b])
    assert b.paragraphs[1].duplicate_of == a.paragraphs[1].paragraph_id
    assert b.duplicate_of is None


def test_known_state_from_the_warehouse_is_honoured():
    a = make_doc("a", BASE)
    first = index()
    signatures, _ = first.add([a])
    second = index()  # a new run: state reloaded from stored signatures and hashes
    second.known_signatures(signatures.items())
    second.known_documents({a.content_hash: a.doc_id})
    b = make_doc("b", BASE)
    second.add([b])
    assert b.duplicate_of == a.doc_id
