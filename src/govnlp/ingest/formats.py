"""One reader per file format: bytes in, raw documents (text + metadata) out.

Each reader returns ``RawDoc`` items; ``govnlp.ingest.build_document`` turns
them into ``Document`` records the same way for every format.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field

import yaml

from govnlp.ingest.decode import clean_text, decode_bytes
from govnlp.ingest.text import TextLayout, parse_text
from govnlp.ingest.title import best_title, largest_font_title, pdf_title

# libyaml's safe loader when the wheel has it (ten times faster), else the pure-Python one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RejectedInput(ValueError):
    """The file (or record) cannot become a document; the message says why."""

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


@dataclass
class RawDoc:
    layout: TextLayout
    title: str | None = None
    date: object = None  # stated by the document: front matter, JSON field, page markup
    date_guess: object = None  # a weaker guess (htmldate's text search), used only when nothing better is known
    url: str | None = None
    publisher: str | None = None
    doc_type: str | None = None
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def read_txt(data: bytes) -> list[RawDoc]:
    text = decode_bytes(data)
    layout = parse_text(text)
    return [RawDoc(layout=layout, title=best_title(text, None, layout.title))]


FRONT_MATTER_MAX_NODES = 10_000


def _expanded_size(value, limit: int = FRONT_MATTER_MAX_NODES) -> int:
    """Values in the structure with YAML aliases expanded, counting only up to just past ``limit``."""
    seen, stack = 0, [value]
    while stack and seen <= limit:
        item = stack.pop()
        seen += 1
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)
    return seen


def _split_front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    end = text.find("\n---", 3)
    if end < 0:
        raise RejectedInput("bad_front_matter", "front matter opened with --- but never closed")
    try:
        meta = yaml.load(text[3:end], Loader=_SAFE_LOADER) or {}  # a safe loader: no !!python tags
    except yaml.YAMLError as exc:
        raise RejectedInput("bad_front_matter", f"YAML front matter does not parse: {exc}".splitlines()[0]) from None
    if not isinstance(meta, dict):
        raise RejectedInput("bad_front_matter", "front matter is not a mapping")
    if _expanded_size(meta) > FRONT_MATTER_MAX_NODES:
        raise RejectedInput("bad_front_matter", f"front matter expands to more than {FRONT_MATTER_MAX_NODES} values (YAML alias bomb?)")
    return meta, text[end + 4 :].lstrip("-\n")


def _markdown_to_text(body: str) -> str:
    lines = []
    for line in body.split("\n"):
        stripped = line.strip()
        if stripped.startswith("#"):
            stripped = stripped.lstrip("#").strip()
            lines.extend(["", stripped, ""])  # a heading is its own paragraph
        else:
            lines.append(stripped.replace("\\", ""))
    return "\n".join(lines)


def _from_metadata(layout: TextLayout, meta: dict, **extra) -> RawDoc:
    """A RawDoc from the metadata fields that front matter and JSON records share (first key present wins)."""

    def first(*keys):
        return next((meta[k] for k in keys if meta.get(k)), None)

    tags = meta.get("tags") or []
    return RawDoc(
        layout=layout,
        title=_str(first("title")),
        date=first("date", "published_time", "published", "published_on"),
        url=_str(first("source_url", "url")),
        publisher=_str(first("publisher", "source")),
        doc_type=_str(first("doc_type")),
        language=_str(first("language")),
        tags=[str(t) for t in tags] if isinstance(tags, (list, tuple)) else [str(tags)],  # a scalar is one tag
        **extra,
    )


def read_markdown(data: bytes) -> list[RawDoc]:
    meta, body = _split_front_matter(decode_bytes(data))
    layout = parse_text(_markdown_to_text(body), wrapped=True, header=not meta.get("title"), blank_ends_paragraph=True)
    return [_from_metadata(layout, meta, extra={k: str(v) for k, v in meta.items() if k != "title"})]


def read_html(data: bytes) -> list[RawDoc]:
    import trafilatura

    html = decode_bytes(data)
    text = trafilatura.extract(html, output_format="txt", include_comments=False, include_tables=False, favor_precision=True)
    if not text:
        raise RejectedInput("no_main_text", "trafilatura found no main text in the HTML")
    meta = trafilatura.extract_metadata(html)
    layout = parse_text(clean_text(text), wrapped=False, header=False)
    if meta is None:
        return [RawDoc(layout=layout)]
    return [
        RawDoc(
            layout=layout,
            title=meta.title,
            date=_html_date(html),
            date_guess=_html_date_guess(html),
            url=meta.url,
            publisher=meta.sitename,
            language=meta.language,
            tags=list(meta.categories or []) + list(meta.tags or []),
        )
    ]


def _html_date(html: str) -> str | None:
    """The publication date the page's markup states: meta tags, JSON-LD, ``<time>``, a dated byline.

    htmldate's fast mode without the URL (``url=""`` also skips the canonical
    link): a URL like /2026/08/2-million-... is no page date (trafilatura
    read it as 2026-08-02), and neither is a footer's copyright year.
    """
    from htmldate import find_date

    try:
        return find_date(html, url="", extensive_search=False, original_date=True)
    except (ValueError, TypeError):
        return None


_COPYRIGHT_YEAR = re.compile(r"(?:©|&copy;|\(c\)|copyright)\s*(?:\d{4}\s*[-–]\s*)?(\d{4})", re.I)


def _html_date_guess(html: str) -> str | None:
    """htmldate's extensive guess (URL, dates in the text), never a copyright year.

    Used only when neither the markup nor a feed entry gives a date (see
    ``govnlp.ingest.publication_date`` and ``govnlp.fetch.intake.apply_hints``).
    htmldate falls back on the footer's copyright year as 1 January of it:
    such a guess is dropped.
    """
    from htmldate import find_date

    try:
        guess = find_date(html, extensive_search=True, original_date=True, deferred_url_extractor=True)
    except (ValueError, TypeError):
        return None
    if guess and guess.endswith("-01-01") and guess[:4] in set(_COPYRIGHT_YEAR.findall(html)):
        return None
    return guess


def read_pdf(data: bytes) -> list[RawDoc]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise RejectedInput("encrypted_pdf", "the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except RejectedInput:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as exc:  # PyPdfError: also its decompression limits
        raise RejectedInput("bad_pdf", f"pypdf cannot read it: {type(exc).__name__}: {exc}") from None
    text = clean_text("\n\f".join(pages))  # a form feed marks each page break (a paragraph may run on over it)
    if not text.strip():
        raise RejectedInput("no_text", "the PDF has no extractable text (scanned?)")
    layout = parse_text(text, wrapped=True)
    info_title = _str(info.get("/Title")) if hasattr(info, "get") else None
    title = pdf_title(text, info_title, layout.title, largest_font_title(data))
    return [RawDoc(layout=layout, title=title, extra={"pages": str(len(pages))})]


def _record_to_raw(rec: dict, where: str) -> RawDoc:
    if not isinstance(rec, dict):
        raise RejectedInput("bad_record", f"{where}: a record must be a JSON object")
    body = rec.get("text") or rec.get("content") or rec.get("body")
    if not isinstance(body, str) or not body.strip():
        raise RejectedInput("bad_record", f"{where}: no 'text', 'content' or 'body' string")
    return _from_metadata(parse_text(clean_text(body), header=not rec.get("title")), rec)


def read_json(data: bytes) -> list[RawDoc]:
    try:
        obj = json.loads(decode_bytes(data))
    except json.JSONDecodeError as exc:
        raise RejectedInput("bad_json", f"invalid JSON: {exc}") from None
    records = obj if isinstance(obj, list) else [obj]
    return [_record_to_raw(rec, f"record {i}") for i, rec in enumerate(records)]


def read_jsonl(data: bytes) -> list[RawDoc | RejectedInput]:
    """One document per line; a bad line is rejected alone, the others still count."""
    out: list[RawDoc | RejectedInput] = []
    for n, line in enumerate(decode_bytes(data).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            out.append(_record_to_raw(json.loads(line), f"line {n}"))
        except json.JSONDecodeError as exc:
            out.append(RejectedInput("bad_json", f"line {n}: invalid JSON: {exc}"))
        except RejectedInput as exc:
            out.append(exc)
    return out


def _str(value) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


READERS = {
    ".txt": read_txt,
    ".text": read_txt,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".json": read_json,
    ".jsonl": read_jsonl,
}
