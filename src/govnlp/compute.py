"""The model work of a batch, apart from reading and writing: runs in the writer or on a Dask worker.

A model-stage batch has three parts: the writer reads what the batch needs
(``steps``), a model computes (here), the writer stores the result in one
transaction (``steps``). Only this middle part may run elsewhere: DuckDB
allows one writing process, and the models are where the time goes. So
these functions take plain records and a ``ModelSpec`` (the settings the
models depend on, small and picklable) and return plain records.

Models are loaded once per process and kept (``functools.lru_cache`` keyed
by the spec's fields): a Dask worker pays for each load once, whatever the
number of batches it runs, and the in-process path shares the same cache.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import lru_cache

from govnlp.records import Entity, Mention, ParagraphText

# Test hook (real code path, off by default): seconds each batch of a model stage sleeps before it
# computes, so a test can kill a worker while it holds a batch. Read from the worker's environment.
SLOW_ENV = "GOVNLP_TEST_BATCH_DELAY_SECONDS"


@dataclass(frozen=True)
class ModelSpec:
    """What loading a model depends on; the cache key of the loaders."""

    spacy_model: str
    embed_model: str
    embed_device: str | None
    embed_batch_size: int
    spacy_device: str | None = None

    @classmethod
    def of(cls, settings) -> ModelSpec:
        return cls(settings.spacy_model, settings.embed_model, settings.embed_device, settings.embed_batch_size, settings.spacy_device)


def spacy_device(device: str | None) -> str:
    """Put spaCy (thinc) on a GPU before a pipeline loads; returns "gpu" or "cpu".

    ``None`` uses a GPU when CuPy and CUDA are there (``spacy.prefer_gpu``),
    so a Dask worker on a GPU machine uses it with no setting, as the
    embedder does; ``"gpu"`` / ``"gpu:N"`` requires one (an error names
    why not); ``"cpu"`` never uses one. The choice is per process and
    global in thinc, hence made here, once, where the pipeline is cached.
    Measured on an H200 (benchmarks/gpu_worker.py): the same mentions and
    quotes, 2.4 times the paragraphs/s of one CPU thread.
    """
    import spacy

    if device == "cpu":
        return "cpu"
    if device is None:
        return "gpu" if spacy.prefer_gpu() else "cpu"
    name, _, number = device.partition(":")
    if name != "gpu" or (number and not number.isdigit()):
        raise ValueError(f"spacy_device must be 'cpu', 'gpu' or 'gpu:N', not {device!r}")
    spacy.require_gpu(int(number or 0))
    return "gpu"


@lru_cache(maxsize=4)
def annotator(spacy_model: str, device: str | None = None):
    from govnlp.annotate import Annotator

    spacy_device(device)
    return Annotator(spacy_model)


@lru_cache(maxsize=4)
def embedder(model: str, device: str | None, batch_size: int):
    """The sentence-transformers model; ``device`` None picks CUDA when this process sees one."""
    from govnlp.embed import Embedder

    return Embedder(model, device, batch_size)


def _test_delay() -> None:
    delay = float(os.environ.get(SLOW_ENV) or 0)
    if delay > 0:
        time.sleep(delay)


def annotate(spec: ModelSpec, batch: list[ParagraphText]):
    """Entities and quotes of a batch of whole documents, one spaCy pass (``govnlp.annotate``)."""
    _test_delay()
    return annotator(spec.spacy_model, spec.spacy_device).annotate(batch)


def quotes(spec: ModelSpec, batch: list[ParagraphText], mentions: dict[str, list[Mention]], entities: dict[str, Entity]) -> list:
    """Quotes of a batch whose entity mentions are stored (only the quote rules changed)."""
    _test_delay()
    return annotator(spec.spacy_model, spec.spacy_device).quotes(batch, mentions, entities)


def embed(spec: ModelSpec, texts: list[str]):
    """Unit vectors (and windows per text) of texts that have no vector yet."""
    _test_delay()
    return embedder(spec.embed_model, spec.embed_device, spec.embed_batch_size).embed(texts)


def load(spec: ModelSpec, stage: str) -> None:
    """Load the model a stage needs (a model that does not load fails the stage, not a paragraph)."""
    if stage in ("entities", "quotes"):
        annotator(spec.spacy_model, spec.spacy_device)
    elif stage in ("embed", "themes"):
        embedder(spec.embed_model, spec.embed_device, spec.embed_batch_size)
