"""The quality evaluation runs (on a subset: the seeds and a few pairs) so it cannot silently break."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks import metrics
from benchmarks.goldset import GOLD, REPO, SHARED, load_jsonl


def test_boundary_f1_ignores_list_markers_and_stray_spaces():
    score, missing = metrics.boundary_prf(["Risk management should be", "• Map the context"],
                                          ["Risk manage ment should be continuous.", "Map the context of use.", "A stray line"])
    assert (score.tp, score.fp, score.fn, missing) == (2, 1, 0, 0)
    partial, _ = metrics.boundary_prf(["First one", "Second one"], ["First one.", "Second one.", "Third, past the gold range."], covered_to_end=False)
    assert (partial.tp, partial.fp) == (2, 0)


def test_titles_compare_blind_to_invisible_characters_but_not_to_words():
    assert metrics.same_title("Biden-\u2060Harris Plan\u00a0Announced", "Biden-Harris Plan Announced")
    assert not metrics.same_title("Biden-Harris Plan Announced", "Biden-Harris Plan")


def test_gold_files_are_well_formed():
    """Offsets point at the labelled text, types and themes come from the fixed lists."""
    import tomllib

    from govnlp.records import ENTITY_LABELS
    from govnlp.settings import PACKAGE_DIR

    themes = {t["id"] for t in tomllib.loads((PACKAGE_DIR / "themes" / "taxonomy.toml").read_text())["theme"]}
    rows = [r for p in sorted(GOLD.glob("annotations-*.jsonl")) for r in load_jsonl(p)]
    assert len(rows) >= 150 and len({r["doc"] for r in rows}) >= 25
    for r in rows:
        assert set(r["themes"]) <= themes and len(r["themes"]) <= 3
        for e in r["entities"]:
            assert r["paragraph"][e["start"]:e["end"]] == e["text"] and e["type"] in ENTITY_LABELS
    pairs = load_jsonl(GOLD / "duplicates.jsonl")
    assert len(pairs) >= 200 and {"refiled", "republished", "hard_negative"} <= {p["kind"] for p in pairs}
    assert len([m for m in load_jsonl(GOLD / "metadata.jsonl") if "#" in m["doc"]]) >= 40


@pytest.mark.skipif(not (SHARED / "corpora").exists(), reason="needs ../shared/corpora")
def test_the_evaluation_command_runs_every_stage_on_the_subset(tmp_path):
    out = tmp_path / "quality.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks.quality", "--subset", "--output", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert {c["stage"] for c in result["checks"]} == {"entities", "themes", "metadata", "paragraphs", "duplicates"}
    assert "| entities | canonical f1 |" in done.stdout
    ents = result["annotations"]["entities"]
    assert result["annotations"]["unmatched_paragraphs"] == 0
    assert ents["canonical"]["f1"] > ents["stock_spacy_canonical"]["f1"]  # the rules and aliases must beat stock spaCy
    assert result["paragraphs"]["seeds"]["f1"] >= 0.95
    assert result["metadata"]["title_accuracy"] >= 0.9 and result["metadata"]["date_accuracy"] >= 0.9
    assert result["duplicates"]["precision"] >= 0.9 and result["duplicates"]["recall"] >= 0.9
