"""Plain text to title, date line and clean paragraphs.

Shared by every format once it is text (.txt as is, Markdown bodies, text
extracted from PDF).  The rules: menus and widgets are dropped, the header
(what precedes the first body paragraph) yields title and date, and
hard-wrapped lines are re-joined into paragraphs.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from govnlp.ingest import segment
from govnlp.ingest.dates import StatedDate, stated_date
from govnlp.ingest.segment import Line
from govnlp.ingest.metadata import RULES_FILE, rules

_TERMINAL = tuple('.!?:;"”’)')
_TOC_ENTRY = re.compile(r"\D\s+(\d{1,3})$")  # "1.2 Challenges for AI Risk Management 5"
_TOC_MIN_ENTRIES = 3
_TOC_MAX_GAP = 8  # lines between entries (an entry can wrap)
_NAV_MAX_WORDS = 5
_NAV_MIN_RUN = 4
_HEADER_LINES = 40  # where a date line may sit above the body


@dataclass
class TextLayout:
    title: str | None = None
    date_text: str | None = None
    stated_date: StatedDate | None = None  # a date line anywhere in the opening lines (govnlp.ingest.dates)
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
    """A menu-like line; a date line is metadata, never a menu item (menus often sit right under it)."""
    return 0 < _words(line) <= _NAV_MAX_WORDS and not line.endswith(_TERMINAL + (",",)) and not _match_date(line)


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
def _page_rules() -> tuple[re.Pattern, ...]:
    raw = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    return tuple(re.compile(p, re.IGNORECASE) for p in raw.get("page_lines", []))


def _page_furniture(lines: list[str], page_starts: set[int] | None = None) -> set[int]:
    """Page numbers, and running headers/footers: short lines repeated 3+ times, mostly next to a page number.

    Pages arrive joined, so a header sits right after the previous page's number (or
    right before its own); a heading that merely repeats does not.
    """
    numbers = {i for i, line in enumerate(lines) if line and any(p.match(line) for p in _page_rules())}
    text = [i for i, line in enumerate(lines) if line]
    beside: Counter[str] = Counter()
    for k, i in enumerate(text):
        if i not in numbers and {text[k - 1] if k else -1, text[k + 1] if k + 1 < len(text) else -1} & numbers:
            beside[lines[i]] += 1
    counts = Counter(lines[i] for i in text)
    running = {line for line, n in counts.items() if n >= 3 and 2 * beside[line] >= n and _words(line) <= 12 and not line.endswith(_TERMINAL + (",",))}
    return numbers | {i for i in text if lines[i] in running} | _page_edges(lines, page_starts or set())


_EDGE_LINES = 2  # lines at the top and at the bottom of a page where running headers and footers sit


def _page_edges(lines: list[str], page_starts: set[int]) -> set[int]:
    """Running headers and footers where page breaks are known (form feeds): a line at a page's top or
    bottom that recurs, digits aside, at the same edge of at least 3 pages and a quarter of them."""
    if len(page_starts) < 3:
        return set()
    bounds = sorted({0, *page_starts, len(lines)})
    edges: list[tuple[int, str]] = []  # (line, shape) for the first and last lines of each page
    for start, end in zip(bounds, bounds[1:]):
        filled = [i for i in range(start, end) if lines[i]]
        for i in filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]:
            edges.append((i, re.sub(r"\d+", "#", lines[i].casefold())))
    pages = len(bounds) - 1
    counts = Counter(shape for _, shape in set(edges))
    need = max(3, pages // 4)
    return {i for i, shape in edges if counts[shape] >= need and _words(lines[i]) <= 15}


def _toc_lines(lines: list[str], furniture: set[int]) -> set[int]:
    """A table of contents or list of figures: a run of 3+ entries ending in page numbers that mostly rise."""
    entries = [(i, int(m.group(1))) for i, line in enumerate(lines) if i not in furniture and (m := _TOC_ENTRY.search(line))]
    toc: set[int] = set()
    run: list[tuple[int, int]] = []
    for entry in entries + [(len(lines) + _TOC_MAX_GAP + 1, 0)]:
        if run and entry[0] - run[-1][0] <= _TOC_MAX_GAP:
            run.append(entry)
            continue
        rising = sum(b[1] >= a[1] for a, b in zip(run, run[1:]))
        if len(run) >= _TOC_MIN_ENTRIES and rising >= 0.75 * (len(run) - 1):
            toc.update(range(run[0][0], run[-1][0] + 1))
        run = [entry]
    return toc


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


@dataclass
class Scan:
    blocks: list  # runs of kept lines between blank or dropped lines: [(line index, text), ...]
    kept: list[Line]  # every kept line with what lies before it (the learned segmenter's input)
    standalone: set[int]  # header date lines: always a paragraph of their own


def scan_lines(text: str, layout: TextLayout, header: bool = True) -> Scan:
    """Lines with page furniture, menus, contents lists and drop-rule lines taken out (counted in ``layout``)."""
    raw_lines = text.split("\n")
    lines = [line.strip() for line in raw_lines]
    furniture = _page_furniture(lines, {i for i, raw in enumerate(raw_lines) if "\f" in raw})
    if header:
        layout.stated_date = stated_date([line for i, line in enumerate(lines) if i not in furniture])
    nav = _nav_runs(lines) | _toc_lines(lines, furniture)
    blocks: list[list[tuple[int, str]]] = [[]]
    kept: list[Line] = []  # every kept line with what lies before it (for the learned segmenter)
    gap = {"blank_before": False, "page_before": False, "dropped_before": False}
    standalone: set[int] = set()
    for i, line in enumerate(lines):
        if "\f" in raw_lines[i]:
            gap["page_before"] = True
        if not line:
            blocks.append([])
            gap["blank_before"] = True
        elif i in furniture:
            layout.dropped_lines += 1  # a paragraph runs on across a page break
            gap["dropped_before"] = True
        elif i in nav or _match_drop(line, layout):
            layout.dropped_lines += 1
            blocks.append([])  # a dropped line separates what surrounds it
            gap["blank_before"] = True
        else:
            if header and i < _HEADER_LINES and _match_date(line):
                blocks.extend([[(i, line)], []])  # a date line stands alone: never re-joined with the title above it
                standalone.add(i)
            else:
                blocks[-1].append((i, line))
            if kept and _LONE_MARKER.match(kept[-1].text) and not gap["page_before"]:
                # a bullet set on a line of its own (pdftotext does this): it belongs to the item that follows
                kept[-1] = Line(kept[-1].index, f"{kept[-1].text} {line}", kept[-1].blank_before, kept[-1].page_before, kept[-1].dropped_before)
            else:
                kept.append(Line(i, line, **gap))
            gap = dict.fromkeys(gap, False)
    return Scan([b for b in blocks if b], kept, standalone)


_LONE_MARKER = re.compile(r"^(?:[•·▪◦‣*●■○–—>-]|\(?\d{1,2}[.)]|\(?[a-z][.)]|[ivxIVX]{1,4}[.)]|\d{1,2}(?:\.\d{1,2})+\.?)$")


def parse_text(text: str, *, wrapped: bool | None = None, header: bool = True, blank_ends_paragraph: bool = False) -> TextLayout:
    """Lay out a text.

    ``wrapped`` forces (True) or forbids (False) re-joining lines; ``header``
    False means the text is body only (title and date came as metadata);
    ``blank_ends_paragraph``: a blank line always ends a paragraph (Markdown's
    rule: blocks are explicit, and lines inside a block are joined by the hand
    rule); else the learned segmenter weighs it (PDF text has blank lines
    mid-paragraph).
    """
    layout = TextLayout()
    scan = scan_lines(text, layout, header)
    blocks, kept, standalone = scan.blocks, scan.kept, scan.standalone
    if wrapped is None:
        wrapped = looks_hard_wrapped([[line for _, line in b] for b in blocks])
    units: list[tuple[int, int, str]] = []  # (first line, last line, text)
    if wrapped and not blank_ends_paragraph and segment.model() is not None:
        units = segment.paragraphs(kept, alone=standalone)
    else:
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
    """Re-join hard-wrapped lines into paragraphs by the hand rule (``segment.rule_break``).

    Used when the learned model (``segment.paragraphs``) is absent; the rule is also one of its features.
    """
    if not lines:
        return []
    widths = segment.widths(lines)
    paragraphs: list[str] = [lines[0]]
    for k, (prev, line) in enumerate(zip(lines, lines[1:])):
        if segment.rule_break(prev, line, widths[k], paragraphs[-1]):
            paragraphs.append(line)
        else:
            paragraphs[-1] = segment.join(paragraphs[-1], line)
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
