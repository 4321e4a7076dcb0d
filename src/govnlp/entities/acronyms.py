"""Acronyms defined in a document, by the Schwartz-Hearst algorithm.

Schwartz and Hearst, "A simple algorithm for identifying abbreviation
definitions in biomedical text" (PSB 2003): a short form in parentheses after
its long form, "Office of Management and Budget (OMB)", where the short
form's characters appear in order in the long form, the first one at the
start of a word.  The long form is the shortest run of words before the
parenthesis that contains them, from at most min(|SF| + 5, 2 * |SF|) words.
The reverse layout, "OMB (Office of Management and Budget)", is taken too.
Every later use of the short form in the document then names the long form
(``govnlp.entities.canonical``).  Only long forms that read as names (most
words capitalized) are kept: "artificial intelligence (AI)" defines no entity.
"""

from __future__ import annotations

import re

_PAREN = re.compile(r"\(([^()]{1,120})\)")
_STOP = frozenset("a an and the of for to in on at by with from as de des du la le et".split())


def _is_short_form(text: str) -> bool:
    words = text.split()
    return (1 <= len(words) <= 2 and 2 <= len(text) <= 10 and text[0].isalnum()
            and any(ch.isalpha() for ch in text) and any(ch.isupper() for ch in text))


def _word_start(text: str, i: int) -> bool:
    """Whether a content word starts at ``i`` ("of" in "Office of Management" is no start for the O of OMB)."""
    if i > 0 and text[i - 1].isalnum():
        return False
    word = re.match(r"[\w'’-]+", text[i:])
    return word is not None and word.group(0).casefold() not in _STOP


def best_long_form(short: str, long: str) -> str | None:
    """The shortest end of ``long`` holding the short form's letters in order, the first at the start of a
    content word (Schwartz-Hearst; the stop-word refinement keeps "of" from standing for the O of OMB)."""
    s, i = len(short) - 1, len(long) - 1
    while s >= 0:
        c = short[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while i >= 0 and (long[i].lower() != c or (s == 0 and not _word_start(long, i))):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    start = long.rfind(" ", 0, i + 1) + 1
    return long[start:].strip()


def _reads_as_name(long: str) -> bool:
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", long)]
    content = [w for w in words if w.casefold() not in _STOP]
    return len(words) >= 2 and bool(content) and sum(w[0].isupper() for w in content) >= 0.75 * len(content)


def definitions(text: str) -> dict[str, str]:
    """Short form -> long form for the acronyms ``text`` defines (the first definition of each wins)."""
    found: dict[str, str] = {}
    for m in _PAREN.finditer(text):
        inside = m.group(1).strip()
        before = text[: m.start()].rstrip()
        before = re.split(r"[.;:!?]\s|\n", before)[-1]  # the long form lies in the same sentence
        if _is_short_form(inside):
            short = inside
            limit = min(len(short) + 5, 2 * len(short))
            words = before.split()[-limit:]
            long = best_long_form(short, " ".join(words)) if words else None
        else:
            words = before.split()
            short = words[-1].strip(",") if words else ""
            if not _is_short_form(short) or len(inside.split()) < 2:
                continue
            long = best_long_form(short, inside)
        if not long or len(long) <= len(short) or short in long.split() or not _reads_as_name(long):
            continue
        found.setdefault(short, long)
    return found
