"""The publication date a document states in its opening lines, with its precision.

Publishers write dates in many ways: a line of its own ("12 May 2025",
"JUNE 2019", "January 2025"), a labelled line ("Issued on: May 10, 2018",
"Published 3 March 2023", "Updated 21 May 2019"), a byline ("OCTOBER 12, 2016
AT 6:02 AM ET BY ED FELTEN"), a dateline ("WASHINGTON, May 3 --").  What they
share, and what this module looks for, is a line in the opening of the
document that is mostly a date, or a date after a publication label, or a
date leading a byline.  A date inside a sentence, a copyright year, a
footer's date or a "last updated" beside a publication date is not the
publication date.

Precedence (documented in the README): a date the file's metadata states
(front matter, JSON, page markup) > a publication-labelled line > a line
that is only a date > a byline or dateline date > an "updated" line (only when
nothing else is given).  The precision is ``day``, ``month`` or ``year``; a
month-only date is stored as the month's first day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"], start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
# One date expression; named groups tell the precision.
DATE_FORMS = [
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.I),           # 12 May 2025
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I),                     # May 12, 2025
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),  # 2025-05-12
    re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b", re.I),                             # May 2025
]
_PUBLISHED = re.compile(r"^(?:date(?:d)?|issued(?: on)?|published(?: on)?|released(?: on)?|posted(?: on)?|adopted(?: on)?|signed(?: on)?|as of|effective(?: date)?)\b\s*:?", re.I)
_UPDATED = re.compile(r"^(?:last\s+)?(?:updated|modified|revised|reviewed)(?: on)?\b\s*:?", re.I)
_BYLINE = re.compile(r"\b(?:at\s+\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?|\bby\s+[A-Z])", re.I)
_NEVER = re.compile(r"©|\(c\)|copyright|crown copyright|isbn|printed in|all rights reserved|licen[cs]e|version \d|v\d+\.\d", re.I)
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?\b", re.I)
OPENING_LINES = 60  # the cover page and header; a date further down is in the body


@dataclass(frozen=True)
class StatedDate:
    value: date
    precision: str  # day | month | year
    line: int  # index in the lines given
    kind: str  # published | date_line | byline | updated


def precision_of(value) -> str:
    """The precision a stated date value carries: an ISO or full date is a day, "2024-05" a month, "2024" a year."""
    if not isinstance(value, str):
        return "day"
    text = value.strip()
    if re.fullmatch(r"(?:19|20)\d\d", text):
        return "year"
    if re.fullmatch(r"(?:19|20)\d\d-[01]\d", text):
        return "month"
    got = find_date(text)
    return got[1] if got else "day"


def find_date(text: str) -> tuple[date, str] | None:
    """The first date expression in ``text`` as (date, precision), or None."""
    for form in DATE_FORMS:
        m = form.search(text)
        if m:
            return _to_date(m)
    return None


def _to_date(m: re.Match) -> tuple[date, str] | None:
    parts = m.groupdict()
    token = parts["month"].lower().rstrip(".")
    month = int(token) if token.isdigit() else MONTHS.get(token) or MONTHS.get(token[:3])
    try:
        if parts.get("day"):
            return date(int(parts["year"]), month, int(parts["day"])), "day"
        return date(int(parts["year"]), month, 1), "month"
    except (TypeError, ValueError):
        return None


def _date_share(line: str, m: re.Match) -> float:
    """How much of the line the date is, ignoring a time of day, punctuation and weekday names."""
    rest = _TIME.sub("", line[: m.start()] + line[m.end():])
    rest = re.sub(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|[^\w]", " ", rest, flags=re.I)
    return len(m.group(0)) / max(1, len(m.group(0)) + len("".join(rest.split())))


def stated_date(lines: list[str], limit: int = OPENING_LINES) -> StatedDate | None:
    """The publication date stated in the opening lines, by the precedence in the module docstring."""
    found: dict[str, StatedDate] = {}
    seen = 0
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        seen += 1
        if seen > limit:
            break
        if len(line) > 160 or _NEVER.search(line):
            continue
        for form in DATE_FORMS:
            m = form.search(line)
            if not m:
                continue
            got = _to_date(m)
            if got is None:
                break
            head = line[: m.start()]
            if _UPDATED.match(line):
                kind = "updated"
            elif _PUBLISHED.match(line):
                kind = "published"
            elif _date_share(line, m) >= 0.6:
                kind = "date_line"
            elif line[m.end():].strip(" .") == "" and len(line.split()) <= 8 and re.search(r"[:—–-]\s*$", head):
                kind = "date_line"  # a cover label ending in its date: "Design Lab Report: September 2024"
            elif m.start() <= 2 and _BYLINE.search(line[m.end():]) or re.match(r"^[A-Z][A-Z .,'-]{2,40}[,—–-]\s*$", head):
                kind = "byline"  # "OCTOBER 12, 2016 AT 6:02 AM ET BY ..." or a dateline "WASHINGTON, May 3"
            else:
                break
            found.setdefault(kind, StatedDate(got[0], got[1], i, kind))
            break
    for kind in ("published", "date_line", "byline", "updated"):
        if kind in found:
            return found[kind]
    return None
