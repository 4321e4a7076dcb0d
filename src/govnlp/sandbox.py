"""Per-file work in worker processes, each file under a time limit and a memory cap.

A hostile file (a decompression bomb, HTML nested ten thousand deep, a
parser bug that loops) can then only cost its own worker: the worker is
killed or hits its memory cap, the file becomes an ``ingest_errors`` row,
and the run goes on.  pebble's process pool does the killing and replacing.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import signal
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from pebble import ProcessExpired, ProcessPool

from govnlp import ingest
from govnlp.dedup import Prepared, prepare
from govnlp.records import Document, IngestError, SourceFile


@dataclass
class FileResult:
    source: SourceFile
    documents: list[Document] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    prepared: dict[str, Prepared] = field(default_factory=dict)
    seconds: float | None = None  # None when the worker was stopped or died: its time is not known


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_text_chars: int
    num_perm: int
    paragraph_threshold: float


def read_and_prepare(source: SourceFile, limits: Limits) -> FileResult:
    """Everything per file that needs no shared state: parse, MinHash, near-repeated paragraphs."""
    start = time.perf_counter()
    docs, errors = ingest.read_file(source, limits.max_bytes, limits.max_text_chars)
    prepared = {d.doc_id: prepare(d, limits.num_perm, limits.paragraph_threshold) for d in docs}
    return FileResult(source, docs, errors, prepared, time.perf_counter() - start)


def _init_worker(limit_bytes: int) -> None:
    """Past the cap, allocations fail with MemoryError instead of starving the machine.

    Stop signals are for the main process (it stops between batches); pebble
    ignores SIGINT in workers, and SIGTERM is ignored here too, so that a
    signal sent to the whole process group never fails a file.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a broken PDF is reported as a rejection, not as log noise
    if limit_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))


def _failed(source: SourceFile, error_type: str, message: str) -> FileResult:
    return FileResult(source, errors=[IngestError(source.source_uri, source.file_hash, error_type, message)])


class FileReader:
    """Reads files in a pool of guarded workers; results come back in input order."""

    def __init__(self, workers: int, timeout_seconds: float, memory_limit_mb: int, limits: Limits):
        self.timeout = timeout_seconds or None
        self.memory_limit_mb = memory_limit_mb
        self.limits = limits
        self.pool = ProcessPool(
            max_workers=max(1, workers),
            initializer=_init_worker,
            initargs=(memory_limit_mb * 2**20,),
            context=multiprocessing.get_context("forkserver"),  # safe beside DuckDB's and torch's threads
        )

    def read(self, files: list[SourceFile]) -> list[FileResult]:
        futures = [self.pool.schedule(read_and_prepare, args=(f, self.limits), timeout=self.timeout) for f in files]
        results = []
        for source, future in zip(files, futures):
            try:
                results.append(future.result())
            except FutureTimeout:
                results.append(_failed(source, "timeout", f"reading took longer than {self.timeout:.0f}s; the worker was stopped"))
            except MemoryError:
                results.append(_failed(source, "memory_limit", f"reading needed more than the {self.memory_limit_mb} MB cap per worker"))
            except ProcessExpired as exc:
                results.append(_failed(source, "worker_crashed", f"the reading process died (exit code {exc.exitcode})"))
            except Exception as exc:  # a reader bug must not end the run: record it against the file
                results.append(_failed(source, "reader_error", f"{type(exc).__name__}: {exc}"[:500]))
        return results

    def close(self) -> None:
        self.pool.stop()
        self.pool.join(timeout=10)
