"""Document metadata: dates, publisher, document type, language.

The patterns live in ``rules.toml`` next to this file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

import dateparser
import py3langid

RULES_FILE = Path(__file__).with_name("rules.toml")


@dataclass(frozen=True)
class DocTypeRule:
    doc_type: str
    where: str
    pattern: re.Pattern


@dataclass(frozen=True)
class Rules:
    drop_lines: tuple[re.Pattern, ...]
    date_lines: tuple[re.Pattern, ...]
    publisher_lines: tuple[re.Pattern, ...]
    publisher_by_host: dict[str, str]
    doc_types: tuple[DocTypeRule, ...]


@lru_cache(maxsize=1)
def rules() -> Rules:
    raw = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))

    def compile_all(key: str) -> tuple[re.Pattern, ...]:
        return tuple(re.compile(p, re.IGNORECASE) for p in raw[key])

    return Rules(
        drop_lines=compile_all("drop_lines"),
        # Date lines are case-sensitive: month names are capitalized.
        date_lines=tuple(re.compile(p) for p in raw["date_lines"]),
        publisher_lines=tuple(re.compile(p) for p in raw["publisher_lines"]),
        publisher_by_host=raw["publisher_by_host"],
        doc_types=tuple(
            DocTypeRule(r["type"], r["where"], re.compile(r["pattern"], re.IGNORECASE | re.MULTILINE))
            for r in raw["doc_type"]
        ),
    )


_DATE_SETTINGS = {"PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["day", "month", "year"], "RETURN_AS_TIMEZONE_AWARE": False}


def parse_date(text: str | date | datetime | None) -> date | None:
    """A calendar date from a date string in any common format, or None."""
    if text is None:
        return None
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    text = str(text).strip()
    if not text:
        return None
    try:  # ISO first: unambiguous, and dateparser would also take it but slower
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    parsed = dateparser.parse(text, languages=["en"], settings=_DATE_SETTINGS)
    if parsed is None or not (1900 <= parsed.year <= 2100):
        return None
    return parsed.date()


def publisher_for_url(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlparse(url).hostname or "").lower()
    for suffix, publisher in rules().publisher_by_host.items():
        if host == suffix or host.endswith("." + suffix):
            return publisher
    return None


def infer_doc_type(title: str | None, paragraphs: list[str], tags: list[str] | None = None, fmt: str = "") -> tuple[str | None, str]:
    """(doc_type, the rule that decided) from tags, title and wording."""
    texts = {
        "tags": "\n".join(tags or []),
        "title": title or "",
        "head": "\n".join(paragraphs[:5]),
        "tail": "\n".join(paragraphs[-3:]),
    }
    for rule in rules().doc_types:
        if rule.pattern.search(texts[rule.where]):
            return rule.doc_type, f"{rule.where}:{rule.pattern.pattern}"
    return None, "none"  # unknown: a wrong guess would mislead more than a NULL


def detect_language(text: str) -> str | None:
    sample = text[:600]  # enough for a confident guess; the cost grows with length
    if len(sample.split()) < 3:
        return None
    lang, _ = py3langid.classify(sample)
    return lang
