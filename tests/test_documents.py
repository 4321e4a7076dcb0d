"""Documents from publishers the rules were never tuned on (issue 14): dates, titles, types, paragraphs.

Unit tests of the general pieces (date lines, title plausibility, the models'
files) run everywhere.  The wide corpus is not committed (fetched public
documents; benchmarks/corpus/MANIFEST.csv names each): the tests that read it
run where it is present (benchmarks/corpus/ or ../shared/corpora/wide/) and
say so when skipped.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from benchmarks import goldset, wide_corpus
from govnlp.ingest.dates import stated_date
from govnlp.ingest.text import parse_text

CORPUS = wide_corpus.corpus_root()
needs_corpus = pytest.mark.skipif(CORPUS is None, reason="the wide corpus is not here (benchmarks/corpus/README.md says how it is assembled)")


@pytest.mark.parametrize("lines, expected", [
    (["MAY 3, 2016 AT 3:01 PM ET BY ED FELTEN", "Preparing for the Future of AI"], (date(2016, 5, 3), "day", "byline")),
    (["OCTOBER 12, 2016 AT 6:02 AM ET BY MEGAN SMITH"], (date(2016, 10, 12), "day", "byline")),
    (["Guidance on AI procurement", "Issued on: May 10, 2018"], (date(2018, 5, 10), "day", "published")),
    (["A title", "Updated 21 May 2019"], (date(2019, 5, 21), "day", "updated")),
    (["A title", "Updated 21 May 2019", "Published 3 March 2019"], (date(2019, 3, 3), "day", "published")),  # publication beats update
    (["National AI Strategy", "JUNE 2019"], (date(2019, 6, 1), "month", "date_line")),
    (["AI Opportunities Action Plan", "January 2025"], (date(2025, 1, 1), "month", "date_line")),
    (["Design Lab Report: September 2024"], (date(2024, 9, 1), "month", "date_line")),
    (["WASHINGTON, May 3, 2024 —", "The agency said ..."], (date(2024, 5, 3), "day", "byline")),
])
def test_date_lines_of_many_publishers(lines, expected):
    found = stated_date(lines)
    assert (found.value, found.precision, found.kind) == expected


@pytest.mark.parametrize("lines", [
    ["© Crown copyright 2025", "A report"],
    ["Copyright 2019 Example Institute. All rights reserved."],
    ["In May 2025 the minister said the plan would start in June 2025 and report by 2027."],
    ["Vol. 84, No. 31", "Distr.: General"],
])
def test_a_copyright_year_or_a_date_inside_a_sentence_is_never_the_publication_date(lines):
    assert stated_date(lines) is None


def test_a_date_below_the_opening_lines_is_body_text():
    lines = ["Title"] + [f"Body line {i} of the report." for i in range(80)] + ["12 May 2025"]
    assert stated_date(lines) is None


def test_month_dates_are_stored_with_their_precision(tmp_path):
    from govnlp import ingest

    (tmp_path / "plan.txt").write_text("National Strategy for Artificial Intelligence\n\nJUNE 2019\n\n"
                                       + "The government will invest in research and skills over the next decade. " * 5 + "\n", encoding="utf-8")
    found = next(ingest.discover([tmp_path]))
    docs, _ = ingest.read_file(found, 1_000_000)
    assert (docs[0].published_on, docs[0].date_precision, docs[0].metadata["date_source"]) == (date(2019, 6, 1), "month", "text")


@pytest.mark.parametrize("text, ok", [
    ("Dear colleagues:", False), ("Vol. 84, No. 31", False), ("Distr.: General", False), ("PREFACE", False), ("Overview", False),
    ("By Ed Felten", False), ("Presented to Parliament by the Secretary of State", False), ("Microsoft Word - draft_v3.docx", False),
    ("12 May 2025", False), ("www.example.gov.uk", False),
    ("Preparing for the Future of Artificial Intelligence", True), ("AI Foundation Models: Initial Report", True),
])
def test_what_a_file_states_as_its_title_must_look_like_one(text, ok):
    from govnlp.ingest.title import plausible

    assert plausible(text) is ok


def test_the_trained_models_match_their_features():
    """The shipped coefficient files were trained on the features the code computes (else: rebuild them)."""
    from govnlp.ingest import segment, title

    for module in (segment, title):
        model = json.loads(module.MODEL_FILE.read_text(encoding="utf-8"))
        assert tuple(model["features"]) == module.FEATURES
        assert len(model["coef"]) == len(model["mean"]) == len(model["scale"]) == len(module.FEATURES)
        assert model["positives"] > 0 and model["examples"] > model["positives"]


def test_a_paragraph_runs_on_over_a_page_break_and_a_running_header():
    """Hard-wrapped text as pdftotext writes it: form feeds, a running header on every page, page numbers."""
    topics = ["procurement", "transparency", "testing", "data handling", "skills", "audit"]
    pages = []
    for n, topic in enumerate(topics, start=1):
        pages.append("\n".join([
            "Example Review of Public Sector AI", "",
            f"continued from page {n - 1}: the review of {topic} found that most bodies lacked a written policy on the",
            f"use of automated tools for {topic}, and recommends that each body publish one within a year.", "",
            f"Section {n} of the review considers how {topic} should be governed when public bodies buy and run artificial",
            f"intelligence systems, drawing on evidence from {n + 10} departments, agencies and local councils, and the",
            f"paragraph on {topic} runs on to the next page where it",
            "", str(n), ""]))
    layout = parse_text("\f".join(pages), wrapped=True, header=False)
    paras = layout.paragraphs
    assert not any(p.startswith("Example Review") for p in paras)
    assert not any(p.strip().isdigit() for p in paras)
    assert any("the paragraph on testing runs on to the next page where it continued from page 3: the review of data handling" in p
               for p in paras), paras


@needs_corpus
def test_every_corpus_file_has_a_manifest_row_and_gold_points_at_real_files():
    rows = wide_corpus.manifest(CORPUS)
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file() and p.name not in ("MANIFEST.csv", "README.md")}
    assert files == set(rows)
    assert all(r["licence"] and r["source"] and r["publisher"] for r in rows.values())
    parts = wide_corpus.parts(rows)
    for name in ("documents.jsonl", "segments.jsonl"):
        for r in goldset.load_jsonl(goldset.GOLD / name):
            assert r["doc"] in rows, r["doc"]
    assert len({r["publisher"] for f, r in rows.items() if parts[f] == "heldout"}) >= 5


@needs_corpus
def test_the_evaluation_runs_on_a_subset_of_both_parts(tmp_path):
    result = wide_corpus.evaluate(subset=True, baseline=None)
    table = result["pipeline"]["table"]
    assert {"dev/all", "heldout/all"} <= set(table)
    held = table["heldout/all"]
    assert held["segmented_documents"] > 0 and held["boundary_f1"] > 0.5 and held["date_accuracy"] > 0.5


@needs_corpus
def test_the_models_rebuild_bit_for_bit(tmp_path, monkeypatch):
    """`python -m govnlp.ingest.train` from the same gold and corpus writes the same bytes as the shipped files."""
    from govnlp.ingest import train

    shipped = {name: (train.MODELS / name).read_bytes() for name in ("title.json", "segment.json")}
    monkeypatch.setattr(train, "MODELS", tmp_path)
    assert train.main([]) == 0
    for name, data in shipped.items():
        assert (tmp_path / name).read_bytes() == data, name
