"""Embedding ahead (flows/ahead.py): the embedder on a second core while spaCy runs gives the rows of the stages run in turn."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

from benchmarks.crash import differences
from conftest import SEEDS

STAGES = ["entities", "quotes", "embed", "themes"]
pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="embedding ahead needs a second core")


@contextmanager
def _seeded_run(path, **overrides):
    """A run context over the stored seeds; small batches, so that several embed batches go ahead of the entities stage."""
    from govnlp import ingest, steps
    from govnlp.settings import load_settings

    settings = load_settings(warehouse=path, ingest_workers=1, model_batch_paragraphs=8, **overrides)
    with steps.open_run(settings, "test", STAGES, [], {}) as ctx:
        read = [(found, ingest.read_file(found, 50_000_000)[0]) for found in ingest.discover([SEEDS])]
        steps.store_batch(ctx, [d for _, ds in read for d in ds], {}, [(f, "ingested", len(ds), 0.1) for f, ds in read], [])
        yield ctx


def _fingerprint(ctx) -> dict:
    from govnlp.warehouse import integrity

    return integrity.fingerprint(ctx.con)


def test_ahead_gives_the_rows_of_the_stages_in_turn(tmp_path, prefect_home):
    from flows.tasks import run_model_stages

    runs = {}
    for ahead in (True, False):
        with _seeded_run(tmp_path / f"ahead-{ahead}" / "govnlp.duckdb", embed_ahead=ahead) as ctx:
            run_model_stages(ctx, STAGES)
            runs[ahead] = (dict(ctx.counts), _fingerprint(ctx))
    (counts, rows), (plain_counts, plain_rows) = runs[True], runs[False]
    assert counts["embedded_ahead"] > 0  # batches really were embedded while the entities stage ran
    assert "embedded_ahead" not in plain_counts
    assert counts["embedded"] == plain_counts["embedded"] and counts["entity_paragraphs"] == plain_counts["entity_paragraphs"]
    assert differences(rows, plain_rows) == []  # every table, vectors within 1e-5


def test_a_paragraph_that_breaks_the_embedder_ahead_is_recorded_and_skipped(tmp_path, prefect_home, monkeypatch):
    """A batch that fails on the thread is halved in the main thread, as a batch that fails on a Dask worker."""
    from flows.tasks import run_model_stages
    from govnlp import compute, steps

    with _seeded_run(tmp_path / "w" / "govnlp.duckdb") as ctx:
        texts = [t for (t,) in ctx.con.execute("SELECT text FROM paragraphs WHERE duplicate_of IS NULL ORDER BY doc_id, position").fetchall()]
        poison = texts[len(texts) // 3]
        real = compute.embed

        def fragile(spec, batch_texts):
            if poison in batch_texts:
                raise RuntimeError("embedder failure on this paragraph")
            return real(spec, batch_texts)

        monkeypatch.setattr(compute, "embed", fragile)
        monkeypatch.setitem(steps.COMPUTE, "embed", fragile)
        run_model_stages(ctx, STAGES)
        failed = ctx.con.execute("SELECT p.text, e.stage, e.error_type FROM stage_errors e JOIN paragraphs p USING (paragraph_id)").fetchall()
        embedded = ctx.con.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    assert failed == [(poison, "embed", "RuntimeError")]
    assert embedded == len(texts) - 1
    assert ctx.counts["embedded_ahead"] > 0
