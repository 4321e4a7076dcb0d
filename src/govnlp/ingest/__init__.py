"""Raw files -> Documents.

``discover`` lists the files under the sources that the warehouse has not
seen (by path and content hash); ``read_file`` turns one file into documents
or rejections.  Neither raises for bad input: a rejection is data.
"""

from __future__ import annotations

import hashlib
import html
import os
import stat as stat_kinds
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from govnlp.ingest.dates import precision_of
from govnlp.ingest.formats import READERS, RawDoc, RejectedInput
from govnlp.ingest.text import bound_paragraphs
from govnlp.ingest.metadata import detect_language, infer_doc_type, parse_date, publisher_for_url
from govnlp.records import Document, IngestError, Paragraph, SourceFile, display_name, short_id, text_hash, valid_text

SUPPORTED_SUFFIXES = tuple(READERS)
MAX_PARAGRAPH_CHARS = 10_000  # longer paragraphs are split: spaCy and the embedder take pieces this size quickly


def _source_file(path: Path, root: Path, unchanged: dict[str, list[tuple[int, float]]]) -> SourceFile | IngestError | None:
    """The file with its content hash; None when size and mtime match a version already read."""
    uri = path.absolute().as_uri()
    try:
        real = path.resolve(strict=True)
        if real != root and root not in real.parents:
            return IngestError(uri, None, "outside_source", f"symlink points outside the source root {root}")
        stat = real.stat()
        if not stat_kinds.S_ISREG(stat.st_mode):  # a FIFO or device would block or never end
            return IngestError(uri, None, "not_a_regular_file", "not a regular file (a pipe, socket or device); skipped")
        if any(size == stat.st_size and abs(mtime - stat.st_mtime) < 1e-5 for size, mtime in unchanged.get(uri, ())):
            return None
        with open(real, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()  # streamed: a huge file is not held in memory
    except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop on some Pythons
        return IngestError(uri, None, "unreadable", f"{type(exc).__name__}: {exc}")
    return SourceFile(str(real), uri, digest, stat.st_size, stat.st_mtime)


def iter_source_paths(sources: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """(path, root) for every non-hidden file under the sources, sorted, without following symlinked dirs."""
    for source in sources:
        source = Path(source)
        if source.is_file():
            yield source, source.resolve().parent
            continue
        if not source.is_dir():
            raise FileNotFoundError(f"source not found: {source}")
        root = source.resolve()
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not name.startswith(".") and name.lower() != "readme.md":
                    yield Path(dirpath) / name, root


def discover(sources: Iterable[Path], seen: set[tuple[str, str]] | None = None,
             unchanged: dict[str, list[tuple[int, float]]] | None = None) -> Iterator[SourceFile | IngestError]:
    """Files not yet in the warehouse; unsupported or unreadable files as errors.

    ``seen``: (uri, content hash) already read; ``unchanged``: uri -> (size, mtime)
    of versions already read, so that an unchanged file is not even re-read.
    """
    seen = seen or set()
    unchanged = unchanged or {}
    for path, root in iter_source_paths(sources):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            uri = path.absolute().as_uri()
            if (uri, "") not in seen:
                yield IngestError(uri, "", "unsupported_format", f"no reader for '{path.suffix or path.name}' files; supported: {', '.join(SUPPORTED_SUFFIXES)}")
            continue
        found = _source_file(path, root, unchanged)
        if found is not None and (found.source_uri, found.file_hash or "") not in seen:
            yield found


def read_file(source: SourceFile, max_bytes: int, max_text_chars: int = 2_000_000) -> tuple[list[Document], list[IngestError]]:
    def reject(error_type: str, message: str) -> IngestError:
        return IngestError(source.source_uri, source.file_hash, error_type, message)

    if source.size_bytes == 0:
        return [], [reject("empty_file", "the file is empty")]
    if source.size_bytes > max_bytes:
        return [], [reject("too_large", f"{source.size_bytes} bytes is over the {max_bytes}-byte limit")]
    suffix = Path(source.path).suffix.lower()
    if suffix not in READERS:
        return [], [reject("unsupported_format", f"no reader for '{suffix or Path(source.path).name}' files")]
    try:
        with open(source.path, "rb") as fh:
            data = fh.read(max_bytes + 1)  # the file may have grown since it was listed
        if len(data) > max_bytes:
            return [], [reject("too_large", f"over the {max_bytes}-byte limit")]
        raws = READERS[suffix](data)
    except RejectedInput as exc:
        return [], [reject(exc.error_type, str(exc))]
    except (OSError, ValueError, RecursionError, MemoryError) as exc:
        return [], [reject("unreadable", f"{type(exc).__name__}: {exc}")]
    docs: list[Document] = []
    errors: list[IngestError] = []
    for index, raw in enumerate(raws):
        if isinstance(raw, RejectedInput):
            errors.append(reject(raw.error_type, str(raw)))
            continue
        doc = build_document(raw, source, index, suffix.lstrip("."))
        chars = sum(len(p.text) for p in doc.paragraphs)
        if chars > max_text_chars:
            errors.append(reject("text_too_long", f"record {index}: {chars} characters of text is over the {max_text_chars} limit"))
        elif doc.paragraphs:
            docs.append(doc)
        else:
            errors.append(reject("no_text", f"record {index}: no paragraphs left after cleaning"))
    if not docs and not errors:  # `[]`, a JSON Lines file of blank lines: say so, or the file would vanish without a row
        errors.append(reject("no_text", "the file holds no records"))
    return docs, errors


def build_document(raw: RawDoc, source: SourceFile, index: int, fmt: str) -> Document:
    layout = raw.layout
    replaced = Counter()
    texts = [_valid(t, replaced) for t in bound_paragraphs(layout.paragraphs, MAX_PARAGRAPH_CHARS)]
    content_hash = text_hash("\n".join(texts))
    doc_id = short_id(source.source_uri, str(index), content_hash)
    url = _valid(raw.url or layout.url, replaced)
    title = clean_title(_valid(raw.title or layout.title, replaced))
    tags = [_valid(t, replaced) for t in raw.tags]
    doc_type, doc_type_rule = (raw.doc_type, "given") if raw.doc_type else infer_doc_type(title, texts, tags, fmt)
    paragraphs = [
        Paragraph(paragraph_id=f"{doc_id}-{pos:05d}", doc_id=doc_id, position=pos, text=t, text_hash=text_hash(t))
        for pos, t in enumerate(texts)
    ]
    extra = {_valid(k, replaced): _valid(v, replaced) for k, v in raw.extra.items()}
    metadata = {"doc_type_rule": doc_type_rule, "language_declared": bool(raw.language), "dropped_lines": layout.dropped_lines, "tags": tags, **extra}
    published_on, precision, metadata["date_source"] = publication_date(raw)
    name, name_hex = display_name(source.path)
    if name_hex:
        metadata.update(file_name=name, file_name_hex=name_hex)
    document = Document(
        doc_id=doc_id,
        source_uri=source.source_uri,
        record_index=index,
        format=fmt,
        title=title,
        published_on=published_on,
        date_precision=precision,
        publisher=_valid(raw.publisher or layout.publisher or publisher_for_url(url), replaced),
        url=url,
        doc_type=_valid(doc_type, replaced),
        language=_valid(raw.language, replaced) or detect_language(" ".join(texts)),
        paragraphs=paragraphs,
        content_hash=content_hash,
        file_hash=source.file_hash,
        metadata=metadata,
    )
    if replaced["n"]:
        document.metadata["replaced_characters"] = replaced["n"]
    return document


def publication_date(raw: RawDoc):
    """(date, precision, where it came from), by the precedence in ``govnlp.ingest.dates``.

    Stated by the file (front matter, JSON, page markup), then a header date
    line (the rules in rules.toml), then a date line anywhere in the opening
    lines, then a guess (htmldate's).  A fetched page's feed entry ranks above
    the guess (``fetch.intake.apply_hints``).
    """
    for value, origin in ((raw.date, "stated"), (raw.layout.date_text, "text")):
        parsed = parse_date(value)
        if parsed:
            return parsed, precision_of(value), origin
    found = raw.layout.stated_date
    if found:
        return found.value, found.precision, "text"
    parsed = parse_date(raw.date_guess)
    return (parsed, "day", "guess") if parsed else (None, None, None)


def clean_title(title: str | None) -> str | None:
    """The title as the guide writes it (benchmarks/gold/DOCUMENTS.md): HTML entities decoded ("&#58;" in
    front matter), whitespace single, a trailing full stop dropped (not the period of a final "U.S.")."""
    if not title:
        return title
    if "&" in title:
        title = html.unescape(title)
    title = " ".join(title.split())
    last = title.split()[-1] if title.split() else ""
    if title.endswith(".") and not title.endswith("..") and "." not in last[:-1]:
        title = title[:-1].rstrip()
    return title or None


def _valid(value, replaced: Counter):
    """Strings made valid UTF-8 (lone surrogates -> U+FFFD), counting the replacements; other values as they are."""
    if not isinstance(value, str):
        return value
    text, n = valid_text(value)
    replaced["n"] += n
    return text


__all__ = ["discover", "read_file", "build_document", "SUPPORTED_SUFFIXES"]
