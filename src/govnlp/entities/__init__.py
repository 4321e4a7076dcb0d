"""Paragraphs -> entity mentions with canonical entities.

spaCy NER, preceded by an entity ruler that knows governance names (the
alias table, and token patterns for initiatives, plans, resolutions and
summits), followed by canonicalization (``canonical.py``) and a pass that
links bare surnames to the full name given earlier in the document.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from itertools import groupby
from pathlib import Path

from govnlp.entities.canonical import DocumentContext, alias_table, canonicalize, entity_id, surface_name
from govnlp.records import ENTITY_LABELS, Entity, Mention, ParagraphText

_CAP = r"^([A-Z][\w+’'.-]*|AI\+?|\d{4}|-|&)$"
_LAW_HEADS = ["initiative", "plan", "compact", "pact", "agenda", "framework", "declaration", "resolution", "strategy",
              "act", "principles", "convention", "recommendation", "recommendations", "charter", "roadmap", "order", "accord", "treaty"]
_EVENT_HEADS = ["summit", "conference", "forum", "dialogue", "workshop", "seminar", "symposium", "expo", "week", "meeting", "session", "sessions"]
_DETERMINERS = ["the", "a", "an", "this", "that", "these", "its", "our", "their", "his", "her", "china's", "in", "on", "at", "as", "by", "for"]


def _head_patterns(label: str, heads: list[str]) -> list[dict]:
    first = {"TEXT": {"REGEX": _CAP}, "LOWER": {"NOT_IN": _DETERMINERS + heads}}
    inner = {"TEXT": {"REGEX": _CAP}, "OP": "*"}
    head = {"LOWER": {"IN": heads}, "IS_TITLE": True}
    tail_word = {"TEXT": {"REGEX": _CAP}, "OP": "+"}
    base = [first, inner, head]
    return [
        {"label": label, "pattern": base, "id": "rule"},
        # "... Initiative on AI", "... Dialogue on AI Governance", "... Plan for Good and for All"
        {"label": label, "pattern": [*base, {"LOWER": {"IN": ["on", "for", "of", "in"]}}, tail_word], "id": "rule"},
        {"label": label, "pattern": [*base, {"LOWER": {"IN": ["on", "for", "of", "in"]}}, {"LOWER": "the"}, tail_word], "id": "rule"},
        {"label": label, "pattern": [*base, {"LOWER": {"IN": ["on", "for", "of", "in"]}}, tail_word,
                                     {"LOWER": "and"}, {"LOWER": {"IN": ["for", "of", "on"]}, "OP": "?"}, tail_word], "id": "rule"},
    ]


def ruler_patterns() -> list[dict]:
    patterns = [
        {"label": e.label, "pattern": alias, "id": "alias"}
        for e in alias_table().entities
        for alias in sorted({*e.aliases, e.name})
        if len(alias) > 2 or alias.isupper()
    ]
    patterns += _head_patterns("LAW", _LAW_HEADS) + _head_patterns("EVENT", _EVENT_HEADS)
    return patterns


def pipeline_version(model: str) -> str:
    """Model package version plus a digest of the rules: a change to either makes paragraphs pending."""
    try:
        package_version = importlib.metadata.version(model) if not Path(model).exists() else Path(model).resolve().as_posix()
    except importlib.metadata.PackageNotFoundError:
        package_version = "unknown"
    rules_digest = hashlib.sha256((alias_table().source_text + repr(ruler_patterns())).encode()).hexdigest()[:10]
    return f"{model}-{package_version}+rules-{rules_digest}"


class EntityExtractor:
    """Loads the spaCy pipeline once; ``extract`` runs it over paragraphs."""

    def __init__(self, model: str):
        import spacy

        # The parser and lemmatizer are not needed for NER; leaving them out halves the time.
        self.nlp = spacy.load(model, exclude=["parser", "lemmatizer"])
        ruler = self.nlp.add_pipe("entity_ruler", before="ner", config={"overwrite_ents": True})
        ruler.add_patterns(ruler_patterns())
        self.version = pipeline_version(model)

    def extract(self, paragraphs: list[ParagraphText], batch_size: int = 64) -> tuple[list[Mention], dict[str, Entity]]:
        """Mentions and the entities they point to; paragraphs must come grouped by document."""
        mentions: list[Mention] = []
        entities: dict[str, Entity] = {}
        spacy_docs = self.nlp.pipe((p.text for p in paragraphs), batch_size=batch_size)
        pairs = list(zip(paragraphs, spacy_docs))
        for _, group in groupby(pairs, key=lambda pair: pair[0].doc_id):
            context = DocumentContext()
            group = list(group)
            for para, sdoc in group:
                for ent in sdoc.ents:
                    self._add(para, ent.text, ent.label_, ent.start_char, ent.end_char, "rule" if ent.ent_id_ else "model", context, mentions, entities)
            for para, sdoc in group:  # second pass: bare surnames the model missed
                self._add_surnames(para, sdoc, context, mentions, entities)
        return mentions, entities

    def _add(self, para, text, label, start, end, method, context, mentions, entities) -> None:
        if label not in ENTITY_LABELS:
            return
        resolved = canonicalize(text, label, context)
        if resolved is None:
            return
        eid = entity_id(resolved.canonical_name, resolved.label)
        entity = entities.setdefault(eid, Entity(eid, resolved.canonical_name, resolved.label))
        entity.aliases.add(surface_name(text))
        mentions.append(Mention(para.paragraph_id, eid, text, resolved.label, start, end, method))

    def _add_surnames(self, para, sdoc, context, mentions, entities) -> None:
        taken = [(m.start_char, m.end_char) for m in mentions if m.paragraph_id == para.paragraph_id]
        names = {tok for r in context.full_names.get("PERSON", []) for tok in (r.canonical_name.split()[0], r.canonical_name.split()[-1])}
        for token in sdoc:
            if token.text not in names or token.pos_ != "PROPN" or len(token.text) < 2:
                continue
            start, end = token.idx, token.idx + len(token.text)
            if any(s < end and start < e for s, e in taken):
                continue
            person = context.person_for_token(token.text)
            if person is None:
                continue
            eid = entity_id(person.canonical_name, "PERSON")
            entities.setdefault(eid, Entity(eid, person.canonical_name, "PERSON")).aliases.add(token.text)
            mentions.append(Mention(para.paragraph_id, eid, token.text, "PERSON", start, end, "coref"))
            taken.append((start, end))
