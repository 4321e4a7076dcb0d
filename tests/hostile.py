"""A deterministic *hostile corpus* for ingest robustness tests.

A real source folder holds whatever people drop in it: empty and truncated
files, decompression bombs, the wrong format behind a familiar suffix, broken
encodings, links leading out of the folder, a FIFO that blocks any reader
forever, names no shell quotes well.  ``make_hostile_corpus`` fills a folder
with such files (the same bytes for the same seed), so that tests can check
that ingest never crashes, hangs, blows up memory, runs YAML tags or reads
outside its source root, and that what it cannot read comes back as a
rejection.

    python tests/hostile.py DIR OUTSIDE     # write the corpus, print counts by kind
"""

from __future__ import annotations

import base64
import io
import os
import random
import struct
import sys
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HOSTILE_MARKER = "OUTSIDE-SECRET-7f3a"
PWNED_MARKER = "/tmp/HOSTILE_PWNED"  # a YAML python tag would create it
EXPECTS = ("error", "ingest", "either", "skip")
MB = 1 << 20


@dataclass(frozen=True)
class HostileFile:
    name: str  # relative to root; undecodable bytes in os.fsdecode form
    kind: str
    expect: str  # error | ingest | either | skip (not a regular file: list as error or ignore)


# ---------------------------------------------------------------- plain text

_SUBJECTS = ["The department", "The minister", "The regional council", "This consultation", "The audit office",
             "Local authorities", "The select committee", "The agency", "The government", "Each applicant"]
_VERBS = ["will publish", "has reviewed", "must report on", "proposes to reform", "continues to fund",
          "has delayed", "will consult on", "recommends changes to", "is responsible for", "has not yet assessed"]
_OBJECTS = ["the annual budget", "regional transport funding", "the housing strategy", "water quality standards",
            "the school meals programme", "public procurement rules", "flood defences", "the digital identity scheme",
            "hospital waiting lists", "the energy price cap"]
_TAILS = ["by the end of March", "in the next financial year", "after the public consultation", "following the audit",
          "for the third year running", "as set out in the white paper", "under the new framework", ""]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS), rng.choice(_TAILS)]
    return " ".join(w for w in words if w) + "."


def _paragraph(rng: random.Random, sentences: int = 4) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def _english(rng: random.Random, paragraphs: int = 3) -> str:
    return "\n\n".join(_paragraph(rng, rng.randint(2, 6)) for _ in range(paragraphs)) + "\n"


def _script_text(rng: random.Random, lo: int, hi: int, words: int = 200) -> str:
    """Words of random code points from [lo, hi], ten to a line."""
    out = [" ".join("".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 6))) for _ in range(10))
           for _ in range(words // 10)]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- PDF and compression

def _pdf(content: bytes, filters: bytes = b"") -> bytes:
    """A minimal valid one-page PDF (Helvetica as /F1) around one content stream."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d%s >>\nstream\n" % (len(content), filters) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _text_pdf(lines: list[str]) -> bytes:
    ops = [b"BT /F1 12 Tf 72 720 Td 14 TL"] + [b"(%s) '" % line.encode("latin-1") for line in lines] + [b"ET"]
    return _pdf(b"\n".join(ops))


def _deflate_spaces(mb: int) -> tuple[bytes, int, int]:
    """Raw deflate of ``mb`` MiB of spaces, its CRC-32 and Adler-32, never holding the input.

    Each MiB is a full-flushed segment, so after the first two match the rest are copies.
    """
    chunk = b" " * MB
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    segments: list[bytes] = []
    crc, adler = 0, 1
    for _ in range(mb):
        if len(segments) >= 2 and segments[-1] == segments[-2]:
            segments.append(segments[-1])
        else:
            segments.append(comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH))
        crc, adler = zlib.crc32(chunk, crc), zlib.adler32(chunk, adler)
    segments.append(comp.flush())
    return b"".join(segments), crc, adler


def _zip(members: list[tuple[bytes, int, bytes, int, int]]) -> bytes:
    """A zip from (name, method, compressed data, crc, uncompressed size) members (1980-01-01, no zip64)."""
    out, central = bytearray(), bytearray()
    for name, method, data, crc, size in members:
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size, len(name), 0)
        out += name + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data), size,
                               len(name), 0, 0, 0, 0, 0, offset) + name
    count = len(members)
    return bytes(out + central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), len(out), 0))


# ---------------------------------------------------------------- the corpus

class _Corpus:
    def __init__(self, root: Path):
        self.root = os.fsencode(root)
        self.files: list[HostileFile] = []

    def path(self, name: str | bytes) -> bytes:
        return os.path.join(self.root, os.fsencode(name))

    def add(self, name: str | bytes, kind: str, expect: str, data: bytes | str | list | None = None) -> bytes:
        """Record ``name``; write ``data`` (bytes, UTF-8 str, or an iterable of byte chunks) if given."""
        assert expect in EXPECTS, expect
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if data is not None:
            with open(path, "wb") as f:
                if isinstance(data, (bytes, str)):
                    f.write(data.encode("utf-8") if isinstance(data, str) else data)
                else:
                    for chunk in data:
                        f.write(chunk)
        self.files.append(HostileFile(os.fsdecode(name), kind, expect))
        return path

    def link(self, name: str, target: str | Path, kind: str) -> None:
        os.makedirs(os.path.dirname(self.path(name)), exist_ok=True)
        os.symlink(os.fsencode(target), self.path(name))
        self.add(name, kind, "skip")


def _pdf_cases(c: _Corpus, rng: random.Random, bomb: tuple[bytes, int, int]) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject

    hello = _text_pdf(["Hello"] + [_sentence(rng) for _ in range(20)])
    c.add("truncated.pdf", "pdf-truncated", "either", hello[: len(hello) // 2])
    c.add("actually-pdf.txt", "txt-is-pdf", "either", hello)
    c.add("actually-html.pdf", "pdf-is-html", "error", f"<html><body><p>{_paragraph(rng)}</p></body></html>")

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(hello)))
    file_id = ByteStringObject(rng.randbytes(16))
    writer._ID = ArrayObject((file_id, file_id))  # pypdf draws a random ID otherwise
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    writer._ID = ArrayObject((file_id, file_id))
    buf = io.BytesIO()
    writer.write(buf)
    c.add("encrypted.pdf", "pdf-encrypted", "error", buf.getvalue())

    writer = PdfWriter()
    for _ in range(5000):
        writer.add_blank_page(612, 792)
    buf = io.BytesIO()
    writer.write(buf)
    c.add("blank-5000-pages.pdf", "pdf-5000-blank-pages", "error", buf.getvalue())

    raw, _, adler = bomb  # a zlib stream: header, raw deflate, Adler-32
    c.add("flate-bomb.pdf", "pdf-flate-bomb", "error", _pdf(b"\x78\xda" + raw + adler.to_bytes(4, "big"), b" /Filter /FlateDecode"))


def _bomb_cases(c: _Corpus, bomb: tuple[bytes, int, int], bomb_mb: int) -> None:
    raw, crc, _ = bomb
    size = bomb_mb * MB
    gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + raw + struct.pack("<II", crc, size & 0xFFFFFFFF)
    c.add("bomb.gz", "gzip-bomb", "error", gz)
    c.add("gzip-bomb.html", "gzip-bomb", "either", gz)
    c.add("gzip-bomb.txt", "gzip-bomb", "either", gz)
    inner = _zip([(b"spaces.txt", 8, raw, crc, size)])
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = packer.compress(inner) + packer.flush()
    nested = [(b"inner-%d.zip" % i, 8, packed, zlib.crc32(inner), len(inner)) for i in range(4)]
    c.add("bomb.zip", "zip-bomb", "error", _zip([(b"spaces.txt", 8, raw, crc, size)] + nested))


def _text_cases(c: _Corpus, rng: random.Random, big_mb: int) -> None:
    for ext in (".txt", ".html", ".pdf", ".json", ".md"):
        c.add("empty" + ext, "empty", "error", b"")
    for ext, expect in ((".txt", "either"), (".html", "either"), (".pdf", "error")):
        c.add("binary" + ext, "binary-random", expect, rng.randbytes(64 * 1024))

    text = _english(rng, 4).encode()
    c.add("invalid-utf8.txt", "invalid-utf8", "either", text[:200] + b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x90\x28" + text[200:])
    c.add("utf16le-no-bom.txt", "utf16le-no-bom", "either", _english(rng, 4).encode("utf-16-le"))
    mixed = [_sentence(rng) + " Caf\u00e9 na\u00efve" for _ in range(9)]
    c.add("mixed-encodings.txt", "mixed-encodings", "either", b"\n".join(
        line.encode(("latin-1", "utf-8", "cp1252")[i % 3]) + ("\u2019\u20ac".encode("cp1252") if i % 3 == 2 else b"")
        for i, line in enumerate(mixed)))
    c.add("nul-bytes.txt", "nul-bytes", "ingest", _english(rng, 3).replace(" the ", " the\x00 ").encode() + b"\x00" * 100)

    blocks = [_english(rng, 400).encode() for _ in range(4)]
    target, order = big_mb * MB, random.Random(rng.getrandbits(64))  # so big_mb leaves the rest alone

    def big_chunks():
        written = 0
        while written < target:
            block = order.choice(blocks)[: target - written]
            written += len(block)
            yield block

    c.add(f"big-{big_mb}mb.txt", "big-text", "either", big_chunks())
    c.add("one-line-base64.txt", "long-line-base64", "either", base64.b64encode(rng.randbytes(5 * MB * 3 // 4)))
    words = (_paragraph(rng, 50) + " ").encode()
    c.add("one-line-words.txt", "long-line-words", "either", (words * (5 * MB // len(words) + 1))[: 5 * MB])
    c.add("many-tiny-paragraphs.txt", "many-tiny-paragraphs", "either", "a\n" * 50_000)
    c.add("long-word.txt", "long-word-1mb", "either",
          f"{_paragraph(rng)} {'x' * MB} {_paragraph(rng)}\n\n{_paragraph(rng)}\n")
    c.add("zero-width-bidi.txt", "zero-width-bidi", "ingest", "".join(
        ch + rng.choice("\u200b\u200d\ufeff\u202e\u2066") if ch == " " or rng.random() < 0.05 else ch
        for ch in _english(rng, 3)))
    scripts = {"linear-b": (0x10000, 0x1005D), "cuneiform": (0x12000, 0x12399), "tibetan": (0x0F40, 0x0F6C),
               "emoji": (0x1F600, 0x1F64F), "klingon-pua": (0xF8D0, 0xF8E9)}
    for script, (lo, hi) in scripts.items():
        for ext in (".txt", ".md"):
            c.add(script + ext, "unseen-script", "either", _script_text(rng, lo, hi))


def _structured_cases(c: _Corpus, rng: random.Random) -> None:
    body = _english(rng, 2)
    c.add("nested-10000.html", "html-deep-nesting", "either", "<html><body>" + "<div>" * 10_000 + body + "</div>" * 10_000 + "</body></html>")
    c.add("script-style-only.html", "html-script-style-only", "error",
          "<html><head><style>body{color:red}</style></head><body><script>var x = '" + body.strip() + "';</script></body></html>")
    c.add("100k-paragraphs.html", "html-100k-p", "either", "<html><body>" + "<p>x</p>" * 100_000 + "</body></html>")
    entities = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">' for i in range(1, 10)]
    c.add("entity-bomb.html", "html-entity-bomb", "either",
          '<?xml version="1.0"?>\n<!DOCTYPE html [\n ' + "\n ".join(entities) + "\n]>\n<html><body><p>&lol9;</p><p>" + body + "</p></body></html>")

    bad_json = {"truncated": '{"title": "Budget", "text": "The department will', "trailing-comma": '{"title": "Budget", "text": "x",}',
                "bare-number": "12345", "int-list": "[1, 2, 3]", "text-int": '{"title": "Budget", "text": 12345}'}
    for name, doc in bad_json.items():
        c.add(f"bad-{name}.json", "json-malformed", "error", doc)
    c.add("bad.jsonl", "jsonl-malformed", "error", "\n".join(bad_json.values()) + "\n[1, 2,\n")
    c.add("mixed.jsonl", "jsonl-mixed", "ingest", "\n".join(list(bad_json.values()) + ['{"title": "Fine", "text": "%s"}' % _paragraph(rng)]))

    c.add("yaml-python-tags.md", "yaml-python-tag", "either",
          f'---\ntitle: Tags\nrun: !!python/object/apply:os.system ["touch {PWNED_MARKER}"]\nobj: !!python/object:__main__.X {{}}\n---\n\n{body}')
    laughs = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    laughs += [f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi")]
    c.add("yaml-billion-laughs.md", "yaml-billion-laughs", "either", "---\ntitle: Laughs\n" + "\n".join(laughs) + f"\n---\n\n{body}")


def _filesystem_cases(c: _Corpus, rng: random.Random, secret: Path, outside: Path) -> None:
    c.link("link-to-secret.txt", secret, "symlink-outside")
    c.link("link-relative-secret.md", os.path.relpath(secret, os.fsdecode(c.root)), "symlink-outside")
    c.link("link-to-outside-dir", outside, "symlink-outside-dir")
    c.link("loop-a.txt", "loop-b.txt", "symlink-loop")
    c.link("loop-b.txt", "loop-a.txt", "symlink-loop")
    c.add("loop-dir/inside.txt", "normal", "ingest", _english(rng))
    c.link("loop-dir/up", "..", "symlink-parent-dir")
    c.link("self", ".", "symlink-parent-dir")

    os.chmod(c.add("unreadable.txt", "unreadable", "either", _english(rng)), 0)
    os.mkfifo(c.path("pipe.txt"))
    c.add("pipe.txt", "fifo", "skip")
    os.mkdir(c.path("folder.txt"))
    c.add("folder.txt", "dir-named-txt", "skip")
    c.add("folder.txt/inside.txt", "normal", "ingest", _english(rng))

    c.add("new\nline.txt", "name-newline", "ingest", _english(rng))
    c.add(b"bad\xff\xfename.txt", "name-non-utf8", "either", _english(rng))
    c.add("x'; DROP TABLE documents; --.txt", "name-sql-quote", "ingest", _english(rng))
    c.add('say "hi" `id` $(id).txt', "name-sql-quote", "ingest", _english(rng))
    c.add("-rf.txt", "name-leading-dash", "ingest", _english(rng))
    c.add("L" * 246 + ".txt", "name-250-bytes", "ingest", _english(rng))
    c.add("\u00e9" * 123 + ".txt", "name-250-bytes", "ingest", _english(rng))


# Fillers: small random variants of the categories above.
_ODD_CHARS = " '\"`$;&|()[]{}!#%\u00e9\u00df\u4e2d\u05d0\u202e\u200b\U0001f600\t"


def _filler(rng: random.Random, i: int) -> tuple[str, str, str, bytes]:
    """(name, kind, expect, data) for filler number ``i``."""
    pick = rng.randrange(10)
    text = _english(rng, rng.randint(1, 4))
    if pick == 0:
        ext = rng.choice([".txt", ".html", ".pdf", ".json", ".md", ".jsonl"])
        return f"{i:04d}-empty{ext}", "filler-empty", "error", b""
    if pick == 1:
        ext = rng.choice([".txt", ".html", ".pdf", ".json", ".md"])
        return f"{i:04d}-binary{ext}", "filler-binary", "error" if ext in (".pdf", ".json") else "either", rng.randbytes(rng.randint(1, 8192))
    if pick == 2:
        noise = rng.choice(["\u200b", "\u202e", "\ufeff", "\x00", "\u2066", "\t", "\u00a0"])
        noisy = "".join(ch + noise if rng.random() < 0.1 else ch for ch in text)
        return f"{i:04d}-noisy{rng.choice(['.txt', '.md'])}", "filler-noisy-text", "ingest", noisy.encode()
    if pick == 3:
        cut = text.replace('"', "")[: rng.randint(0, 200)]
        doc = rng.choice(['{"text": "%s"', '{"text": "%s",}', '[{"text": 1}, "%s"]', '"%s"', "{'text': '%s'}", "%s"]) % cut
        return f"{i:04d}-badjson{rng.choice(['.json', '.jsonl'])}", "filler-bad-json", "error", doc.encode()
    if pick == 4:
        tags = [rng.choice(["div", "span", "section", "article", "b", "i", "table", "td"]) for _ in range(rng.randint(1, 300))]
        html = "<html><body>" + "".join(f"<{t}>" for t in tags) + f"<p>{text}</p>" + "".join(f"</{t}>" for t in reversed(tags))
        return f"{i:04d}-nested.html", "filler-nested-html", "either", html[: rng.choice([len(html), rng.randint(1, len(html))])].encode()
    if pick == 5:
        meta, expect = rng.choice([("title: Report\ndate: 2024-03-01", "ingest"), ("title: [unclosed", "either"),
                                   ("- just\n- a list", "either"), ("x: !!python/name:os.system", "either"), ("a: &a [1]\nb: [*a, *a]", "ingest")])
        closing = "---\n" if rng.random() < 0.9 else ""
        return f"{i:04d}-frontmatter.md", "filler-front-matter", expect if closing else "either", f"---\n{meta}\n{closing}\n{text}".encode()
    if pick == 6:
        pdf = _text_pdf([_sentence(rng) for _ in range(5)])
        return f"{i:04d}-cut.pdf", "filler-truncated-pdf", "either", pdf[: rng.randint(0, len(pdf))]
    if pick == 7:
        enc = rng.choice(["utf-16-le", "utf-16-be", "utf-16", "utf-32", "cp1252", "latin-1"])
        return f"{i:04d}-{enc}.txt", "filler-encoding", "either", text.encode(enc, errors="replace")
    if pick == 8:
        odd = "".join(rng.choice(_ODD_CHARS) for _ in range(rng.randint(1, 12)))
        return f"{i:04d} {odd}{rng.choice(['.txt', '.md'])}", "filler-odd-name", "ingest", text.encode()
    lo, hi = rng.choice([(0x10000, 0x1005D), (0x12000, 0x12399), (0x0F40, 0x0F6C), (0x1F600, 0x1F64F), (0xF8D0, 0xF8E9)])
    return f"{i:04d}-script{rng.choice(['.txt', '.md'])}", "filler-unseen-script", "either", _script_text(rng, lo, hi, 30).encode()


def _surrogate_pdf(text: str) -> bytes:
    """A PDF whose font maps 'A' and 'B' to the UTF-16 halves D800 and DC00: pypdf extracts lone surrogates."""
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def 1 begincodespacerange <00> <FF> "
            b"endcodespacerange\n2 beginbfchar <41> <D800> <42> <DC00> endbfchar endcmap CMapName currentdict /CMap defineresource pop end end")
    pdf = _pdf(b"BT /F1 12 Tf 72 720 Td 14 TL (%s) ' (B then A alone) ' ET" % text.encode("latin-1"))
    # the font object gets a ToUnicode map, appended as object 6 (the xref is rebuilt by pypdf's lenient reader)
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    return pdf.replace(font, font[:-3] + b" /ToUnicode 6 0 R >>").replace(
        b"xref", b"6 0 obj\n<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream\nendobj\nxref", 1)


def _poison_cases(c: _Corpus, rng: random.Random) -> None:
    """Text Python can hold but UTF-8 cannot (lone surrogates), and names that are not UTF-8 (issue 13).

    Each one once stopped a whole run: pyarrow refused the batch.  Now each is
    stored with U+FFFD in place of the bad character (or rejected alone).
    """
    body = _paragraph(rng)
    # JSON's \\ud800 escapes are valid JSON and decode to a lone surrogate.
    c.add("poison/surrogate-title.json", "json-lone-surrogate", "ingest", '{"title": "s\\ud800x", "text": "%s"}' % body)
    c.add("poison/surrogate-text.json", "json-lone-surrogate-text", "ingest", '{"title": "Budget", "text": "%s \\udc00 end."}' % body)
    c.add("poison/surrogate-keys.json", "json-lone-surrogate-key", "ingest", '{"title": "Budget", "\\ud83d": "x", "tags": ["\\udfff"], "text": "%s"}' % body)
    c.add("poison/surrogate.jsonl", "jsonl-lone-surrogate", "ingest",
          '{"title": "One \\ud800", "text": "%s"}\n{"title": "Two", "text": "%s \\udbff"}\n' % (body, _paragraph(rng)))
    c.add("poison/surrogate-front-matter.md", "md-front-matter-surrogate", "either", '---\ntitle: "Budget \\ud800 plan"\nsource: "x\\udc80"\n---\n\n%s\n' % body)
    # A surrogate written as UTF-8 bytes (CESU-8 / WTF-8): invalid UTF-8, decoded by the fallback.
    c.add("poison/wtf8.txt", "txt-encoded-surrogate", "either", body.encode() + b" \xed\xa0\x80 " + _paragraph(rng).encode())
    c.add("poison/wtf8.html", "html-encoded-surrogate", "either",
          b"<html><head><title>Budget \xed\xa0\x80</title></head><body><article><p>" + body.encode() + b"</p><p>" + _paragraph(rng).encode() + b"</p></article></body></html>")
    c.add("poison/surrogate-entity.html", "html-surrogate-entity", "either",
          "<html><head><title>Budget &#xD800; plan</title></head><body><article><p>%s &#xDC00;</p><p>%s</p></article></body></html>" % (body, _paragraph(rng)))
    c.add("poison/surrogate-tounicode.pdf", "pdf-tounicode-surrogate", "ingest", _surrogate_pdf(body))
    c.add("poison/nul-bidi.json", "json-nul-bidi", "ingest", '{"title": "A\\u0000B\\u202e", "text": "%s \\u0000 \\u2066x\\u2069"}' % body)
    c.add(b"poison/name-\xff\xfe-latin1-\xe9.txt", "name-not-utf8", "ingest", body)
    c.add(b"poison/\xed\xa0\x80-surrogate-bytes.md", "name-encoded-surrogate", "ingest", "# Budget\n\n" + body)
    c.add("poison/" + "\u202e" + "fdp.txt", "name-bidi-override", "ingest", body)


def make_hostile_corpus(root: Path, outside: Path, seed: int = 0, fillers: int = 1000, big_mb: int = 200,
                        bomb_mb: int = 1024) -> list[HostileFile]:
    """Fill the empty (or missing) folder ``root`` with hostile files; put a secret in ``outside``.

    ``bomb_mb`` is how far the gzip, zip and FlateDecode bombs inflate (each a file of about 1/1000 that).
    """
    root, outside = Path(root).absolute(), Path(outside).absolute()
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.txt"
    secret.write_text(f"{HOSTILE_MARKER}\nThis file lies outside the source root and must never be read.\n{HOSTILE_MARKER}\n")

    def rng(part: str) -> random.Random:  # one stream per part: big_mb or fillers change nothing else
        return random.Random(f"{seed}:{part}")

    c = _Corpus(root)
    bomb = _deflate_spaces(bomb_mb)
    _text_cases(c, rng("text"), big_mb)
    _structured_cases(c, rng("structured"))
    _pdf_cases(c, rng("pdf"), bomb)
    _bomb_cases(c, bomb, bomb_mb)
    _filesystem_cases(c, rng("filesystem"), secret, outside)
    _poison_cases(c, rng("poison"))
    fill = rng("fillers")
    for i in range(fillers):
        name, kind, expect, data = _filler(fill, i)
        c.add("fillers/" + name, kind, expect, data)
    return c.files


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python tests/hostile.py DIR OUTSIDE", file=sys.stderr)
        return 2
    files = make_hostile_corpus(Path(args[0]), Path(args[1]))
    for kind, count in sorted(Counter(f.kind for f in files).items()):
        print(f"{count:6d}  {kind}")
    print(f"{len(files):6d}  total; by expectation: {dict(Counter(f.expect for f in files))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
