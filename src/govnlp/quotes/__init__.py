"""Paragraphs -> "who said what": direct quotes and reported speech with their speakers.

Rules over spaCy's dependency parse (no extra model): a quoted span is
attributed to a reporting verb in the same sentence (before or after it); a
reporting verb with a clausal complement ("X said that ...", "..., X said")
or "according to X, ..." gives reported speech. The speaker is the verb's
subject, mapped to the entity mentions the entities stage already stored;
"he"/"she" take the most recent PERSON of the last few paragraphs. Only
paragraphs with a quote mark or a reporting word are parsed, each once.
"""

from __future__ import annotations

import hashlib
import re
import importlib.metadata
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from govnlp.quotes import rules
from govnlp.quotes.marks import quoted_spans
from govnlp.records import Entity, Mention, ParagraphText

_FULL_NAME = re.compile(r"^[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*)+$")  # two or more capitalised words, no markup
_INTRO_GAP = re.compile(r"^(?:[\w.' -]{0,40}(?:[:,]|\bthat))?$")  # "said:", "said in a statement:", "saying,", "stated that"
_RULE_FILES = (Path(__file__).with_name("rules.py"), Path(__file__).with_name("marks.py"), Path(__file__))


@dataclass(frozen=True)
class Quote:
    paragraph_id: str
    kind: str  # 'direct' | 'reported'
    text: str
    start_char: int
    end_char: int
    speaker_text: str | None
    speaker_entity_id: str | None
    speaker_name: str | None
    verb: str | None
    method: str


def pipeline_version(model: str) -> str:
    """Model package version plus a digest of this stage's code and word lists."""
    try:
        package_version = importlib.metadata.version(model) if not Path(model).exists() else Path(model).resolve().as_posix()
    except importlib.metadata.PackageNotFoundError:
        package_version = "unknown"
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in _RULE_FILES)).hexdigest()[:10]
    return f"{model}-{package_version}+quotes-{digest}"


def _is_reporting(tok) -> bool:
    if tok.lemma_.lower() not in rules.REPORTING_LEMMAS or tok.pos_ not in ("VERB", "AUX"):
        return False
    return tok.lemma_.lower() != "point" or any(c.dep_ == "prt" and c.lower_ == "out" for c in tok.children)


def _subject(verb):
    """nsubj of the verb; a participle ("adding", "saying") borrows its head's subject."""
    for _ in range(3):
        subj = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subj is not None:
            return subj
        if verb.dep_ in ("advcl", "xcomp", "conj", "pcomp", "parataxis") and verb.head is not verb:
            verb = verb.head
        else:
            break
    # "..., said Fu Cong": the speaker may hang to the right as an object
    return next((c for c in verb.rights if c.dep_ in ("dobj", "attr", "npadvmod", "appos", "dep") and c.pos_ in ("PROPN", "NOUN")), None)


def _clause_span(comp, exclude) -> tuple[int, int] | None:
    """Char span of a clause's subtree, without a leading 'that', edge punctuation and the excluded tokens."""
    toks = [t for t in comp.subtree if t.i not in exclude]
    while toks and (toks[0].is_punct or toks[0].lower_ == "that" and toks[0].dep_ == "mark"):
        toks.pop(0)
    while toks and toks[-1].is_punct and toks[-1].text not in "”\"":
        toks.pop()
    if len([t for t in toks if not t.is_punct]) < rules.MIN_REPORTED_WORDS or not any(t.pos_ in ("VERB", "AUX") for t in toks):
        return None
    return toks[0].idx, toks[-1].idx + len(toks[-1].text)


class _Speakers:
    """Maps a subject token to an entity, using this document's mentions so far."""

    def __init__(self, entities: dict[str, Entity]):
        self.entities = entities
        self.recent: list[list[Mention]] = []  # mentions of the paragraphs seen, in order

    def push(self, mentions: list[Mention]) -> None:
        self.recent.append(sorted(mentions, key=lambda m: m.start_char))

    def resolve(self, subj, mentions: list[Mention]) -> tuple[str | None, str | None, str | None, str]:
        """(speaker_text, entity_id, canonical name, how)."""
        if subj is None:
            return None, None, None, "none"
        if subj.lower_ in rules.NOT_SPEAKERS:
            return None, None, None, "none"
        span_start = min(t.idx for t in subj.subtree)
        span_end = max(t.idx + len(t.text) for t in subj.subtree)
        text = subj.doc.text[span_start:span_end]
        head_in = [m for m in mentions if m.label in rules.SPEAKER_LABELS and m.start_char <= subj.idx < m.end_char]
        if head_in:
            return self._named(head_in[0], text)
        if subj.lower_ in rules.PRONOUNS:
            for para_mentions in reversed(self.recent[-(rules.PRONOUN_WINDOW + 1):]):
                people = [m for m in para_mentions if m.label == "PERSON" and (para_mentions is not self.recent[-1] or m.start_char < subj.idx)]
                if people:
                    return self._named(people[-1], subj.text, "pronoun")
            return subj.text, None, None, "pronoun"
        # a title or role with the name as apposition: "China's envoy, Fu Cong"
        people = [m for m in mentions if m.label == "PERSON" and span_start <= m.start_char < span_end]
        if people:
            return self._named(min(people, key=lambda m: abs(m.start_char - subj.idx)), text)
        if subj.pos_ == "PROPN":
            person = self._person_by_word(subj.text)
            if person is not None:
                return text, person.entity_id, person.canonical_name, "surname"
        verb = subj.head
        near = [m for m in mentions if m.label == "PERSON" and verb.sent.start_char <= m.start_char and m.end_char <= verb.idx
                and "," not in subj.doc.text[m.end_char:verb.idx].strip(" ,")]
        if near and subj.pos_ in ("PROPN", "NOUN"):  # "Advocate, Francesca Mani, said:"
            return self._named(near[-1], text, "nearby")
        return text, None, None, "description"

    def nearby(self, verb, mentions: list[Mention]):
        """No parsed subject ("Advocate, Francesca Mani, said:"): the last PERSON before the verb in its sentence."""
        near = [m for m in mentions if m.label == "PERSON" and verb.sent.start_char <= m.start_char and m.end_char <= verb.idx]
        return self._named(near[-1], near[-1].text, "nearby") if near else (None, None, None, "none")

    def _named(self, mention: Mention, text: str, how: str = "mention"):
        entity = self.entities.get(mention.entity_id)
        if entity.label == "PERSON" if entity is not None else mention.label == "PERSON":
            # "Cook" after "Tim Cook", "Gebhardt Cognetti" after "Paige Gebhardt Cognetti"
            name = entity.canonical_name if entity is not None else mention.text
            longer = self._person_by_word(name)
            if longer is None and (not _FULL_NAME.match(name) or " " not in mention.text and not name.endswith(f" {mention.text}")):
                # a junk canonical name ("Chuck] Schumer", a headline's "Tuerk Attends Communities"): the mention's surname
                longer = self._person_by_word(mention.text.split()[-1])
            if longer is not None:
                entity = longer
        elif " " not in mention.text:  # a speaker "Tuerk" tagged ORG after "Matt Tuerk": the person, by surname
            person = self._person_by_word(mention.text, surname=True)
            if person is not None:
                entity = person
        if entity is None:
            return text, mention.entity_id, mention.text, how
        return text, entity.entity_id, entity.canonical_name, how

    def _person_by_word(self, word: str, surname: bool = False) -> Entity | None:
        """The one full name seen so far in this document that contains ``word``; a surname (last word) wins ties."""
        found = {m.entity_id for ms in self.recent for m in ms if m.label == "PERSON"}
        hits = [self.entities[e] for e in sorted(found) if e in self.entities and _FULL_NAME.match(self.entities[e].canonical_name)
                and self.entities[e].canonical_name != word
                and (f" {word} " in f" {self.entities[e].canonical_name} ")]
        if len(hits) > 1 or surname:
            hits = [h for h in hits if h.canonical_name.endswith(f" {word}")]
        return hits[0] if len(hits) == 1 else None


# What the quote rules read beyond the entity pass: the dependency parse, then the attribute ruler again
# (some of its rules read the parse: "that" as a marker is SCONJ) and the lemmas (reporting verbs).
PARSE_COMPONENTS = ("parser", "attribute_ruler", "lemmatizer")
# What they never read: entities come from the stored (or just extracted) mentions.
UNUSED_COMPONENTS = ("entity_ruler", "ner")


def candidates(paragraphs: list[ParagraphText]) -> list[ParagraphText]:
    """The paragraphs worth parsing: a quotation mark or a reporting word (``rules.PREFILTER``)."""
    return [p for p in paragraphs if rules.PREFILTER.search(p.text)]


class QuoteExtractor:
    """Loads the spaCy parser once; ``extract`` finds quotes in paragraphs grouped by document.

    ``nlp``: a pipeline already loaded with the parser (the one-pass annotator
    shares the entity pipeline); its NER components are then switched off here.
    """

    def __init__(self, model: str, nlp=None):
        import spacy

        # NER is not needed (mentions come from the entities stage); the parser and lemmas are.
        self.nlp = nlp if nlp is not None else spacy.load(model, exclude=["ner"])
        self.version = pipeline_version(model)

    def parse(self, texts, batch_size: int = 64) -> list:
        """Texts parsed from scratch (every component but NER)."""
        off = [name for name in UNUSED_COMPONENTS if name in self.nlp.pipe_names]
        return list(self.nlp.pipe(texts, batch_size=batch_size, disable=off))

    def parse_more(self, docs: list, batch_size: int = 64) -> list:
        """Docs that went through the entity pass, completed with the parse in place (their token vectors reused)."""
        for name in PARSE_COMPONENTS:
            docs = list(self.nlp.get_pipe(name).pipe(docs, batch_size=batch_size))
        return docs

    def extract(self, paragraphs: list[ParagraphText], mentions: dict[str, list[Mention]],
                entities: dict[str, Entity], batch_size: int = 64, parsed: dict | None = None) -> list[Quote]:
        """Quotes with their speakers; ``parsed``: paragraph_id -> parsed Doc of the candidates, when already parsed."""
        if parsed is None:
            todo = candidates(paragraphs)
            parsed = dict(zip((p.paragraph_id for p in todo), self.parse((p.text for p in todo), batch_size)))
        quotes: list[Quote] = []
        for _, group in groupby(paragraphs, key=lambda p: p.doc_id):
            speakers = _Speakers(entities)
            for para in group:
                para_mentions = mentions.get(para.paragraph_id, [])
                speakers.push(para_mentions)
                sdoc = parsed.get(para.paragraph_id)
                if sdoc is not None:
                    quotes.extend(self._paragraph(para, sdoc, para_mentions, speakers))
        return quotes

    def _paragraph(self, para, sdoc, mentions, speakers) -> list[Quote]:
        out: list[Quote] = []
        spans = [(s, e) for s, e in quoted_spans(para.text) if len(para.text[s:e].split()) >= rules.MIN_DIRECT_WORDS]
        quoted = {t.i for s, e in spans for t in sdoc.char_span(s, e, alignment_mode="expand") or ()}
        used_verbs: set[int] = set()
        last: Quote | None = None
        for s, e in spans:
            verb, method = self._verb_for_quote(sdoc, s, e, quoted)
            text = para.text[s:e].strip()
            s2 = para.text.index(text, s)
            if verb is not None:
                used_verbs.add(verb.i)
                who = speakers.resolve(_subject(verb), mentions)
                if who[0] is None:
                    who = speakers.nearby(verb, mentions)
                if who[1] is None:  # a description ("the minister") or an unresolved pronoun: no named speaker
                    continue
                last = Quote(para.paragraph_id, "direct", text, s2, s2 + len(text), who[0], who[1], who[2], verb.lemma_.lower(), f"{method}-{who[3]}")
                out.append(last)
            elif last is not None and not re.search(r"\w", para.text[last.end_char:s]) and self._sentence_start(sdoc, s):
                # back-to-back quotes: the second continues the first speaker
                last = Quote(para.paragraph_id, "direct", text, s2, s2 + len(text), last.speaker_text, last.speaker_entity_id,
                             last.speaker_name, last.verb, "continuation")
                out.append(last)
        out.extend(self._reported(para, sdoc, mentions, speakers, quoted, used_verbs, spans))
        return out

    @staticmethod
    def _sentence_start(sdoc, start: int) -> bool:
        before = sdoc.text[:start].rstrip(" “\"”")
        return not before or before[-1] in ".!?:…"

    @staticmethod
    def _verb_for_quote(sdoc, start, end, quoted):
        """The reporting verb of a whole-sentence quote: right after it, before it, or ending the previous sentence."""
        text = sdoc.text
        opens_sentence = not text[:start].rstrip(" “\"”‘").strip() or text[:start].rstrip(" “\"”‘")[-1] in ".!?:…)]"
        rest = re.sub(r"^[\s”\"’.,;!?…]*", "", text[end:])
        closes_sentence = not rest or text[end:len(text) - len(rest)].strip(" ”\"’") != "" and not rest[:1].islower()
        if opens_sentence:
            after = [t for t in sdoc if t.idx >= end and t.i not in quoted]
            while after and (after[0].is_punct or after[0].is_space):
                after.pop(0)
            for tok in after[:8]:
                if tok.text in "“\"" or tok.is_punct and tok.text in ".!?":
                    break
                if _is_reporting(tok):
                    return tok, "quote-then-verb"
        first = sdoc.char_span(start, end, alignment_mode="expand")
        if first is None or not len(first) or not closes_sentence:
            return None, ""
        sent = first[0].sent
        before = [t for t in sdoc[sent.start:first[0].i] if t.i not in quoted]
        for tok in reversed(before):
            if _is_reporting(tok):
                gap = text[tok.idx + len(tok.text):start].strip(" “\"”")
                if _INTRO_GAP.match(gap):
                    return tok, "verb-then-quote"
                break
        k = first[0].i - 1
        while k > 0 and (sdoc[k].is_quote or sdoc[k].is_space):
            k -= 1
        if opens_sentence and k > 0:
            prev = sdoc[k]
            prev_sent = [t for t in prev.sent if t.i <= k and t.i not in quoted][-7:]
            for tok in reversed(prev_sent):
                if _is_reporting(tok) and not any(c.dep_ == "ccomp" and c.i > tok.i for c in tok.children):
                    return tok, "after-attribution"
        return None, ""

    def _reported(self, para, sdoc, mentions, speakers, quoted, used_verbs, spans) -> list[Quote]:
        out: list[Quote] = []
        for tok in sdoc:
            if tok.i in quoted or tok.i in used_verbs:
                continue
            if tok.lower_ == "according" and any(c.lower_ == "to" for c in tok.children):
                to = next(c for c in tok.children if c.lower_ == "to")
                subj = next((c for c in to.children if c.dep_ == "pobj"), None)
                head = tok.head
                if subj is None or head is tok:
                    continue
                span = _clause_span(head, {t.i for t in tok.subtree})
                verb, method = "according to", "according-to"
            elif _is_reporting(tok):
                comp = next((c for c in tok.children if c.dep_ == "ccomp"), None)
                if comp is None and tok.dep_ in ("parataxis", "advcl", "conj") and tok.head.i < tok.i and tok.lemma_.lower() not in rules.CLAUSE_ONLY:
                    # "..., he said": the parser often hangs the verb under the reported clause
                    head = tok.head
                    span = _clause_span(head, {t.i for t in tok.subtree}) if head.pos_ in ("VERB", "AUX") else None
                    method = "clause-then-verb"
                elif comp is not None:
                    span = _clause_span(comp, set())
                    method = "verb-that" if comp.i > tok.i else "clause-then-verb"
                    if span and method == "verb-that":  # conjoined clauses the parser hung elsewhere still belong to it
                        end = tok.sent.end_char
                        span = (span[0], max(span[1], len(tok.doc.text[:end].rstrip(" .;")))) if "“" not in tok.doc.text[span[1]:end] else span
                else:
                    continue
                subj = _subject(tok)
                verb = tok.lemma_.lower()
            else:
                continue
            if span is None or any(s <= span[0] and span[1] <= e + 1 for s, e in spans):
                continue  # inside a direct quote already reported
            if subj is not None and span[0] <= subj.idx < span[1]:
                continue  # the "clause" holds its own speaker: a misparse, not a report
            if verb == "according to":  # "according to the envoy, Fu Cong, ...": the name is the speaker
                lead = [m for m in mentions if m.label == "PERSON" and m.start_char == span[0] and para.text[m.end_char:m.end_char + 1] == ","]
                if lead:
                    subj = sdoc.char_span(lead[0].start_char, lead[0].end_char, alignment_mode="expand").root
                    span = (lead[0].end_char + 1 + (len(para.text[lead[0].end_char + 1:]) - len(para.text[lead[0].end_char + 1:].lstrip())), span[1])
            if any(q.start_char <= tok.idx < q.end_char for q in out):
                continue  # a report nested inside another report
            who = speakers.resolve(subj, mentions)
            if who[1] is None:  # no named speaker: a description, an impersonal or unresolved subject
                continue
            text = para.text[span[0]:span[1]]
            out.append(Quote(para.paragraph_id, "reported", text, span[0], span[1], who[0], who[1], who[2], verb, f"{method}-{who[3]}"))
        return out
