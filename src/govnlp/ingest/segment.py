"""Paragraphs of hard-wrapped and PDF text: a learned decision at each line break.

Text extracted from a PDF, or pasted from one, keeps the printed line breaks;
a paragraph may also run on over a blank line, a page break or a dropped
running header.  At every boundary between two kept lines a logistic
regression (trained on the dev publishers' gold by ``python -m
govnlp.ingest.train segments``) decides "new paragraph" or "same paragraph"
from general features: how full the previous line is against the
document's usual width, whether the next word would have fitted on it, how
the previous line ends and the next begins (sentence end, comma, hyphen,
capital, lower case, list marker, numbered heading), whether they are short
heading-like lines, and what lies between them (a blank line, a page break,
page furniture).  Lines are joined with a space, or without the hyphen of a
word split at the break.  The coefficients are ``models/segment.json``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from govnlp.ingest import linear

MODEL_FILE = Path(__file__).with_name("models") / "segment.json"

_TERMINAL = tuple('.!?"”’)')
_BULLET = re.compile(r"^([•·▪◦‣*●■○–—>-]\s*|\(?\d{1,2}[.)]\s|\(?[a-z][.)]\s|[IVX]{1,4}\.\s?)")
_OPENER = re.compile(r"^(\d{1,2}(\.\d{1,2})+\.?\s+[A-Z]|(Fig\.|Figure|Table|Box|Chapter|Section|Annex|Part)\s+[\dIVX]{1,4}[.:]?\s)")
_RUN_IN = re.compile(r"^[A-Z][\w’'&/-]*( [\w’'&/-]+){0,7}: [A-Z]")
STOPWORDS = frozenset("a an and the of for to in on at by with from as is are be this that or its it our we".split())


@dataclass(frozen=True)
class Line:
    index: int  # line number in the text
    text: str
    blank_before: bool = False
    page_before: bool = False
    dropped_before: bool = False  # page furniture or a dropped line sat between this line and the previous kept one


FEATURES = (
    "prev_fill", "next_fill", "fits", "prev_ends_sentence", "prev_ends_colon", "prev_ends_comma", "prev_ends_semicolon",
    "prev_ends_hyphen", "prev_ends_open", "next_upper", "next_lower", "next_digit", "next_quote", "next_bullet", "next_opener",
    "next_run_in", "prev_short", "blank", "page", "dropped", "prev_heading", "next_heading", "prev_caps", "next_caps",
    "prev_in_item", "ended_and_upper", "short_and_upper", "fits_and_upper", "blank_and_ended", "page_and_lower",
    "blank_and_lower", "prev_words_log", "next_words_log", "next_starts_stopword", "prev_ends_stopword", "rule_break",
    "prev_numbered_heading",
)


def _opens_item(line: str, paragraph: str, after_break: bool) -> bool:
    """Whether a marked line starts an item.  Only a bullet symbol always does: a dash, a
    number or "Figure 2." can also begin a wrapped line mid-sentence, so they need a line
    break before them (a sentence end or a short line) or a sibling item before them."""
    sibling = paragraph[:1] == line[:1] or (paragraph[:1].isdigit() and line[:1].isdigit())
    return line[:1] in "•·▪◦‣*●■" or after_break or sibling


def rule_break(prev: str, line: str, width: int, paragraph: str) -> bool:
    """The hand rule for one line break (before this module's model; now one of its features).

    Wrapping only breaks a line when the next word does not fit, so a line
    followed by a word that would have fitted was ended by the author: after a
    sentence end that starts a new paragraph, and so does a short line before a
    capital.  A list marker, numbered heading or caption starts one (see
    _opens_item); after a sentence end, so do a run-in heading ("Inscrutability:
    ...") and a new sentence after a list item.
    """
    fits = len(prev) + 1 + len(line.split()[0]) <= width if line.split() else False
    capital = line[:1].isupper() or line[:1] in "“\"‘" or line[:1].isdigit()
    ended = prev.endswith(_TERMINAL + (":", ";"))
    short = len(prev) < 0.7 * width
    in_bullet = _BULLET.match(paragraph) is not None
    return bool(
        ((_BULLET.match(line) or _OPENER.match(line)) and _opens_item(line, paragraph, ended or short))
        or (short and ended)
        or (short and capital and not prev.endswith((",", "-")))
        or (ended and capital and (fits or in_bullet or _RUN_IN.match(line) is not None))
    )


def widths(lines: list[str], span: int = 15) -> list[int]:
    """The text width around each line: its neighbourhood's third-longest line (robust to a stray long one)."""
    out = []
    for i in range(len(lines)):
        near = sorted(len(x) for x in lines[max(0, i - span):i + span + 1])
        out.append(near[-min(3, 1 + len(near) // 4)])
    return out


def caps_ratio(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(ch.isupper() for ch in letters) / max(1, len(letters))


def _heading_like(text: str) -> bool:
    words = text.split()
    return 0 < len(words) <= 10 and not text.endswith(_TERMINAL + (",", ";")) and text[:1].isupper()


def features(prev: Line, line: Line, width: int, paragraph_start: str) -> list[float]:
    a, b = prev.text, line.text
    width = max(width, 1)
    first_word = b.split()[0] if b.split() else ""
    fits = len(a) + 1 + len(first_word) <= width
    ended = a.endswith(_TERMINAL)
    upper = b[:1].isupper()
    lower = b[:1].islower()
    short = len(a) < 0.7 * width
    a_words, b_words = a.split(), b.split()
    return [
        min(2.0, len(a) / width),
        min(2.0, len(b) / width),
        float(fits),
        float(ended),
        float(a.endswith(":")),
        float(a.endswith(",")),
        float(a.endswith(";")),
        float(a.endswith("-") and a[-2:-1].isalpha()),
        float(a[-1:].isalnum()),
        float(upper),
        float(lower),
        float(b[:1].isdigit()),
        float(b[:1] in "“\"‘'"),
        float(bool(_BULLET.match(b))),
        float(bool(_OPENER.match(b))),
        float(bool(_RUN_IN.match(b))),
        float(short),
        float(line.blank_before),
        float(line.page_before),
        float(line.dropped_before),
        float(_heading_like(a)),
        float(_heading_like(b)),
        caps_ratio(a),
        caps_ratio(b),
        float(bool(_BULLET.match(paragraph_start))),
        float(ended and upper),
        float(short and upper),
        float(fits and upper),
        float(line.blank_before and ended),
        float(line.page_before and lower),
        float(line.blank_before and lower),
        math.log1p(len(a_words)),
        math.log1p(len(b_words)),
        float(bool(b_words) and b_words[0].casefold() in STOPWORDS),
        float(bool(a_words) and a_words[-1].casefold() in STOPWORDS),
        float(rule_break(a, b, width, paragraph_start)),
        float(bool(_OPENER.match(paragraph_start)) and _heading_like(paragraph_start)),
    ]


@lru_cache(maxsize=1)
def model() -> dict | None:
    return linear.load(MODEL_FILE, FEATURES)


probability = linear.probability


def join(paragraph: str, line: str) -> str:
    """One more line of the same paragraph: a word split by a line-break hyphen is joined, else a space."""
    if paragraph.endswith("-") and line[:1].islower() and paragraph[-2:-1].isalpha():
        return paragraph[:-1] + line
    return paragraph + " " + line


def paragraphs(lines: list[Line], alone: set[int] | None = None, fitted: dict | None = None) -> list[tuple[int, int, str]]:
    """(first line index, last line index, text) of each paragraph; ``alone``: lines that are always a
    paragraph of their own (a header date line)."""
    fitted = fitted or model()
    if not lines:
        return []
    alone = alone or set()
    width_of = widths([x.text for x in lines])
    out: list[list] = [[lines[0].index, lines[0].index, lines[0].text]]
    for k in range(1, len(lines)):
        prev, line = lines[k - 1], lines[k]
        new = (line.index in alone or prev.index in alone
               or probability(features(prev, line, width_of[k - 1], out[-1][2]), fitted) >= fitted.get("threshold", 0.5))
        if new:
            out.append([line.index, line.index, line.text])
        else:
            out[-1][1] = line.index
            out[-1][2] = join(out[-1][2], line.text)
    return [tuple(p) for p in out]
