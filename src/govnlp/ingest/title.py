"""The title of a document whose file does not state it: a learned scorer over its opening lines.

A PDF or a pasted text opens with a cover page or a header: the title, but
also bylines, date lines, addresses, salutations ("Dear colleagues:"),
volume lines ("Vol. 84, No. 31"), document codes ("Distr.: General"),
headings ("Contents", "Preface", "Overview"), the publisher's name, "Presented
to Parliament by ...".  Hand rules for each are what failed on new
publishers.  Instead every opening line, and every run of two or three short
adjacent lines (a title set over several lines), is a candidate described
by general features (position, length, case, punctuation, what kind of line
it looks like, whether it repeats as a running header, how much it shares
with the PDF's own /Title), and a logistic regression trained on the dev
publishers' gold (``python -m govnlp.ingest.train``) scores them; the best
candidate is the title.  The model is a small JSON file of coefficients,
rebuilt by that command.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from govnlp.ingest import linear
from govnlp.ingest.dates import stated_date
from govnlp.ingest.segment import STOPWORDS as _STOP, caps_ratio

MODEL_FILE = Path(__file__).with_name("models") / "title.json"
OPENING_LINES = 40
MAX_JOIN = 3

_STRUCTURAL = re.compile(r"^(?:table of )?contents$|^(?:preface|overview|foreword|introduction|summary|abstract|acknowledge?ments?|executive summary|"
                         r"key findings|background|about (?:this|the) \w+|glossary|annex(?:es)?|appendix|references|disclaimer|notes?)\b[:.]?$", re.I)
_BYLINE = re.compile(r"^(?:by|written by|authors?|prepared by|edited by|contributors?)\b|^(?:prof|dr|mr|ms|mrs|sir|dame)\.?\s", re.I)
_SALUTATION = re.compile(r"^(?:dear|to|attn|attention|from|cc|re|subject|memorandum for)\b\s*:?", re.I)
_CODE = re.compile(r"\b(?:vol\.?|volume|no\.|number|distr\.?|ref\.?|isbn|issn|doi|cp \d|hc \d|[A-Z]/[A-Z0-9/.]+\d)\b|\b\d+/\d+\b", re.I)
_PRESENTED = re.compile(r"^(?:presented to|laid before|published by|produced by|ordered by|by command|command paper)\b|\bsecretary of state for\b", re.I)
_ORG = re.compile(r"\b(?:department|ministry|office|commission|government of|agency|institute|university|council|committee|secretariat|directorate|authority)\b", re.I)
_WEB = re.compile(r"https?://|www\.|@|\.(?:gov|org|com|int)\b", re.I)
_NEVER = re.compile(r"©|copyright|all rights reserved|page \d|^\d+$", re.I)

FEATURES = (
    "bias_first_line", "position", "lines_2", "lines_3", "log_words", "words_le_2", "words_ge_20", "caps_ratio", "title_case",
    "ends_period", "ends_colon", "ends_comma", "digit_ratio", "structural", "byline", "salutation", "code", "presented", "org",
    "web", "never", "date_line", "next_is_date", "prev_is_date", "repeats", "stopword_ratio", "meta_overlap", "is_meta",
    "prev_continues", "next_continues", "ends_open", "starts_lower", "labelled", "header_rule", "largest_font", "has_font",
)
_LABEL = re.compile(r"^(?:subject|re|title|regarding)\s*:\s*(?=\S)", re.I)


@dataclass(frozen=True)
class Candidate:
    text: str
    first: int  # index of its first line among the opening lines
    lines: int
    from_metadata: bool = False
    labelled: bool = False  # "SUBJECT: ..." with the label taken off


def opening_lines(text: str, limit: int = OPENING_LINES) -> list[str]:
    """The first non-empty lines (of the first page where pages are marked by form feeds)."""
    first_page = text.split("\f", 1)[0] if "\f" in text[:20000] else text
    out = [line.strip() for line in first_page.split("\n") if line.strip()]
    if len(out) < 3:  # a near-empty cover page: look on into the next page
        out = [line.strip() for line in text.replace("\f", "\n").split("\n") if line.strip()]
    return out[:limit]


def candidates(lines: list[str], metadata_title: str | None = None, rule_title: str | None = None, font_title: str | None = None) -> list[Candidate]:
    out = []
    for i, line in enumerate(lines):
        out.append(Candidate(line, i, 1))
        if _LABEL.match(line):
            out.append(Candidate(_LABEL.sub("", line), i, 1, labelled=True))
        for n in range(2, MAX_JOIN + 1):
            part = lines[i:i + n]
            if len(part) < n or any(len(x.split()) > 12 for x in part) or part[n - 2].endswith((".", "!", "?")):
                break
            out.append(Candidate(_join(part), i, n))
    if metadata_title and len(metadata_title.split()) >= 2:
        out.append(Candidate(" ".join(metadata_title.split()), -1, 1, from_metadata=True))
    for extra in (rule_title, font_title):  # the header rule's or the largest font's title may be no opening line as such
        if extra and len(extra.split()) >= 2 and not any(_folded(c.text) == _folded(extra) for c in out):
            out.append(Candidate(" ".join(extra.split()), -1, 1))
    return out


def plausible(text: str | None) -> bool:
    """Whether a title given by the file (its /Title, its largest font) can stand as the title: 2-30 words, no
    letters-poor code, and none of the line kinds that are never titles (headings, bylines, codes, addresses, dates)."""
    if not text:
        return False
    words = text.split()
    letters = sum(ch.isalpha() for ch in text)
    return (2 <= len(words) <= 30 and letters >= 0.6 * len(text.replace(" ", "")) and not _is_date(text)
            and not any(p.search(text) for p in (_STRUCTURAL, _BYLINE, _SALUTATION, _CODE, _PRESENTED, _WEB, _NEVER))
            and not re.search(r"\.(?:docx?|pdf|indd|pptx?)\b|^microsoft\b|^untitled\b", text, re.I))


def pdf_title(text: str, info_title: str | None, rule_title: str | None, font_title: str | None) -> str | None:
    """A PDF's title: the page-1 text in the largest font, else its /Title, when plausible; else the scorer's choice.

    Type size is what a reader goes by on a cover; the scorer (trained on few PDFs) decides only when
    neither of the file's own statements can stand.
    """
    for given in (font_title, info_title):
        if plausible(given):
            return " ".join(given.split())
    return best_title(text, info_title, rule_title, font_title)


def largest_font_title(data: bytes) -> str | None:
    """The text set in the largest font on page 1 of a PDF (pdftitle's algorithm over pdfminer's layout), or None."""
    import contextlib
    import io
    import logging

    try:
        logging.getLogger("pdftitle").setLevel(logging.ERROR)  # it warns at import that openai is absent (not used here)
        logging.getLogger("pdfminer").setLevel(logging.ERROR)
        with contextlib.redirect_stdout(io.StringIO()):
            import pdftitle

            found = pdftitle.get_title_from_io(io.BytesIO(data), pdftitle.GetTitleParameters())
    except Exception:  # noqa: BLE001 - pdfminer fails on PDFs pypdf reads; the other candidates remain
        return None
    found = " ".join((found or "").split())
    return found if len(found.split()) >= 2 else None


def _join(parts: list[str]) -> str:
    text = parts[0]
    for p in parts[1:]:
        text = text[:-1] + p if text.endswith("-") and p[:1].islower() else f"{text} {p}"
    return text


def _is_date(line: str) -> bool:
    return stated_date([line]) is not None


def features(c: Candidate, lines: list[str], full_text: str, metadata_title: str | None, rule_title: str | None = None,
             font_title: str | None = None) -> list[float]:
    """``rule_title``: what the header rules of ``govnlp.ingest.text`` chose; ``font_title``: the page-1 text set in
    the largest font (PDFs, by pdftitle); each one vote among the features."""
    words = c.text.split()
    letters = [ch for ch in c.text if ch.isalpha()]
    n = max(1, len(words))
    meta_words = {w.casefold() for w in re.findall(r"\w+", metadata_title or "")}
    own = {w.casefold() for w in re.findall(r"\w+", c.text)}
    overlap = len(meta_words & own) / len(meta_words | own) if meta_words and own else 0.0
    last = c.first + c.lines - 1
    return [
        float(c.first == 0),
        1.0 / (1.0 + max(0, c.first)),
        float(c.lines == 2),
        float(c.lines == 3),
        math.log1p(len(words)),
        float(len(words) <= 2),
        float(len(words) >= 20),
        sum(ch.isupper() for ch in letters) / max(1, len(letters)),
        sum(w[:1].isupper() for w in words if w.casefold() not in _STOP) / max(1, sum(w.casefold() not in _STOP for w in words)),
        float(c.text.endswith(".")),
        float(c.text.endswith(":")),
        float(c.text.endswith(",")),
        sum(ch.isdigit() for ch in c.text) / max(1, len(c.text)),
        float(bool(_STRUCTURAL.match(c.text))),
        float(bool(_BYLINE.match(c.text))),
        float(bool(_SALUTATION.match(c.text))),
        float(bool(_CODE.search(c.text))),
        float(bool(_PRESENTED.search(c.text))),
        float(bool(_ORG.search(c.text)) and len(words) <= 8),
        float(bool(_WEB.search(c.text))),
        float(bool(_NEVER.search(c.text))),
        float(_is_date(c.text)),
        float(0 <= last + 1 < len(lines) and _is_date(lines[last + 1])),
        float(c.first > 0 and _is_date(lines[c.first - 1])),
        math.log1p(max(0, _folded(full_text).count(_folded(c.text)) - 1)) if len(c.text) >= 8 else 0.0,
        sum(w.casefold() in _STOP for w in words) / n,
        overlap,
        float(c.from_metadata),
        float(c.first > 0 and _same_block(lines[c.first - 1], lines[c.first])),
        float(0 <= last + 1 < len(lines) and c.first >= 0 and _same_block(lines[last], lines[last + 1])),
        float(c.text.endswith("-") or (words[-1].casefold() in _STOP if words else False)),
        float(c.text[:1].islower() or (words[0].casefold() in _STOP - {"a", "an", "the"} if words else False)),
        float(c.labelled),
        float(bool(rule_title) and _folded(c.text) == _folded(rule_title)),
        _overlap(c.text, font_title),
        float(bool(font_title)),
    ]


def _overlap(text: str, other: str | None) -> float:
    """Word-set Jaccard of two strings (0 when the other is missing)."""
    a = {w.casefold() for w in re.findall(r"\w+", text)}
    b = {w.casefold() for w in re.findall(r"\w+", other or "")}
    return len(a & b) / len(a | b) if a and b else 0.0


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


def _same_block(upper: str, lower: str) -> bool:
    """Whether two adjacent lines read as one title set over two lines: short, unpunctuated, the same case style."""
    return (len(upper.split()) <= 12 and len(lower.split()) <= 12 and not upper.endswith((".", ":", "!", "?"))
            and abs(caps_ratio(upper) - caps_ratio(lower)) < 0.3 and not _is_date(lower) and not _is_date(upper))


@lru_cache(maxsize=1)
def _model() -> dict | None:
    return linear.load(MODEL_FILE, FEATURES)


score = linear.decision


def best_title(text: str, metadata_title: str | None = None, rule_title: str | None = None, font_title: str | None = None) -> str | None:
    """The best-scoring candidate among the opening lines, the file's metadata title, the header rule's and the largest font's."""
    model = _model()
    lines = opening_lines(text)
    if model is None or not lines:
        return metadata_title or font_title or rule_title
    pool = candidates(lines, metadata_title, rule_title, font_title)
    scored = [(score(features(c, lines, text, metadata_title, rule_title, font_title), model), -k, c) for k, c in enumerate(pool)]
    top, _, chosen = max(scored)
    return chosen.text if top >= model.get("threshold", -math.inf) else metadata_title
