"""Quoted spans from quote marks alone (no parser): curly, straight, and a stray ” used as an opener."""

from __future__ import annotations


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the text between paired marks; an unclosed quote runs to the paragraph end."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for i, ch in enumerate(text):
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if start is None and not spans and ch == "”" and not after.isalnum() and i > 20 and "“" not in text[:i]:
            spans.append((0, i))  # the paragraph starts inside a quote split off the previous one
            continue
        if start is None:
            opens = ch == "“" or (ch in "\"”" and not before.isalnum() and (after.isalnum() or after in "‘'["))
            if opens:
                start = i + 1
        elif ch in "”\"" or (ch == "“" and before.isalnum()):
            spans.append((start, i))
            start = None
        elif ch == "“":  # a new opener before a close: the previous quote was never closed
            spans.append((start, i))
            start = i + 1
    if start is not None and start < len(text):  # never closed: up to an excerpt's "…" or the end
        cut = text.find("…", start)
        spans.append((start, cut if cut > start else len(text)))
    return [(s, e) for s, e in spans if e > s]
