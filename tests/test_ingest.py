"""Ingest: formats, metadata, cleaning, and rejections with reasons."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from govnlp.ingest import discover, read_file
from govnlp.ingest.metadata import parse_date
from govnlp.ingest.text import join_wrapped, parse_text
from govnlp.records import SourceFile

POLICY = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "policy"


def _source(path: Path) -> SourceFile:
    data = path.read_bytes()
    return SourceFile(str(path), path.absolute().as_uri(), hashlib.sha256(data).hexdigest(), len(data), path.stat().st_mtime)


def _read(tmp_path, name, content) -> tuple:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return read_file(_source(path), 10_000_000)


@pytest.mark.parametrize("line, expected", [
    (" date 2025-05-07 Some title", date(2025, 5, 7)),
    ("2026-06-01 11:20", date(2026, 6, 1)),
    ("Tsinghua University, May 12, 2025", date(2025, 5, 12)),
    ("13:21, May 07, 2025", date(2025, 5, 7)),
    ("Xinhua) 13:21, May 07, 2025", date(2025, 5, 7)),
])
def test_date_lines_in_every_seed_format(line, expected):
    layout = parse_text(f"A Title Line\n{line}\n\n" + "Body sentence goes here with enough words to count as running text. " * 3)
    assert parse_date(layout.date_text) == expected


def test_parse_date_formats():
    assert parse_date("May 12, 2025") == date(2025, 5, 12)
    assert parse_date("12 May 2025") == date(2025, 5, 12)
    assert parse_date("2024-10-29 23:59:00-04:00") == date(2024, 10, 29)
    assert parse_date("not a date") is None
    assert parse_date("May 2025") is None  # a month is not a day


def test_hard_wrapped_text_is_rejoined_and_dehyphenated():
    lines = [
        "Artificial intelligence systems are increasingly used across the economy and",
        "in public services, which raises questions about their gover-",
        "nance and the allocation of responsibility.",
        "A second paragraph starts here.",
        "• First bullet point",
    ]
    assert join_wrapped(lines) == [
        "Artificial intelligence systems are increasingly used across the economy and in public services, "
        "which raises questions about their governance and the allocation of responsibility.",
        "A second paragraph starts here.",
        "• First bullet point",
    ]


def test_markdown_front_matter_is_the_metadata(tmp_path):
    md = """---
date: '2024-10-29'
source_url: https://bidenwhitehouse.archives.gov/briefing-room/statements-releases/2024/10/29/example/
tags: statements-releases
title: "Statement on an Example"
---

The President today announced a new initiative on artificial intelligence
safety that will bring together agencies across the federal government.

A second paragraph, wrapped
over two lines.
"""
    docs, errors = _read(tmp_path, "x.md", md)
    assert errors == []
    d = docs[0]
    assert (d.title, d.published_on, d.publisher, d.doc_type) == ("Statement on an Example", date(2024, 10, 29), "The White House", "statement")
    assert [p.text for p in d.paragraphs][1] == "A second paragraph, wrapped over two lines."


def test_yaml_python_tags_are_rejected_not_executed(tmp_path):
    docs, errors = _read(tmp_path, "evil.md", "---\ntitle: !!python/object/apply:os.system ['echo pwned']\n---\nBody text.\n")
    assert docs == [] and errors[0].error_type == "bad_front_matter"


def test_html_main_text_with_trafilatura(tmp_path):
    body = "".join(f"<p>Paragraph {i} about international cooperation on artificial intelligence governance and capacity building for all countries.</p>" for i in range(4))
    html = f"""<html><head><title>AI cooperation statement</title><meta property="og:title" content="AI cooperation statement">
    <meta name="date" content="2025-03-04"></head><body><nav><ul><li>Home</li><li>About</li><li>Contact</li></ul></nav>
    <article><h1>AI cooperation statement</h1>{body}</article><footer>Copyright 2025 Example Ministry</footer></body></html>"""
    docs, errors = _read(tmp_path, "page.html", html)
    assert errors == []
    d = docs[0]
    assert d.title == "AI cooperation statement" and d.published_on == date(2025, 3, 4)
    texts = [p.text for p in d.paragraphs]
    assert len([t for t in texts if t.startswith("Paragraph")]) == 4
    assert not any(t in {"Home", "About", "Contact"} or "Copyright" in t for t in texts)


def test_json_and_jsonl_records(tmp_path):
    record = {"title": "A statement", "date": "2025-01-02", "text": "First paragraph of the statement.\n\nSecond paragraph here."}
    docs, errors = _read(tmp_path, "one.json", json.dumps(record))
    assert errors == [] and docs[0].title == "A statement" and len(docs[0].paragraphs) == 2
    lines = "\n".join([json.dumps(record), "{not json", json.dumps({"title": "no text"}), json.dumps({**record, "title": "Another"})])
    docs, errors = _read(tmp_path, "many.jsonl", lines)
    assert [d.title for d in docs] == ["A statement", "Another"]
    assert sorted(e.error_type for e in errors) == ["bad_json", "bad_record"]
    assert docs[0].doc_id != docs[1].doc_id


@pytest.mark.parametrize("name, content, error_type", [
    ("empty.txt", b"", "empty_file"),
    ("bad.pdf", b"%PDF-1.4 garbage", "bad_pdf"),
    ("bad.json", b"{", "bad_json"),
    ("blank.txt", b"\n\n   \n", "no_text"),
])
def test_bad_files_become_errors_with_reasons(tmp_path, name, content, error_type):
    docs, errors = _read(tmp_path, name, content)
    assert docs == [] and [e.error_type for e in errors] == [error_type]


def test_invalid_utf8_is_decoded_not_rejected(tmp_path):
    text = "Déclaration sur l'intelligence artificielle et la coopération internationale entre les pays.\n"
    docs, errors = _read(tmp_path, "latin1.txt", text.encode("latin-1") * 3)
    assert errors == [] and "coopération" in docs[0].paragraphs[0].text


def test_discover_skips_seen_files_and_reports_unsupported(tmp_path):
    (tmp_path / "a.txt").write_text("Some text.")
    (tmp_path / "b.docx").write_bytes(b"PK")
    (tmp_path / ".hidden.txt").write_text("x")
    found = list(discover([tmp_path]))
    kinds = sorted(type(f).__name__ for f in found)
    assert kinds == ["IngestError", "SourceFile"]
    seen = {(f.source_uri, f.file_hash) for f in found if isinstance(f, SourceFile)} | {(f.source_uri, "") for f in found if not isinstance(f, SourceFile)}
    assert list(discover([tmp_path], seen)) == []
    # unchanged size and mtime: not even re-read; a changed file is found again
    a = next(f for f in found if isinstance(f, SourceFile))
    stats = {a.source_uri: [(a.size_bytes, a.modified_at)]}
    assert [type(f).__name__ for f in discover([tmp_path], {(f.source_uri, "") for f in found if not isinstance(f, SourceFile)}, stats)] == []
    (tmp_path / "a.txt").write_text("Some other text, longer.")
    assert [f.file_hash != a.file_hash for f in discover([tmp_path], seen, stats)] == [True]


def test_symlink_outside_the_source_is_refused(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.txt").symlink_to(outside)
    [found] = list(discover([root]))
    assert found.error_type == "outside_source"


@pytest.mark.skipif(not POLICY.exists(), reason="../shared/corpora is not beside the checkout")
def test_policy_pdf_paragraphs_are_rejoined():
    path = next(POLICY.glob("Artificial_Intelligence_Risk_Management_Framework*.pdf"))
    docs, errors = read_file(_source(path), 100_000_000)
    assert errors == []
    d = docs[0]
    assert d.doc_type == "report" and d.language == "en"
    words = [p.word_count for p in d.paragraphs]
    assert len(words) > 100
    # hard-wrapped lines are joined: most text sits in paragraphs of 25+ words
    assert sum(w for w in words if w >= 25) / sum(words) > 0.6



def test_pdf_page_furniture_and_unmarked_paragraph_breaks(monkeypatch):
    """The hand rule (segment.rule_break: the fallback without a trained model, and one of the model's
    features) on justified PDF text: running header, page numbers and contents go; a paragraph runs on
    across a page break and past a line that starts with a dash; a sentence end followed by a word that
    would have fitted on its line ends a paragraph, and so does a numbered or run-in heading.
    The learned model is measured on real gold instead (tests/test_quality.py, benchmarks/wide_corpus.py)."""
    from govnlp.ingest import segment

    monkeypatch.setattr(segment, "model", lambda: None)
    full = "text that fills the whole line of this justified page with words and more words and"  # 84 chars
    text = "\n".join([
        "ACME 100-1 Framework 1.0", "Contents",
        "Introduction to the framework and its intended audience 1", "Framing risk and its measurement in practice 2",
        "Managing risks over the whole lifecycle of a system 4",
        "Page i",
        "ACME 100-1 Framework 1.0", "Introduction",
        f"The first paragraph starts {full}", f"runs on {full}", "ends here, well before the margin.",
        f"A second paragraph {full}",
        "Page 1",
        "ACME 100-1 Framework 1.0",
        f"continues after the page break {full}", f"– with a dash – and {full}",
        "ends on a line a little shorter than the others, though it is not a short line at all.",  # "The" fits
        f"The third paragraph {full}", "is short.",
        "2.1 Measurement",
        "Inscrutability: A run-in heading opens this paragraph,",
        f"which is wrapped {full}", "short.",
        "Page 2",
    ])
    paras = parse_text(text, wrapped=True, header=False).paragraphs
    assert [p.split()[0] for p in paras] == ["Introduction", "The", "A", "The", "2.1", "Inscrutability:"]
    assert f"{full} continues after the page break {full} – with a dash –" in paras[2]
    assert not any("ACME" in p or "Page" in p for p in paras)
