"""Plain records passed between stages.

Stages take and return these (or lists of them); none of them knows about
Prefect or DuckDB, so a stage can be tested in milliseconds and reused by
another runner.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

ENTITY_LABELS = ("PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "LAW")


# Lone UTF-16 surrogates: a Python str can hold them (JSON "\\ud800" escapes, undecodable file
# names under surrogateescape, some PDF ToUnicode maps) but UTF-8 cannot, so Arrow and DuckDB refuse them.
_SURROGATES = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> tuple[str, int]:
    """The text with every lone surrogate replaced by U+FFFD, and how many were replaced.

    Every string of a record passes through here before it reaches Arrow or
    DuckDB (``govnlp.ingest.build_document``, ``IngestError``): one bad
    character costs a replacement character, never the batch.
    """
    if text.isascii() or not _SURROGATES.search(text):
        return text, 0
    # A high+low pair is one character written as two (pypdf does this): join it; a lone half becomes U+FFFD.
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return joined, joined.count("\ufffd") - text.count("\ufffd")


def display_name(path: str) -> tuple[str, str | None]:
    """A file name fit for display and storage, and its raw bytes as hex when they are not UTF-8.

    Python decodes undecodable bytes in names to lone surrogates
    (``os.fsdecode``); the display name shows them as ``\\xNN`` escapes, and
    the hex keeps the exact name so the file can still be found.
    """
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte
        raw = path.encode("utf-8", "surrogatepass")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace"), raw.hex()
    return valid_text(path)[0], None


def normalize_text(text: str) -> str:
    """Text as compared for duplicates: NFKC, case-folded, punctuation-blind, one space."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def text_hash(text: str) -> str:
    """Stable id of a text's normalized content (the cache key for every model stage)."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()[:32]


def short_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SourceFile:
    """A file found under a source root, identified by path and content."""

    path: str
    source_uri: str
    file_hash: str
    size_bytes: int
    modified_at: float


@dataclass
class Paragraph:
    paragraph_id: str
    doc_id: str
    position: int
    text: str
    text_hash: str
    duplicate_of: str | None = None
    duplicate_kind: str | None = None  # 'exact' | 'near'

    @property
    def word_count(self) -> int:
        return len(self.text.split())


@dataclass
class Document:
    doc_id: str
    source_uri: str
    record_index: int
    format: str
    title: str | None
    published_on: date | None
    publisher: str | None
    url: str | None
    doc_type: str | None
    language: str | None
    paragraphs: list[Paragraph]
    content_hash: str
    file_hash: str
    duplicate_of: str | None = None
    duplicate_kind: str | None = None  # 'exact' | 'near'
    duplicate_similarity: float | None = None
    metadata: dict = field(default_factory=dict)
    previous_version: str | None = None  # doc_id of the earlier version from the same URL or file
    date_precision: str | None = None  # day | month | year: how much of published_on the document states

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)

    @property
    def word_count(self) -> int:
        return sum(p.word_count for p in self.paragraphs)


@dataclass(frozen=True)
class IngestError:
    """Why a file (or one record in it) was rejected; stored, never raised past the run."""

    source_uri: str
    file_hash: str | None
    error_type: str
    message: str
    stage: str = "ingest"

    def __post_init__(self):
        # A message may quote a file name or a decoded value: keep it storable (no lone surrogates).
        for name in ("source_uri", "message"):
            value = getattr(self, name)
            object.__setattr__(self, name, valid_text(value)[0])


@dataclass(frozen=True)
class Mention:
    paragraph_id: str
    entity_id: str
    text: str
    label: str
    start_char: int
    end_char: int
    method: str  # 'model' | 'rule' | 'coref'


@dataclass
class Entity:
    entity_id: str
    canonical_name: str
    label: str
    aliases: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ThemeScore:
    paragraph_id: str
    theme_id: str
    score: float
    assigned: bool


@dataclass(frozen=True)
class ParagraphText:
    """What a model stage needs of a stored paragraph."""

    paragraph_id: str
    doc_id: str
    position: int
    text: str
    text_hash: str
