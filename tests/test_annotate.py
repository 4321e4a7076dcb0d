"""One spaCy pass for entities and quotes gives what the two stages' own pipelines gave (issue 16, parse once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from govnlp.annotate import Annotator, by_paragraph
from govnlp.entities import EntityExtractor
from govnlp.quotes import QuoteExtractor, candidates
from govnlp.records import ParagraphText, text_hash
from govnlp.settings import Settings

MODEL = Settings().spacy_model
SEEDS = Path(__file__).resolve().parents[1] / "raw"


def _paragraphs() -> list[ParagraphText]:
    """The seeds' paragraphs (split on blank lines), grouped by document, as the stages receive them."""
    out = []
    for d, path in enumerate(sorted(SEEDS.glob("*.txt"))):
        texts = [t.strip() for t in path.read_text(encoding="utf-8").split("\n\n") if t.strip()]
        out += [ParagraphText(f"{d}-{i:04d}", f"doc{d}", i, t, text_hash(t)) for i, t in enumerate(texts)]
    return out


@pytest.fixture(scope="module")
def annotator():
    return Annotator(MODEL)


def test_the_parse_on_the_entity_pass_equals_the_quote_pipelines_parse(annotator):
    paras = candidates(_paragraphs())
    assert len(paras) > 10
    own = QuoteExtractor(MODEL).parse(p.text for p in paras)
    shared = annotator.quote_extractor.parse_more(annotator.entity_extractor.docs(paras))
    key = lambda doc: [(t.text, t.dep_, t.head.i, t.lemma_, t.pos_, t.tag_, t.is_sent_start) for t in doc]  # noqa: E731
    assert [key(d) for d in shared] == [key(d) for d in own]


def test_one_pass_gives_the_mentions_and_quotes_of_two(annotator):
    paras = _paragraphs()
    mentions, entities = EntityExtractor(MODEL).extract(paras)
    quotes = QuoteExtractor(MODEL).extract(paras, by_paragraph(mentions), entities)
    assert quotes and mentions

    one = annotator.annotate(paras)
    assert one.mentions == mentions
    assert {k: (e.canonical_name, e.label, e.aliases) for k, e in one.entities.items()} == \
        {k: (e.canonical_name, e.label, e.aliases) for k, e in entities.items()}
    assert one.quotes == quotes
    # the quotes-only path (stored mentions, quote rules changed) on the same pipeline agrees too
    assert annotator.quotes(paras, by_paragraph(mentions), entities) == quotes


def test_the_annotator_loads_one_pipeline(annotator):
    assert annotator.quote_extractor.nlp is annotator.entity_extractor.nlp
    assert {"parser", "ner", "entity_ruler"} <= set(annotator.entity_extractor.nlp.pipe_names)


def _has_cupy() -> bool:
    import importlib.util

    return importlib.util.find_spec("cupy") is not None


def test_spacy_device_choice():
    """spaCy goes to a GPU only where one is usable or asked for; a wrong name is refused before any model loads."""
    import pydantic

    from govnlp import compute

    assert compute.spacy_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="'cpu', 'gpu' or 'gpu:N'"):
        compute.spacy_device("tpu")
    with pytest.raises(pydantic.ValidationError):
        Settings(spacy_device="cuda0")
    assert Settings(spacy_device="gpu:1").spacy_device == "gpu:1"
    assert compute.ModelSpec.of(Settings(spacy_device="cpu")).spacy_device == "cpu"
    if not _has_cupy():  # this machine (and CI): no CuPy, so the default stays on the CPU and a required GPU says why not
        assert compute.spacy_device(None) == "cpu"
        with pytest.raises(ValueError, match="CuPy"):
            compute.spacy_device("gpu")
