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


def _match_drop(line: str, layout: TextLayout) -> bool:
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


def parse_text(text: str, *, wrapped: bool | None = None) -> TextLayout:
    """Lay out a text; ``wrapped`` forces (True) or forbids (False) re-joining lines."""
    layout = TextLayout()
    lines = [line.strip() for line in text.split("\n")]
    nav = _nav_runs(lines)
    keep: list[int] = []
    for i, line in enumerate(lines):
        if not line:
            keep.append(i)  # blank lines still separate blocks
        elif i in nav or _match_drop(line, layout):
            layout.dropped_lines += 1
        else:
            keep.append(i)

    body_start = next((i for i in keep if lines[i] and _is_body_line(lines[i])), len(lines))
    header = [i for i in keep if i < body_start and lines[i]]
    title_idx: list[int] = []
    last_meta = -1
    for pos, i in enumerate(header):
        m = _match_date(lines[i])
        if not m:
            continue
        groups = m.groupdict()
        layout.date_text = layout.date_text or groups.get("date")
        layout.publisher = layout.publisher or (groups.get("publisher") or "").strip() or None
        last_meta = i
        if groups.get("title") and not title_idx:
            layout.title = groups["title"].strip()
            title_idx = [i]
        elif not title_idx and pos > 0:
            # The title is the block of lines right above the date line.
            block = []
            for j in reversed(header[:pos]):
                if block and (j != block[0] - 1 or len(block) == 3):
                    break
                block.insert(0, j)
            title_idx = block
            layout.title = " ".join(lines[j] for j in block)
    if not title_idx and header:
        title_idx = [header[-1]]
        layout.title = lines[header[-1]]
    if not title_idx and body_start < len(lines) and _words(lines[body_start]) <= 40 and not lines[body_start].endswith("."):
        title_idx = [body_start]
        layout.title = lines[body_start]
    first_body = max([last_meta, *title_idx], default=-1) + 1

    blocks: list[list[str]] = [[]]
    for i in keep:
        if i < first_body:
            continue
        line = lines[i]
        if not line:
            blocks.append([])
        elif _match_date(line) and i < body_start:
            continue
        else:
            blocks[-1].append(line)
    blocks = [b for b in blocks if b]
    if wrapped is None:
        wrapped = looks_hard_wrapped(blocks)
    for block in blocks:
        layout.paragraphs.extend(join_wrapped(block) if wrapped else block)
    layout.paragraphs = [p for p in layout.paragraphs if any(ch.isalnum() for ch in p)]
    if layout.publisher is None:
        head = layout.paragraphs[:3]
        for pattern in rules().publisher_lines:
            for para in head:
                m = pattern.search(para)
                if m:
                    layout.publisher = m.group("publisher").strip()
                    break
            if layout.publisher:
                break
    return layout


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
