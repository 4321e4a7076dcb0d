"""A small fuzzing budget in CI (the full 10,000-case run is `python -m benchmarks.fuzz`)."""

from __future__ import annotations

from benchmarks.fuzz import fuzz


def test_generated_files_never_crash_ingest_and_each_ends_as_a_document_or_one_error_row(tmp_path):
    result = fuzz(cases=150, seed=13, workdir=tmp_path)
    assert result["cases"] >= 150  # Hypothesis may add its explicit examples; never fewer
    assert result["crashes"] == 0
    assert result["outcomes"].get("document", 0) > 0 and len(result["outcomes"]) >= 4  # stored and rejected cases both met
