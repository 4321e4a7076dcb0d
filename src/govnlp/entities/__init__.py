"""Paragraphs -> entity mentions with canonical entities.

spaCy NER, preceded by an entity ruler that knows governance names (the
alias table, and token patterns for initiatives, plans, resolutions and
summits), followed by canonicalization (``canonical.py``) and a pass that
links bare surnames to the full name given earlier in the document.
"""

from __future__ import annotations

import hashlib
import re
import importlib.metadata
from itertools import groupby
from pathlib import Path

from govnlp.entities import acronyms
from govnlp.entities.canonical import DocumentContext, alias_table, canonicalize, entity_id, match_key, surface_name
from govnlp.records import ENTITY_LABELS, Entity, Mention, ParagraphText

_CAP = r"^([A-Z][\w+’'.-]*|AI\+?|\d{4}|-|&)$"
_WORD = r"^([A-Z][\w+’'.-]*|AI\+?|&)$"
_INNER = r"^([A-Z][\w+’'.-]*|AI\+?|\d{4}|-|&|and)$"  # "CHIPS and Science Act", "Belt and Road ... Plan"
_LAW_HEADS = ["initiative", "plan", "compact", "pact", "agenda", "framework", "declaration", "resolution", "strategy",
              "act", "principles", "convention", "recommendation", "recommendations", "charter", "roadmap", "accord",
              "accords", "treaty", "agreement", "programme", "program", "guidelines"]
# A memorandum is named only with its topic ("Memorandum on AI"); "the Order", "an Executive Order on AI" are
# back-references or descriptions, so "order" is no head at all.
_LAW_TITLED_HEADS = ["memorandum"]
_EVENT_HEADS = ["summit", "conference", "forum", "dialogue", "workshop", "seminar", "symposium", "expo", "week", "meeting", "session", "sessions"]
_DETERMINERS = ["the", "a", "an", "this", "that", "these", "its", "our", "their", "his", "her", "china's", "in", "on", "at", "as", "by", "for",
                # capitalized sentence openers: "During National Family Week" names "National Family Week"
                "during", "under", "through", "with", "after", "before", "since", "following", "today", "and", "another", "new"]
_NATIONALITY = r"[A-Z][a-z]+(?:an|ese|ish)"
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
_PREPS = ["on", "for", "of", "in"]
_ORG_HEADS = ["office", "agency", "corporation", "department", "commission", "council", "institute", "bureau",
              "administration", "service", "board", "mission", "fund", "center", "centre"]


def _head_patterns(label: str, heads: list[str], titled_only: bool = False) -> list[dict]:
    """Capitalized names ending in a head noun ("... Action Plan"), optionally with a topic ("... on AI")."""
    first = {"TEXT": {"REGEX": _CAP}, "LOWER": {"NOT_IN": _DETERMINERS + heads}}
    # no head inside: "the X Act and the Y Act" are two names, not one
    inner = {"TEXT": {"REGEX": _INNER}, "LOWER": {"NOT_IN": heads}, "OP": "*"}
    head = {"LOWER": {"IN": heads}, "IS_TITLE": True}
    # no bare year or month: "... on AI in 2019", "... Summit in September" end before it
    tail_word = {"TEXT": {"REGEX": _WORD}, "LOWER": {"NOT_IN": _MONTHS}, "OP": "+"}
    prep = {"LOWER": {"IN": _PREPS}}
    the = {"LOWER": "the", "OP": "?"}
    base = [first, inner, head]
    topic = [prep, the, tail_word]
    shapes = [
        # "... Initiative on AI", "Political Declaration on the Military Use of AI", "... Plan for Good and for All"
        [*base, *topic],
        [*base, *topic, prep, the, tail_word],
        [*base, prep, tail_word, {"LOWER": "and"}, {"LOWER": {"IN": ["for", "of", "on"]}, "OP": "?"}, tail_word],
        # the head first: "Workshop on AI Capacity Building", "Agreement on Science and Technology Cooperation"
        [head, *topic],
        [head, *topic, {"LOWER": "and"}, tail_word],
        # a listed topic: "Agreement on Reciprocal, Fair and Balanced Trade", "Forum on Science, Technology and ..."
        [*base, *topic, {"TEXT": ","}, tail_word, {"LOWER": "and"}, tail_word],
        [head, *topic, {"TEXT": ","}, tail_word, {"LOWER": "and"}, tail_word],
        [head, *topic, {"TEXT": ","}, tail_word, {"LOWER": "and"}, tail_word, prep, the, tail_word],
        [*base, *topic, {"TEXT": ","}, tail_word, {"LOWER": "and"}, tail_word, prep, the, tail_word],
        # an official year after the name: "AI Impact Summit 2026", "... Act of 2020"
        [*base, {"TEXT": {"REGEX": r"^\d{4}$"}}],
        [*base, {"LOWER": "of"}, {"TEXT": {"REGEX": r"^\d{4}$"}}],
    ]
    if not titled_only:
        shapes += [
            base,
            # "Engineering Capacity Building for Africa Programme"
            [first, inner, prep, {"TEXT": {"REGEX": _CAP}, "OP": "+"}, head],
        ]
    return [{"label": label, "pattern": shape, "id": "rule"} for shape in shapes]


def _special_patterns() -> list[dict]:
    """Shapes of names the head rules miss."""
    cap = {"TEXT": {"REGEX": _CAP}}
    year = [{"LOWER": "of"}, {"TEXT": {"REGEX": r"^\d{4}$"}}]
    statute = [{"LOWER": "the"}, cap, {"TEXT": {"REGEX": _INNER}, "OP": "*"}, {"TEXT": "Act"}]
    org_prefix = {"TEXT": {"IN": ["U.S.", "US", "U.N.", "UN"]}}
    org_head = {"LOWER": {"IN": _ORG_HEADS}, "IS_TITLE": True}
    return [
        # "Section 232 of the Trade Expansion Act of 1962"
        {"label": "LAW", "pattern": [{"LOWER": "section"}, {"LIKE_NUM": True}, {"LOWER": "of"}, *statute], "id": "rule"},
        {"label": "LAW", "pattern": [{"LOWER": "section"}, {"LIKE_NUM": True}, {"LOWER": "of"}, *statute, *year], "id": "rule"},
        # "Executive Order 14179"
        {"label": "LAW", "pattern": [{"TEXT": "Executive"}, {"TEXT": "Order"}, {"TEXT": {"REGEX": r"^\d{4,6}$"}}], "id": "rule"},
        # "the Trump Administration", "the Biden-Harris Administration" (a lowercase "administration" is not a name)
        {"label": "ORG", "pattern": [{"TEXT": {"REGEX": r"^[A-Z][a-z]+(-[A-Z][a-z]+)?$"}, "ENT_TYPE": "", "LOWER": {"NOT_IN": ["my", "this", "the", "our", "last", "previous", "federal", "current", "new", "prior"]}},
                                     {"TEXT": "Administration"}], "id": "rule"},
        {"label": "ORG", "pattern": [cap, {"TEXT": "-"}, cap, {"TEXT": "Administration"}], "id": "rule"},
        {"label": "ORG", "pattern": [cap, {"TEXT": "Administration"}, {"LOWER": "of"}, {"TEXT": {"REGEX": _INNER}, "OP": "+"}], "id": "rule"},
        # "U.S. Trade and Development Agency", "U.N. Office for Digital and Emerging Technologies"
        {"label": "ORG", "pattern": [org_prefix, {"TEXT": {"REGEX": _INNER}, "OP": "*"}, org_head], "id": "rule"},
        {"label": "ORG", "pattern": [org_prefix, {"TEXT": {"REGEX": _INNER}, "OP": "*"}, org_head, {"LOWER": {"IN": _PREPS}},
                                     {"TEXT": {"REGEX": _INNER}, "OP": "+"}], "id": "rule"},
    ]


def ruler_patterns() -> list[dict]:
    patterns = [
        {"label": e.label, "pattern": alias, "id": "alias"}
        for e in alias_table().entities
        for alias in sorted({*e.aliases, e.name})
        if len(alias) > 2 or alias.isupper()
    ]
    patterns += _head_patterns("LAW", _LAW_HEADS) + _head_patterns("LAW", _LAW_TITLED_HEADS, titled_only=True)
    patterns += _head_patterns("EVENT", _EVENT_HEADS) + _special_patterns()
    return patterns


CANONICAL_REVISION = "acronyms-1"  # bump when canonicalization changes in code, not data: entities are re-extracted


def pipeline_version(model: str) -> str:
    """Model package version plus a digest of the rules: a change to either makes paragraphs pending."""
    try:
        package_version = importlib.metadata.version(model) if not Path(model).exists() else Path(model).resolve().as_posix()
    except importlib.metadata.PackageNotFoundError:
        package_version = "unknown"
    rules_digest = hashlib.sha256((alias_table().source_text + repr(ruler_patterns()) + CANONICAL_REVISION).encode()).hexdigest()[:10]
    return f"{model}-{package_version}+rules-{rules_digest}"


def _compound_parts(text: str) -> list[tuple[str, int]]:
    """Known names inside a hyphenated compound that is not itself a known name, with their offsets."""
    table = alias_table()
    if "-" not in text or " " in text or match_key(text) in table.by_key:
        return []
    parts, offset = [], 0
    for piece in text.split("-"):
        if match_key(piece) in table.by_key and piece[:1].isupper():
            parts.append((piece, offset))
        offset += len(piece) + 1
    return parts


def _looks_like_heading(ent) -> bool:
    """A model span that is a heading or a list of topics, not a name.

    "Building American AI Infrastructure" starts with a verb; "Innovation,
    Infrastructure" is a comma list. Real names with commas come from the
    alias table or the ruler, which this check does not touch.
    """
    if "*" in ent.text:  # markdown emphasis never belongs to a name
        return True
    if ent.label_ not in ("ORG", "LAW", "EVENT", "PERSON"):
        return False
    return ent[0].tag_ == "VBG" or ("," in ent.text and ent.label_ != "PERSON")


def _spans(mentions: list[Mention], para) -> list[tuple[int, int]]:
    """Character spans already taken by mentions in this paragraph (the second pass adds only around them)."""
    return [(m.start_char, m.end_char) for m in mentions if m.paragraph_id == para.paragraph_id]


def _overlaps(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in taken)


# Components the entity pass leaves out: NER needs neither the dependency parse nor lemmas.
PARSE_COMPONENTS = ("parser", "lemmatizer")


class EntityExtractor:
    """Loads the spaCy pipeline once; ``extract`` runs it over paragraphs.

    ``parse=True`` keeps the parser and lemmatizer loaded but off during the
    entity pass, so the quotes stage can parse the same ``Doc`` objects
    afterwards (``govnlp.annotate``) instead of running tok2vec and the
    tagger a second time in a pipeline of its own.
    """

    def __init__(self, model: str, parse: bool = False):
        import spacy

        # The parser and lemmatizer are not needed for NER; leaving them out halves the time.
        self.nlp = spacy.load(model, exclude=[] if parse else list(PARSE_COMPONENTS))
        ruler = self.nlp.add_pipe("entity_ruler", before="ner", config={"overwrite_ents": True})
        ruler.add_patterns(ruler_patterns())
        self.version = pipeline_version(model)

    def docs(self, paragraphs: list[ParagraphText], batch_size: int = 64) -> list:
        """The entity pass: each paragraph through tok2vec, tagger, attribute ruler, entity ruler and NER."""
        off = [name for name in PARSE_COMPONENTS if name in self.nlp.pipe_names]
        return list(self.nlp.pipe((p.text for p in paragraphs), batch_size=batch_size, disable=off))

    def extract(self, paragraphs: list[ParagraphText], batch_size: int = 64, docs: list | None = None) -> tuple[list[Mention], dict[str, Entity]]:
        """Mentions and the entities they point to; paragraphs must come grouped by document.

        ``docs``: the entity pass already run over these paragraphs (``docs()``), in the same order.
        """
        mentions: list[Mention] = []
        entities: dict[str, Entity] = {}
        spacy_docs = docs if docs is not None else self.docs(paragraphs, batch_size)
        pairs = list(zip(paragraphs, spacy_docs))
        for _, group in groupby(pairs, key=lambda pair: pair[0].doc_id):
            group = list(group)
            context = DocumentContext(acronyms.definitions("\n".join(para.text for para, _ in group)))
            for para, sdoc in group:
                for ent in sdoc.ents:
                    if not ent.ent_id_ and _looks_like_heading(ent):
                        for tok in ent:  # "Building American AI Infrastructure": the nationality is still named
                            if tok.tag_ in ("JJ", "NNP", "NNPS") and re.fullmatch(_NATIONALITY, tok.text):
                                self._add(para, tok.text, "NORP", tok.idx, tok.idx + len(tok.text), "model", context, mentions, entities)
                        continue
                    if parts := _compound_parts(ent.text):  # "U.S.-UK", "U.S.-led": each known name on its own
                        for part, offset in parts:
                            known = alias_table().by_key[match_key(part)]
                            start = ent.start_char + offset
                            self._add(para, part, known.label, start, start + len(part), "rule", context, mentions, entities)
                        continue
                    self._add(para, ent.text, ent.label_, ent.start_char, ent.end_char, "rule" if ent.ent_id_ else "model", context, mentions, entities)
            for para, sdoc in group:  # second pass: bare surnames and defined acronyms the model missed
                self._add_surnames(para, sdoc, context, mentions, entities)
                self._add_acronyms(para, sdoc, context, mentions, entities)
                self._add_capitalized_places(para, sdoc, context, mentions, entities)
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
        taken = _spans(mentions, para)
        names = {tok for r in context.full_names.get("PERSON", []) for tok in (r.canonical_name.split()[0], r.canonical_name.split()[-1])}
        for token in sdoc:
            if token.text not in names or token.pos_ != "PROPN" or len(token.text) < 2:
                continue
            start, end = token.idx, token.idx + len(token.text)
            if _overlaps(taken, start, end):
                continue
            person = context.person_for_token(token.text)
            if person is None:
                continue
            eid = entity_id(person.canonical_name, "PERSON")
            entities.setdefault(eid, Entity(eid, person.canonical_name, "PERSON")).aliases.add(token.text)
            mentions.append(Mention(para.paragraph_id, eid, token.text, "PERSON", start, end, "coref"))
            taken.append((start, end))

    def _add_acronyms(self, para, sdoc, context, mentions, entities) -> None:
        """Uses of an acronym the document defines ("OMB"), where the model tagged nothing: the long form's entity."""
        if not context.acronyms:
            return
        taken = _spans(mentions, para)
        for token in sdoc:
            if token.text not in context.acronyms:
                continue
            start, end = token.idx, token.idx + len(token.text)
            if not _overlaps(taken, start, end):
                self._add(para, token.text, "ORG", start, end, "coref", context, mentions, entities)
                taken.append((start, end))

    def _add_capitalized_places(self, para, sdoc, context, mentions, entities) -> None:
        """Known countries in all-caps headings ("LIBERATING AMERICA FROM ..."), which the model does not tag."""
        taken = _spans(mentions, para)
        table = alias_table()
        for token in sdoc:
            known = table.by_key.get(match_key(token.text)) if token.text.isupper() and len(token.text) >= 4 else None
            if known is None or known.label != "GPE":
                continue
            start, end = token.idx, token.idx + len(token.text)
            if not _overlaps(taken, start, end):
                self._add(para, token.text, "GPE", start, end, "rule", context, mentions, entities)
                taken.append((start, end))
