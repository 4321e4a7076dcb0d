"""Plain text to title, date line and clean paragraphs.

Shared by every format once it is text (.txt as is, Markdown bodies, text
extracted from PDF).  The rules: menus and widgets are dropped, the header
(what precedes the first body paragraph) yields title and date, and
hard-wrapped lines are re-joined into paragraphs.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from functools import lru_cache

from govnlp.ingest.metadata import rules

_TERMINAL = tuple('.!?:;"”’)')
_BULLET = re.compile(r"^([•·▪◦‣*–—-]\s*|\(?\d{1,2}[.)]\s|\(?[a-z][.)]\s|[IVX]{1,4}\.\s?)")
_NAV_MAX_WORDS = 5
_NAV_MIN_RUN = 4


@dataclass
class TextLayout:
    title: str | None = None
    date_text: str | None = None
    publisher: str | None = None
    url: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    dropped_lines: int = 0


def _words(line: str) -> int:
    return len(line.split())


def _is_body_line(line: str) -> bool:
    """A line that can only be running text: long, or a full sentence."""
    n = _words(line)
    return n >= 25 or (n >= 12 and line.endswith(_TERMINAL))


def _is_short_label(line: str) -> bool:
    return 0 < _words(line) <= _NAV_MAX_WORDS and not line.endswith(_TERMINAL + (",",))


def _nav_runs(lines: list[str]) -> set[int]:
    """Indices of runs of short label lines (menus), blank lines not breaking a run."""
    nav: set[int] = set()
    run: list[int] = []
    for i, line in enumerate(lines + ["<end of text, not a label>"]):
        if not line:
            continue
        if _is_short_label(line):
            run.append(i)
            continue
        if len(run) >= _NAV_MIN_RUN:
            nav.update(run)
        run = []
    return nav


@lru_cache(maxsize=1)
def _any_drop() -> re.Pattern:
    """All drop rules as one regex, to reject most lines with a single match."""
    bare = [re.sub(r"\(\?P<\w+>", "(?:", p.pattern) for p in rules().drop_lines]
    return re.compile("|".join(f"(?:{b})" for b in bare), re.IGNORECASE)


def _match_drop(line: str, layout: TextLayout) -> bool:
    if not _any_drop().match(line):
        return False
    for pattern in rules().drop_lines:
        m = pattern.match(line)
        if m:
            groups = m.groupdict()
            if groups.get("publisher") and not layout.publisher:
                layout.publisher = groups["publisher"].strip()
            if groups.get("url") and not layout.url:
                layout.url = groups["url"]
            return True
    return False


def _match_date(line: str):
    if _words(line) > 40:
        return None
    for pattern in rules().date_lines:
        m = pattern.match(line)
        if m:
            return m
    return None


def parse_text(text: str, *, wrapped: bool | None = None, header: bool = True) -> TextLayout:
    """Lay out a text.

    ``wrapped`` forces (True) or forbids (False) re-joining lines; ``header``
    False means the text is body only (title and date came as metadata).
    """
    layout = TextLayout()
    lines = [line.strip() for line in text.split("\n")]
    nav = _nav_runs(lines)
    blocks: list[list[tuple[int, str]]] = [[]]
    for i, line in enumerate(lines):
        if not line:
            blocks.append([])
        elif i in nav or _match_drop(line, layout):
            layout.dropped_lines += 1
            blocks.append([])  # a dropped line separates what surrounds it
        else:
            blocks[-1].append((i, line))
    blocks = [b for b in blocks if b]
    if wrapped is None:
        wrapped = looks_hard_wrapped([[line for _, line in b] for b in blocks])
    units: list[tuple[int, int, str]] = []  # (first line, last line, text)
    for block in blocks:
        if wrapped:
            first = block[0][0]
            joined = join_wrapped([line for _, line in block])
            # line spans are only needed in the header, where units are single lines
            units.extend((first + k, first + k, t) for k, t in enumerate(joined))
        else:
            units.extend((i, i, line) for i, line in block)
    units = [u for u in units if any(ch.isalnum() for ch in u[2])]
    if header:
        units = _take_header(units, layout)
    layout.paragraphs = [t for _, _, t in units]
    if layout.publisher is None:
        layout.publisher = _wire_publisher(layout.paragraphs[:3])
    return layout


def _wire_publisher(paragraphs: list[str]) -> str | None:
    for pattern in rules().publisher_lines:
        for para in paragraphs:
            m = pattern.search(para)
            if m:
                return m.group("publisher").strip()
    return None


def _take_header(units: list[tuple[int, int, str]], layout: TextLayout) -> list[tuple[int, int, str]]:
    """Title and date from the lines above the first body paragraph; returns the body."""
    # With no line that can only be running text, only the first line may be header.
    body_start = next((k for k, u in enumerate(units) if _is_body_line(u[2])), min(1, len(units)))
    title_units: list[int] = []
    date_units: set[int] = set()
    for k in range(body_start):
        m = _match_date(units[k][2])
        if not m:
            continue
        groups = m.groupdict()
        date_units.add(k)
        layout.date_text = layout.date_text or groups.get("date")
        layout.publisher = layout.publisher or (groups.get("publisher") or "").strip() or None
        if groups.get("title") and not title_units:
            layout.title = groups["title"].strip()
            title_units = [k]
        elif not title_units and k > 0:
            # The title is the block of adjacent lines right above the date line (at most 3).
            block = [k - 1]
            while block[0] > 0 and len(block) < 3 and units[block[0] - 1][1] == units[block[0]][0] - 1 and block[0] - 1 not in date_units:
                block.insert(0, block[0] - 1)
            title_units = block
            layout.title = " ".join(units[j][2] for j in block)
    if not title_units and body_start > 0:
        title_units = [body_start - 1]
    elif not title_units and body_start < len(units) and _words(units[body_start][2]) <= 40 and not units[body_start][2].endswith("."):
        title_units = [body_start]
    if title_units and layout.title is None:
        layout.title = units[title_units[0]][2]
    first_body = max([*date_units, *title_units], default=-1) + 1
    return [u for k, u in enumerate(units) if k >= first_body and k not in date_units]


def looks_hard_wrapped(blocks: list[list[str]]) -> bool:
    """True when lines break mid-sentence (PDF text, e-mail style wrapping)."""
    pairs = [(a, b) for block in blocks for a, b in zip(block, block[1:])]
    if len(pairs) < 3:
        return False
    mid_sentence = sum(1 for a, b in pairs if not a.endswith(_TERMINAL) and b[:1].islower())
    return mid_sentence / len(pairs) >= 0.15


def join_wrapped(lines: list[str]) -> list[str]:
    """Re-join hard-wrapped lines; a short line or a bullet starts a new paragraph."""
    if not lines:
        return []
    width = statistics.quantiles([len(x) for x in lines], n=10)[-1] if len(lines) >= 2 else len(lines[0])
    paragraphs: list[str] = [lines[0]]
    for prev, line in zip(lines, lines[1:]):
        short = len(prev) < 0.7 * width
        breaks = (
            _BULLET.match(line) is not None
            or (short and prev.endswith(_TERMINAL))
            or (short and line[:1].isupper() and not prev.endswith((",", "-")))
        )
        if breaks:
            paragraphs.append(line)
        elif paragraphs[-1].endswith("-") and line[:1].islower() and paragraphs[-1][-2:-1].isalpha():
            paragraphs[-1] = paragraphs[-1][:-1] + line  # de-hyphenate "gover-\nnance"
        else:
            paragraphs[-1] = paragraphs[-1] + " " + line
    return paragraphs


_NON_PROSE_RUN = re.compile(r"\S{500,}")  # base64 blobs, minified code: no word or URL is this long
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def bound_paragraphs(paragraphs: list[str], max_chars: int) -> list[str]:
    """Paragraphs the models can take: non-prose runs removed, over-long ones split at sentence ends (else spaces)."""
    out: list[str] = []
    for text in paragraphs:
        if len(text) >= 500 and _NON_PROSE_RUN.search(text):
            text = " ".join(_NON_PROSE_RUN.sub(" ", text).split())
        while len(text) > max_chars:
            cut = max((m.end() for m in _SENTENCE_END.finditer(text, 0, max_chars)), default=0) or text.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 4 else max_chars
            out.append(text[:cut].strip())
            text = text[cut:].strip()
        if text:
            out.append(text)
    return out
