"""One batch of one stage: read from the warehouse, run the stage, write back.

This is the seam between the pure stages and the warehouse; the Prefect
flows in ``flows/`` call these as tasks, and another runner could too.
Each step commits its batch in one transaction, so a batch is either
stored whole or not at all, and re-running it is harmless.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from pathlib import Path

import duckdb
import pyarrow as pa

from govnlp import cancel, compute, ingest
from govnlp.dedup import DuplicateIndex
from govnlp.fetch.intake import apply_hints
from govnlp.records import IngestError, ParagraphText, SourceFile, valid_text
from govnlp.settings import Settings
from govnlp.themes import document_scores, load_taxonomy
from govnlp.warehouse import WarehouseWriter, open_writer, queries, writes


@dataclass
class RunContext:
    settings: Settings
    writer: WarehouseWriter
    run_id: str
    flow: str
    counts: Counter = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def con(self):
        return self.writer.con

    # ---- models: loaded once per process (govnlp.compute) and only when a stage needs them ----
    @cached_property
    def models(self) -> compute.ModelSpec:
        return compute.ModelSpec.of(self.settings)

    @cached_property
    def embedder(self):
        return compute.embedder(self.settings.embed_model, self.settings.embed_device, self.settings.embed_batch_size)

    @cached_property
    def taxonomy(self):
        return load_taxonomy(self.settings.taxonomy)

    @cached_property
    def scorer(self):
        from govnlp.themes import ThemeScorer

        return ThemeScorer(self.taxonomy, self.embedder.encode_texts, self.settings.theme_threshold, self.settings.theme_max_per_paragraph, self.settings.theme_margin,
                           self.settings.theme_keyword_weight)

    @cached_property
    def reader(self):
        """Worker processes for the pure per-file work (parsing, MinHash), each file under a time and memory limit."""
        from govnlp.sandbox import FileReader, Limits

        s = self.settings
        limits = Limits(s.max_file_bytes, s.max_text_chars, s.minhash_permutations, s.paragraph_near_duplicate_threshold)
        return FileReader(s.ingest_workers, s.file_timeout_seconds, s.worker_memory_mb, limits)

    def close(self) -> None:
        if "reader" in self.__dict__:
            self.reader.close()

    @cached_property
    def dedup_index(self) -> DuplicateIndex:
        s = self.settings
        index = DuplicateIndex(s.near_duplicate_threshold, s.paragraph_near_duplicate_threshold, s.minhash_permutations,
                               s.near_duplicate_containment, s.near_duplicate_containment_floor)
        index.known_signatures(queries.document_signatures(self.con))
        return index

    def version(self, stage: str) -> str:
        if stage == "entities":
            from govnlp.entities import pipeline_version

            return pipeline_version(self.settings.spacy_model)
        if stage == "quotes":
            from govnlp.quotes import pipeline_version as quotes_version

            return quotes_version(self.settings.spacy_model)
        if stage == "embed":
            return self.settings.embed_model
        if stage == "themes":
            return f"{self.taxonomy.version}+{self.settings.embed_model}+t{self.settings.theme_threshold}+m{self.settings.theme_margin}+k{self.settings.theme_keyword_weight}+n{self.settings.theme_max_per_paragraph}"
        raise ValueError(stage)

    @contextmanager
    def timed(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + time.perf_counter() - start, 3)

    def summary(self) -> dict:
        """What a flow returns: the run, its counts and stage times, the warehouse."""
        return {"run_id": self.run_id, "counts": dict(self.counts), "seconds": self.seconds, "warehouse": str(self.settings.warehouse)}

    def publish(self) -> None:
        """Let analysts see what this run has committed so far (skipped when nothing changed)."""
        self.writer.publish(only_if_changed=True)


@contextmanager
def open_run(settings: Settings, flow: str, stages: list[str], sources: list[str], params: dict, run_id: str | None = None):
    """Lock the warehouse, record the run, and close it as completed, cancelled or failed.

    Inside, SIGINT/SIGTERM only set a flag; the runner calls ``cancel.check()``
    between batches (see flows/tasks.py).
    """
    writer = open_writer(settings, sources)  # a file, or a lake (then only these sources are locked)
    with writer, cancel.stop_at_batch_boundary():
        ctx = RunContext(settings, writer, run_id or uuid.uuid4().hex, flow)
        writer.holder_info(run_id=ctx.run_id, flow=flow)
        writes.close_interrupted_runs(writer.con, writer.live_run_ids())  # any other 'running' row is a dead process's
        writes.start_run(writer.con, ctx.run_id, flow, stages, sources, params)
        try:
            yield ctx
        except BaseException as exc:
            status = "cancelled" if isinstance(exc, (KeyboardInterrupt, cancel.RunCancelled)) else "failed"
            writes.finish_run(writer.con, ctx.run_id, status, dict(ctx.counts), ctx.seconds, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            ctx.close()
        writes.finish_run(writer.con, ctx.run_id, "completed", dict(ctx.counts), ctx.seconds)


# ---- ingest + dedup ----

def new_files(ctx: RunContext, sources: list[Path]) -> tuple[list[SourceFile], list[IngestError]]:
    files, errors = [], []
    for found in ingest.discover(sources, queries.seen_files(ctx.con), queries.file_stats(ctx.con)):
        (errors if isinstance(found, IngestError) else files).append(found)
    return files, errors


def batched(items: list, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def ingest_batch(ctx: RunContext, files: list[SourceFile], errors: list[IngestError], web: WebBatch | None = None) -> None:
    """Read, deduplicate and store one batch of files, in one transaction (with its fetches, for web pages).

    When storing fails, the documents that make it fail are isolated and
    rejected (``write_failed``) and the rest is stored: one poison document
    costs one ``ingest_errors`` row, never the batch or the run.
    """
    docs, rows, prepared = [], [], {}
    for result in ctx.reader.read(files) if files else []:
        docs.extend(result.documents)
        errors = errors + result.errors
        prepared.update(result.prepared)
        rows.append((result.source, "ingested" if result.documents else "rejected", len(result.documents), result.seconds))
    if web is not None:
        docs = [apply_hints(d, web.hints.get(d.source_uri)) for d in docs]
    link_versions(ctx, docs)
    docs, errors = store_batch(ctx, docs, prepared, rows, errors, web)
    ctx.counts.update(files=len(files), documents=len(docs), paragraphs=sum(len(d.paragraphs) for d in docs), errors=len(errors))


def store_batch(ctx: RunContext, docs: list, prepared: dict, rows: list, errors: list[IngestError], web: WebBatch | None = None):
    """Store a read batch; documents that cannot be stored are isolated and rejected. Returns (stored docs, errors)."""
    try:
        stats = store_documents(ctx, docs, prepared, rows, errors, web)
    except WRITE_ERRORS as exc:
        docs, rows, errors = contain_write_failure(ctx, docs, rows, errors, exc)
        stats = store_documents(ctx, docs, prepared, rows, errors, web)  # fails again only for a reason no document explains
    ctx.counts.update(vars(stats))  # after the commit: a retried batch is counted once
    return docs, errors


# What storing a batch raises when a value is unfit (Arrow conversion, DuckDB constraints or casts).
WRITE_ERRORS = (duckdb.Error, pa.ArrowException, UnicodeError, ValueError, TypeError, OverflowError)


def store_documents(ctx: RunContext, docs: list, prepared: dict, rows: list, errors: list[IngestError], web: WebBatch | None):
    """Link duplicates and write documents, file rows, errors and fetches in one transaction."""
    index = ctx.dedup_index
    with ctx.writer.transaction() as con:
        # Looked up inside the transaction: on a lake, runs of other sources commit between this run's batches.
        index.known_documents(queries.canonical_documents(con, [d.content_hash for d in docs]))
        index.known_paragraphs(queries.canonical_paragraphs(con, [p.text_hash for d in docs for p in d.paragraphs]))
        signatures, stats = index.add(docs, prepared)
        writes.insert_documents(con, docs, signatures, ctx.run_id)
        writes.record_files(con, rows, ctx.run_id)
        writes.record_errors(con, errors, ctx.run_id)
        if web is not None:
            writes.record_fetches(con, web.rows, web.source_name, ctx.run_id)
    return stats


class _Probe(Exception):
    """Raised to roll a trial write back."""


def _store_error(ctx: RunContext, docs: list) -> str | None:
    """Why these documents' rows cannot be stored (a trial write, rolled back); None when they can."""
    try:
        with ctx.writer.transaction() as con:
            writes.insert_documents(con, docs, {}, ctx.run_id)
            raise _Probe
    except _Probe:
        return None
    except WRITE_ERRORS as exc:
        return valid_text(f"{type(exc).__name__}: {exc}")[0]


def failing_documents(ctx: RunContext, docs: list) -> list:
    """The documents whose own rows cannot be stored, found by halving (trial writes, rolled back)."""
    if not docs or _store_error(ctx, docs) is None:
        return []
    if len(docs) == 1:
        return docs
    half = len(docs) // 2
    return failing_documents(ctx, docs[:half]) + failing_documents(ctx, docs[half:])


def contain_write_failure(ctx: RunContext, docs: list, rows: list, errors: list[IngestError], exc: BaseException):
    """(docs, file rows, errors) without the documents that failed to store, each now an error row.

    The in-memory duplicate index saw the failed batch, so it is rebuilt from
    the warehouse and the survivors are linked again.
    """
    ctx.__dict__.pop("dedup_index", None)
    bad = failing_documents(ctx, docs)
    if not bad:
        raise exc  # the documents store fine: the failure is elsewhere, and the batch must not be half-stored
    bad_ids = {d.doc_id for d in bad}
    for d in bad:
        errors = errors + [IngestError(d.source_uri, d.file_hash, "write_failed",
                                       f"record {d.record_index}: storing failed: {_store_error(ctx, [d])}"[:1000])]
    docs = [d for d in docs if d.doc_id not in bad_ids]
    for d in docs:
        d.duplicate_of = d.duplicate_kind = d.duplicate_similarity = None
        for p in d.paragraphs:
            p.duplicate_of = p.duplicate_kind = None
    stored = Counter(d.source_uri for d in docs)
    rows = [(f, "ingested" if stored[f.source_uri] else "rejected", stored[f.source_uri], t) for f, _, _, t in rows]
    ctx.counts.update(write_failed=len(bad))
    return docs, rows, errors


def link_versions(ctx: RunContext, docs: list) -> None:
    """A changed file or page is a new version: point it at the newest stored one."""
    latest = queries.latest_versions(ctx.con, [d.source_uri for d in docs])
    for d in docs:
        earlier = latest.get((d.source_uri, d.record_index))
        if earlier and earlier != d.doc_id:
            d.previous_version = earlier


# ---- web sources: poll -> raw store -> the ingest batches above ----

@contextmanager
def source_lock(settings: Settings, name: str):
    """Yield None when this process holds the source's run lock, else what the holder wrote (a run is going)."""
    import fcntl
    import json
    import os

    from govnlp.warehouse.target import is_lake, parse_lake

    if is_lake(settings.warehouse):  # the lock lives in the lake's catalog, where writers on other machines see it
        from govnlp.warehouse.lake import poll_lock

        with poll_lock(parse_lake(settings.warehouse, settings.lake_data_path), name) as holder:
            yield holder
        return

    path = settings.warehouse.with_name(f".source-{name}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield os.pread(fd, 4096, 0).decode(errors="replace") or "{}"
            return
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%S")}).encode(), 0)
        try:
            yield None
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@dataclass
class WebBatch:
    """What a batch of fetched pages carries besides the files: listing metadata and the request rows."""

    source_name: str
    hints: dict
    rows: list


def poll_web_source(ctx: RunContext, source, advance=None, on_targets=None):
    """Fetch one web source politely; returns the Intake (files to ingest, errors, request rows, counts)."""
    from govnlp.fetch import History, PoliteClient, RawStore, poll_source, take_in

    s = ctx.settings
    store = RawStore(s.raw_store)
    validators, bodies, last_fetched = queries.fetch_history(ctx.con, source.name)
    history = History(validators, lambda url: store.find(bodies[url]) if url in bodies else None, last_fetched)
    with PoliteClient(s.fetch_limits(source)) as client:
        poll = poll_source(source, client, history, s.fetch_workers, advance, on_targets)
    if poll.listing_error:
        ctx.counts.update(requests=len(poll.requests))
        return poll, None
    intake = take_in(poll, source, store, queries.stored_hashes(ctx.con, [r.fetched.url for r in poll.pages]))
    return poll, intake


def archived_files(ctx: RunContext, url_prefix: str | None, source_name: str | None) -> tuple[list[SourceFile], list[IngestError]]:
    """Fetched pages as files from the raw store, for re-extraction without the network."""
    from govnlp.fetch import RawStore

    store = RawStore(ctx.settings.raw_store)
    files, errors = [], []
    for url, sha in queries.archived_pages(ctx.con, url_prefix, source_name):
        path = store.locate(sha)
        if path is None:
            errors.append(IngestError(url, sha, "archive_missing", f"the raw store {store.root} has no body {sha} for {url}", stage="fetch"))
            continue
        stat = path.stat()
        files.append(SourceFile(str(path), url, sha, stat.st_size, stat.st_mtime))
    ctx.counts.update(archived_pages=len(files))
    return files, errors


def file_batches(files: list[SourceFile], errors: list[IngestError], size: int) -> Iterator[tuple[list[SourceFile], list[IngestError], None]]:
    """Ingest batches of files; the errors travel with the first (one empty batch when there are no files)."""
    for i, chunk in enumerate(batched(files, size) if files else [[]]):
        yield chunk, (errors if i == 0 else []), None


def web_batches(intake, source_name: str, size: int) -> Iterator[tuple[list[SourceFile], list[IngestError], WebBatch]]:
    """Ingest batches of fetched pages; each page's request row travels with its file (one transaction),
    the other rows and the errors with the first batch."""
    by_uri = {r.request.fetched.url: r for r in intake.rows if r.outcome in ("new", "new_version")}
    others = [r for r in intake.rows if r.outcome not in ("new", "new_version")]
    for i, (files, errors, _) in enumerate(file_batches(intake.files, intake.errors, size)):
        rows = [by_uri[f.source_uri] for f in files] + (others if i == 0 else [])
        yield files, errors, WebBatch(source_name, intake.hints, rows)


def refresh_keyword_index(ctx: RunContext) -> bool:
    """Rebuild the BM25 index when paragraphs were added since it was built; True if rebuilt."""
    from govnlp.warehouse import search_index

    if search_index.is_current(ctx.con):
        return False
    with ctx.timed("keyword_index"), ctx.writer.transaction() as con:
        search_index.rebuild(con)
    return True


# ---- model stages: pending canonical paragraphs, whole documents per batch ----

def batch_size(ctx: RunContext, stage: str, distributed: bool = False) -> int:
    """Paragraphs per batch. On Dask workers spaCy batches are larger than in process: each task costs
    Prefect about 0.17 s (benchmarks/scale.py), so a task gets about 10 s of model work."""
    if stage == "embed":
        return ctx.settings.embed_task_paragraphs
    return ctx.settings.cluster_task_paragraphs if distributed else ctx.settings.model_batch_paragraphs


# Distributed batches are made smaller when a stage has too few to keep every worker busy, but not below this.
MIN_DISTRIBUTED_BATCH = 64


def pending(ctx: RunContext, stage: str, doc_ids: list[str] | None = None, size: int | None = None) -> tuple[int, Iterator[list[ParagraphText]]]:
    needs_vectors = ctx.settings.embed_model if stage == "themes" else None
    after = "entities" if stage == "quotes" else None
    return queries.pending_batches(ctx.con, stage, ctx.version(stage), size or batch_size(ctx, stage), doc_ids, needs_vectors, after)


# ---- a model-stage batch: read (writer) -> compute (here or on a worker: govnlp.compute) -> store (writer) ----

@dataclass
class Prepared:
    """A batch's inputs: ``args`` go to the compute function (after the ModelSpec), ``kept`` stays with the writer."""

    args: tuple
    kept: object = None


def prepare(ctx: RunContext, stage: str, batch: list[ParagraphText]) -> Prepared:
    """What the model work of a batch needs from the warehouse (read by the writer)."""
    if stage == "entities":
        return Prepared((batch,))
    if stage == "quotes":
        mentions, entities = queries.mentions_for(ctx.con, [p.paragraph_id for p in batch])
        return Prepared((batch, mentions, entities))
    if stage == "embed":
        cached = queries.cached_vectors(ctx.con, [p.text_hash for p in batch], ctx.settings.embed_model)
        todo = [p for p in batch if p.text_hash not in cached]
        return Prepared(([p.text for p in todo],), (cached, todo))
    raise ValueError(stage)


# The model work of each stage that may run on a worker; themes is a matrix product over stored vectors, done in the writer.
COMPUTE = {"entities": compute.annotate, "quotes": compute.quotes, "embed": compute.embed}


def compute_here(ctx: RunContext, stage: str, prepared: Prepared):
    return COMPUTE[stage](ctx.models, *prepared.args)


def store(ctx: RunContext, stage: str, batch: list[ParagraphText], prepared: Prepared, result) -> int:
    """Write a batch's computed result in one transaction; returns the paragraphs done."""
    {"entities": _store_annotation, "quotes": _store_quotes, "embed": _store_embeddings}[stage](ctx, batch, prepared, result)
    return len(batch)


def _store_annotation(ctx: RunContext, batch: list[ParagraphText], prepared: Prepared, annotation) -> None:
    """Entities and quotes of one spaCy pass: both stages' rows and lineage, as if each had run on its own.

    Quotes always come with entities (``settings.resolve_stages``): quote
    speakers resolve through the mentions, so new mentions mean new quotes.
    """
    ids = [p.paragraph_id for p in batch]
    doc_of = {p.paragraph_id: p.doc_id for p in batch}
    with ctx.writer.transaction() as con:
        writes.write_entities(con, ids, annotation.mentions, annotation.entities)
        writes.mark_annotated(con, ids, "entities", ctx.version("entities"), ctx.run_id)
        writes.write_quotes(con, ids, annotation.quotes, doc_of, ctx.run_id)
        writes.mark_annotated(con, ids, "quotes", ctx.version("quotes"), ctx.run_id)
    ctx.counts.update(entity_paragraphs=len(batch), mentions=len(annotation.mentions), quote_paragraphs=len(batch), quotes=len(annotation.quotes))


def _store_quotes(ctx: RunContext, batch: list[ParagraphText], prepared: Prepared, quotes: list) -> None:
    ids = [p.paragraph_id for p in batch]
    doc_of = {p.paragraph_id: p.doc_id for p in batch}
    with ctx.writer.transaction() as con:
        writes.write_quotes(con, ids, quotes, doc_of, ctx.run_id)
        writes.mark_annotated(con, ids, "quotes", ctx.version("quotes"), ctx.run_id)
    ctx.counts.update(quote_paragraphs=len(batch), quotes=len(quotes))


def _store_embeddings(ctx: RunContext, batch: list[ParagraphText], prepared: Prepared, fresh) -> None:
    import numpy as np

    model = ctx.settings.embed_model
    cached, todo = prepared.kept
    by_hash = dict(cached)
    for p, vector, chunks in zip(todo, fresh.vectors, fresh.chunks):
        by_hash[p.text_hash] = (vector, chunks)
    vectors = np.vstack([by_hash[p.text_hash][0] for p in batch]) if batch else np.zeros((0, fresh.vectors.shape[1]), np.float32)
    with ctx.writer.transaction() as con:
        writes.write_embeddings(con, [p.paragraph_id for p in batch], [p.text_hash for p in batch], model, vectors, [by_hash[p.text_hash][1] for p in batch])
        writes.mark_annotated(con, [p.paragraph_id for p in batch], "embed", model, ctx.run_id)
    ctx.counts.update(embedded=len(todo), embeddings_reused=len(batch) - len(todo))


def _here(stage: str):
    """The whole batch in this process: read, compute, store."""
    def work(ctx: RunContext, batch: list[ParagraphText]) -> int:
        prepared = prepare(ctx, stage, batch)
        return store(ctx, stage, batch, prepared, compute_here(ctx, stage, prepared))
    return work


_entities, _quotes, _embed = _here("entities"), _here("quotes"), _here("embed")


def finish_batch(ctx: RunContext, stage: str, batch: list[ParagraphText], prepared: Prepared, outcome, compute_elsewhere) -> int:
    """Store a batch computed elsewhere (``outcome``: its result, or the exception it raised), contained as in-process.

    When the outcome is an error or storing fails, the batch is halved as in
    ``run_contained``; each part is read again and computed through
    ``compute_elsewhere(stage, prepared)`` (on the workers too).
    """
    def work(ctx: RunContext, part: list[ParagraphText]) -> int:
        if part is batch:
            if isinstance(outcome, BaseException):
                raise outcome
            return store(ctx, stage, batch, prepared, outcome)
        again = prepare(ctx, stage, part)
        return store(ctx, stage, part, again, compute_elsewhere(stage, again))
    return run_contained(ctx, stage, work, batch, load_here=False)


def run_contained(ctx: RunContext, stage: str, work, batch: list[ParagraphText], load_here: bool = True) -> int:
    """Run one model-stage batch; when it fails, isolate the paragraphs that make it fail and skip them.

    The batch is halved (at a document boundary while it holds several
    documents) until each failing paragraph stands alone; those get a
    ``stage_errors`` row and are not offered again at this stage version, the
    others are annotated as usual.  When every paragraph fails, the stage
    itself is broken (a model that does not load, a full disk): the error is
    raised, nothing is recorded against the paragraphs.
    """
    if load_here:  # a model that does not load fails the stage here, not a paragraph
        compute.load(ctx.models, stage)
        if stage == "themes":
            ctx.scorer
    failed: list[tuple[ParagraphText, Exception]] = []
    done = _attempt(ctx, work, batch, failed)
    if failed and len(failed) == len(batch) > 1:
        raise failed[0][1]
    if failed:
        with ctx.writer.transaction() as con:
            writes.record_stage_errors(con, [(p.paragraph_id, type(e).__name__, valid_text(str(e))[0][:500]) for p, e in failed],
                                       stage, ctx.version(stage), ctx.run_id)
        ctx.counts.update({f"{stage}_failed_paragraphs": len(failed)})
    return done + len(failed)


def _attempt(ctx: RunContext, work, batch: list[ParagraphText], failed: list) -> int:
    """``work`` on the batch; on failure on halves of it, down to single paragraphs, which land in ``failed``."""
    try:
        return work(ctx, batch)
    except cancel.RunCancelled:
        raise
    except Exception as exc:
        if len(batch) == 1:
            failed.append((batch[0], exc))
            return 0
    docs = list(dict.fromkeys(p.doc_id for p in batch))
    if len(docs) > 1:  # keep documents whole as long as possible: canonical names resolve within a document
        first = set(docs[: len(docs) // 2])
        parts = [[p for p in batch if p.doc_id in first], [p for p in batch if p.doc_id not in first]]
    else:
        parts = [batch[: len(batch) // 2], batch[len(batch) // 2:]]
    return sum(_attempt(ctx, work, part, failed) for part in parts)


def entities_batch(ctx: RunContext, batch: list[ParagraphText]) -> int:
    """Entities and quotes of the batch, one spaCy pass (the quotes stage then finds nothing left to do)."""
    return run_contained(ctx, "entities", _entities, batch)


def quotes_batch(ctx: RunContext, batch: list[ParagraphText]) -> int:
    """Quotes only: paragraphs whose entities are current but whose quotes are not (the quote rules changed)."""
    return run_contained(ctx, "quotes", _quotes, batch)


def embed_batch(ctx: RunContext, batch: list[ParagraphText]) -> int:
    return run_contained(ctx, "embed", _embed, batch)


def themes_batch(ctx: RunContext, batch: list[ParagraphText]) -> int:
    return run_contained(ctx, "themes", _themes, batch)


def sync_themes(ctx: RunContext) -> None:
    with ctx.writer.transaction() as con:
        writes.sync_taxonomy(con, ctx.taxonomy.themes, ctx.taxonomy.version, ctx.settings.theme_threshold)


def _themes(ctx: RunContext, batch: list[ParagraphText]) -> int:
    ids, vectors = queries.vectors_for(ctx.con, [p.paragraph_id for p in batch], ctx.settings.embed_model)
    text_of = {p.paragraph_id: p.text for p in batch}
    scores = ctx.scorer.score(ids, vectors, [text_of[i] for i in ids])
    with ctx.writer.transaction() as con:
        writes.write_paragraph_themes(con, ids, scores)
        writes.mark_annotated(con, ids, "themes", ctx.version("themes"), ctx.run_id)
    ctx.counts.update(themed_paragraphs=len(ids))
    return len(batch)


def document_themes(ctx: RunContext) -> int:
    doc_ids = queries.documents_needing_theme_totals(ctx.con, ctx.run_id)
    for group in batched(doc_ids, 500):
        rows = document_scores(queries.paragraph_theme_rows(ctx.con, group))
        with ctx.writer.transaction() as con:
            writes.write_document_themes(con, group, rows)
    ctx.counts.update(themed_documents=len(doc_ids))
    return len(doc_ids)


def backfill_scope(ctx: RunContext, since, until, source: str | None, web_source: str | None = None) -> list[str] | None:
    """doc_ids picked by publication date and source (a path, a URL prefix, or a web source's name); None: every document."""
    if since is None and until is None and source is None and web_source is None:
        ctx.counts.update(selected_documents=queries.summary(ctx.con)["documents"])
        return None
    prefix = (source if source.startswith(("http://", "https://")) else Path(source).absolute().as_uri()) if source else None
    doc_ids = queries.select_documents(ctx.con, since, until, prefix, web_source)
    ctx.counts.update(selected_documents=len(doc_ids))
    return doc_ids


def forget(ctx: RunContext, doc_ids: list[str] | None, stages: list[str]) -> int:
    with ctx.writer.transaction() as con:
        n = writes.forget_annotations(con, doc_ids, stages)
    ctx.counts.update(reset_annotations=n)
    return n


# ---- topics: the whole corpus at once (clustering), or new paragraphs to the nearest topic ----

def topics(ctx: RunContext, recluster: bool = False) -> int:
    """Bring the topics up to date; returns the paragraphs sent to the clustering or the assignment.

    A full clustering happens when there is none yet, when the topic
    settings or the embedding model changed, when ``recluster`` is asked
    (backfill), or when the eligible paragraphs grew by
    ``topic_recluster_growth`` since the last one.  Otherwise new paragraphs
    join the nearest existing topic.  Nothing new: nothing is computed.
    """
    from govnlp import topics as topic_model

    s = ctx.settings
    params = s.topic_params()
    version = topic_model.params_version(params, s.embed_model)
    current = queries.current_clustering(ctx.con)
    if current is not None and current["version"] == version and not recluster:
        ids, texts, words, vectors = queries.topic_inputs(ctx.con, s.embed_model, _topic_annotation(current))
        new_eligible = int((words >= s.topic_min_words).sum())
        if not ids:
            return 0
        if current["eligible"] + new_eligible < (1 + s.topic_recluster_growth) * current["eligible"]:
            return _assign_topics(ctx, current, ids, words, vectors)
    ids, texts, words, vectors = queries.topic_inputs(ctx.con, s.embed_model)
    keep = words >= s.topic_min_words
    if keep.sum() < s.topic_min_paragraphs:
        ctx.counts.update(topics_waiting=len(ids))  # too few to cluster: they stay pending
        return 0
    start = time.perf_counter()
    eligible = [i for i in range(len(ids)) if keep[i]]
    built = topic_model.build([ids[i] for i in eligible], [texts[i] for i in eligible], vectors[keep], params)
    cid = _clustering_id(version, ids, current)
    record = {"clustering_id": cid, "version": version, "method": params.method, "parameters": params.as_dict(), "embed_model": s.embed_model,
              "paragraphs": len(ids), "eligible": built.eligible, "assigned": len(built.memberships), "topics": len(built.topics),
              "seconds": round(time.perf_counter() - start, 3)}
    rows = [(pid, f"{cid}-{t:03d}", score) for pid, t, score in built.memberships]
    with ctx.writer.transaction() as con:
        writes.replace_topics(con, record, built.topics, rows, ctx.run_id)
        writes.forget_annotations(con, None, ["topics"])
        writes.mark_annotated(con, ids, "topics", _topic_annotation(record), ctx.run_id)
    ctx.counts.update(topic_paragraphs=len(ids), topics=len(built.topics), topic_members=len(rows))
    return len(ids)


def _clustering_id(version: str, paragraph_ids: list[str], previous: dict | None) -> str:
    """Same settings, same paragraphs, same history: the same id (two warehouses built alike compare equal)."""
    import hashlib

    digest = hashlib.sha256(f"{version}\n{previous['clustering_id'] if previous else ''}\n".encode())
    for pid in paragraph_ids:
        digest.update(pid.encode() + b"\n")
    return digest.hexdigest()[:12]


def _topic_annotation(clustering: dict) -> str:
    """The lineage version of a paragraph's topic: the method and parameters' version plus the clustering."""
    return f"{clustering['version']}+{clustering['clustering_id']}"


def _assign_topics(ctx: RunContext, current: dict, ids: list[str], words, vectors) -> int:
    from govnlp import topics as topic_model

    topic_ids, centroids = queries.topic_centroids(ctx.con, current["clustering_id"])
    keep = words >= ctx.settings.topic_min_words
    chosen = [i for i in range(len(ids)) if keep[i]]
    found = topic_model.assign([ids[i] for i in chosen], vectors[keep], centroids, ctx.settings.topic_min_similarity)
    rows = [(pid, topic_ids[t], score) for pid, t, score in found]
    with ctx.writer.transaction() as con:
        writes.add_paragraph_topics(con, rows, "nearest", ctx.run_id)
        writes.mark_annotated(con, ids, "topics", _topic_annotation(current), ctx.run_id)
    ctx.counts.update(topic_paragraphs=len(ids), topic_members=len(rows))
    return len(ids)
