"""Canonical names: many surfaces, one entity.

Three steps, in order: the alias table (``aliases.toml``), title stripping
for people, and resolution inside one document (a surname, or a short form
such as "the Global Dialogue", resolves to the one longer name it belongs to).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from govnlp.records import short_id

ALIASES_FILE = Path(__file__).with_name("aliases.toml")
_QUOTES = "\"'“”‘’«»"
_ENUMERATOR = re.compile(r"^(?:[IVX]{1,4}|\d{1,2})\.\s*")


@dataclass(frozen=True)
class KnownEntity:
    name: str
    label: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class AliasTable:
    entities: tuple[KnownEntity, ...]
    by_key: dict[str, KnownEntity]
    never: frozenset[str]
    titles: tuple[str, ...]  # longest first
    source_text: str


def match_key(text: str) -> str:
    """Lookup key: case-folded, no periods, quotes, leading 'the' or possessive."""
    text = surface_name(text).casefold().replace(".", "").replace("-", " ")
    text = re.sub(r"^the\s+", "", text)
    return " ".join(text.split())


def surface_name(text: str) -> str:
    """The mention as a name: no enumerator, quotes, leading 'the' or trailing possessive."""
    text = _ENUMERATOR.sub("", " ".join(text.split()))
    text = text.strip(_QUOTES + " ,;:[]")  # "[Tech Corps](...)": markdown link brackets are not part of a name
    text = re.sub(r"^(the|The|THE|a|an)\s+", "", text).strip(_QUOTES + " ")
    text = re.sub(r"['’]s?$", "", text)
    text = re.sub(r"\s*\([^)]*$", "", text)  # a span cut inside a parenthesis: "Company (", "Intelligence (AI"
    return text.strip(" -–")


@lru_cache(maxsize=1)
def alias_table() -> AliasTable:
    source = ALIASES_FILE.read_text(encoding="utf-8")
    raw = tomllib.loads(source)
    entities = tuple(KnownEntity(e["name"], e["label"], tuple(e["aliases"])) for e in raw["entity"])
    by_key = {match_key(alias): e for e in entities for alias in (*e.aliases, e.name)}
    return AliasTable(
        entities=entities,
        by_key=by_key,
        never=frozenset(match_key(t) for t in raw["never"]["texts"]),
        titles=tuple(sorted(raw["titles"]["words"], key=len, reverse=True)),
        source_text=source,
    )


def strip_titles(name: str) -> str:
    table = alias_table()
    changed = True
    while changed:
        changed = False
        for title in table.titles:
            if name.startswith(title + " ") and len(name) > len(title) + 1:
                name = name[len(title) + 1 :].lstrip()
                changed = True
    return name


_MIDDLE_INITIAL = re.compile(r"(?<=\S) (?:[A-Z]\.){1,2}(?= \S)")
_SUFFIX = re.compile(r"(?:,? (?:Jr\.?|Sr\.?|II|III|IV|MP|MSP|MEP|FRS|FREng|FRSE|FBA|FMedSci|CBE|OBE|MBE|KBE|DBE|KC|QC|PhD))+$")  # and UK post-nominals


def person_name(name: str) -> str:
    """First name + surname, as the gold guide wants: no title, middle initial or suffix.

    "President Donald J. Trump" -> "Donald Trump"; "Joseph R. Biden, Jr." -> "Joseph Biden".
    """
    if name.isupper() and len(name) > 5:  # signature lines: "DONALD J. TRUMP"
        name = name.title()
    name = strip_titles(name)
    name = _SUFFIX.sub("", name)
    return _MIDDLE_INITIAL.sub("", name)


_LEADING_EDITION = re.compile(r"^(?:\d{4}|\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\s+", re.I)
_LAW_WORDS = {"act", "treaty", "convention", "memorandum", "accords", "accord", "agreement", "declaration", "charter", "compact"}
_PREFIXES = {"U.S.": "United States", "US": "United States", "U.N.": "United Nations", "UN": "United Nations"}


def normalize_shape(name: str, label: str) -> tuple[str, str]:
    """General spelling rules for names the alias table does not know.

    Plural nationalities become the singular adjective ("Americans" -> "American"),
    an edition number before an event is dropped ("2027 World ... Conference"),
    "the Government of Sweden" is the country, "Departments of Energy" the one
    department, "U.S."/"U.N." before an organization is written out, and
    "the Indo-Pacific region" is the region.
    """
    if label == "NORP":
        name = re.sub(r"^(?:un|anti|pro|non)-(?=[A-Z])", "", name)  # "un-American" mentions the nationality
    if label == "NORP" and re.fullmatch(r"[A-Z][a-z]+[^s]s", name):
        name = name[:-1]
    if label in ("EVENT", "LAW"):
        name = _LEADING_EDITION.sub("", name)
    if label == "ORG" and name.split()[-1].casefold() in _LAW_WORDS:  # "National Security Memorandum" tagged ORG
        label = "LAW"
    if label == "ORG" and (m := re.fullmatch(r"(?:Government|Kingdom|Republic) of (?:the )?([A-Z][\w ]+)", name)):
        known = alias_table().by_key.get(match_key(m.group(1)))
        return (known.name, known.label) if known else (m.group(1), "GPE")
    if label == "ORG" and name.startswith("Departments of "):
        name = "Department of " + name[len("Departments of "):]
    if label == "ORG":
        first, _, rest = name.partition(" ")
        if first in _PREFIXES and rest[:1].isupper():
            name = f"{_PREFIXES[first]} {rest}"
    if name.endswith(" region") and label in ("LOC", "ORG", "GPE"):
        name, label = name[: -len(" region")], "LOC"
    return name, label


def entity_id(canonical_name: str, label: str) -> str:
    return short_id(label, canonical_name.casefold())


@dataclass
class Resolved:
    canonical_name: str
    label: str


class DocumentContext:
    """Names already seen in one document, for surnames and short forms, and the acronyms it defines."""

    def __init__(self, acronyms: dict[str, str] | None = None) -> None:
        self.full_names: dict[str, list[Resolved]] = {}  # label -> multi-word canonical names
        self.acronyms = acronyms or {}  # short form -> long form (entities.acronyms, Schwartz-Hearst)

    def remember(self, resolved: Resolved) -> None:
        if " " in resolved.canonical_name:
            names = self.full_names.setdefault(resolved.label, [])
            if all(r.canonical_name != resolved.canonical_name for r in names):
                names.append(resolved)

    def person_for_token(self, token: str) -> Resolved | None:
        """The one person whose first or last name is ``token``."""
        hits = [r for r in self.full_names.get("PERSON", []) if token in (r.canonical_name.split()[0], r.canonical_name.split()[-1])]
        return hits[0] if len(hits) == 1 else None

    def expand_short_form(self, name: str, label: str) -> Resolved | None:
        """A multi-word prefix of one longer name ("Section 232"); one word ("National") is too vague."""
        key = match_key(name)
        if " " not in key:
            return None
        hits = [r for r in self.full_names.get(label, []) if match_key(r.canonical_name).startswith(key + " ")]
        return hits[0] if len(hits) == 1 else None


def canonicalize(text: str, label: str, context: DocumentContext) -> Resolved | None:
    """Canonical name and label for a mention; None when it is not an entity."""
    table = alias_table()
    name = surface_name(text)
    key = match_key(name)
    if not key or key in table.never or not any(ch.isupper() for ch in name) or "/" in name:
        return None
    if name in context.acronyms and table.by_key.get(key) is None:
        # "OMB" after "Office of Management and Budget (OMB)": the long form's entity, with its label
        # (the model tags lone acronyms as PERSON as readily as ORG)
        long = context.acronyms[name]
        seen = next((r for names in context.full_names.values() for r in names if match_key(r.canonical_name) == match_key(long)), None)
        if seen is not None:
            return seen
        return canonicalize(long, "ORG" if label in ("PERSON", "NORP") else label, DocumentContext())
    if label == "PERSON" and any(match_key(w) in table.never or not w[:1].isupper() for w in person_name(name).split()):
        return None  # "Promoting AI": a heading, not a person
    known = table.by_key.get(key)
    if known is None and label == "PERSON":
        name = person_name(name)
        known = table.by_key.get(match_key(name))
    elif known is None:
        name, label = normalize_shape(name, label)
        known = table.by_key.get(match_key(name))
    if not name or match_key(name) in table.never or re.search(r"\s(?:of|the|and|for|on|in|to)$", name):
        return None  # a span the model cut mid-phrase: "Chair of the", "Tarun Chhabra and"
    if known is not None:
        resolved = Resolved(known.name, known.label)
    elif label == "PERSON" and " " not in name and (person := context.person_for_token(name)):
        resolved = person
    elif label != "PERSON" and (person := context.person_for_token(strip_titles(name))):
        resolved = person  # "Wang" tagged ORG after "Wang Yi"; "General Eisenhower" after "Dwight Eisenhower"
    elif (longer := context.expand_short_form(name, label)) is not None:
        resolved = longer
    else:
        if name.isupper() and len(name) > 5:
            name = name.title()
        resolved = Resolved(name, label)
    context.remember(resolved)
    return resolved
