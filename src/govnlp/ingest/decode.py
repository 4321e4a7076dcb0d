"""Bytes to text: UTF-8 first, then charset-normalizer's best guess."""

from __future__ import annotations

import re
import unicodedata

from charset_normalizer import from_bytes

# Zero-width and bidi controls carry no meaning for analysis and break matching.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\x00]")


class UndecodableError(ValueError):
    pass


def decode_bytes(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None:
            raise UndecodableError("not text in any encoding charset-normalizer knows") from None
        text = str(best)
    return clean_text(text)


def clean_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    return _INVISIBLE.sub("", text)
