"""Entities and quotes from one spaCy pass over each paragraph.

Both stages read spaCy's analysis of the same paragraphs: entities need
tok2vec, the tagger and NER; quotes need the dependency parse, whose parser
listens to the same tok2vec. Two pipelines (entities without the parser,
quotes without NER) ran tokenization, tok2vec and the tagger twice, and
loaded the model twice: about a third of the cold run's model time on the
AI subset (issue 16).

Here one pipeline is loaded. Every paragraph goes through the entity pass
(``EntityExtractor.docs``); the entities are extracted; then only the
paragraphs the quote pre-filter keeps go on through the parser, the
attribute ruler and the lemmatizer, on the same ``Doc`` objects, reading
the token vectors the entity pass left in ``doc.tensor``. The result is the
analysis each stage's own pipeline gave, token for token
(``tests/test_annotate.py``), so the entities and quotes stages keep their
names, versions and lineage rows; only the work is shared.
"""

from __future__ import annotations

from dataclasses import dataclass

from govnlp.entities import EntityExtractor
from govnlp.quotes import Quote, QuoteExtractor, candidates
from govnlp.records import Entity, Mention, ParagraphText


@dataclass
class Annotation:
    """What one batch yields for the entities and quotes stages (plain records, picklable)."""

    mentions: list[Mention]
    entities: dict[str, Entity]
    quotes: list[Quote]


def by_paragraph(mentions: list[Mention]) -> dict[str, list[Mention]]:
    out: dict[str, list[Mention]] = {}
    for m in mentions:
        out.setdefault(m.paragraph_id, []).append(m)
    for ms in out.values():
        ms.sort(key=lambda m: m.start_char)  # as the warehouse returns them (queries.mentions_for)
    return out


class Annotator:
    """One spaCy pipeline serving both stages; ``annotate`` for new paragraphs, ``quotes`` when only the quote rules changed."""

    def __init__(self, model: str):
        self.entity_extractor = EntityExtractor(model, parse=True)
        self.quote_extractor = QuoteExtractor(model, nlp=self.entity_extractor.nlp)

    def annotate(self, paragraphs: list[ParagraphText], batch_size: int = 64) -> Annotation:
        """Mentions, entities and quotes of paragraphs grouped by document; each paragraph analysed once."""
        docs = self.entity_extractor.docs(paragraphs, batch_size)
        mentions, entities = self.entity_extractor.extract(paragraphs, docs=docs)
        doc_of = {p.paragraph_id: d for p, d in zip(paragraphs, docs)}
        todo = candidates(paragraphs)
        parsed = dict(zip((p.paragraph_id for p in todo), self.quote_extractor.parse_more([doc_of[p.paragraph_id] for p in todo], batch_size)))
        quotes = self.quote_extractor.extract(paragraphs, by_paragraph(mentions), entities, parsed=parsed)
        return Annotation(mentions, entities, quotes)

    def quotes(self, paragraphs: list[ParagraphText], mentions: dict[str, list[Mention]], entities: dict[str, Entity]) -> list[Quote]:
        """Quotes from stored mentions (the entities are current, the quote rules changed): candidates parsed without NER."""
        return self.quote_extractor.extract(paragraphs, mentions, entities)
