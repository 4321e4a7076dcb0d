"""Where gold labels point: corpus files by reference, never copied into the repo.

A reference is a path relative to the shared folder beside the repo
(``seeds/000_x.txt``, ``corpora/policy/NAME.pdf``) or a file inside the
White House archive (``corpora/whitehouse/whitehouse-briefings.tar.gz#wh/releases/...md``),
which is unpacked once into ``.cache/`` (git-ignored).
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path

from govnlp.ingest import read_file
from govnlp.records import Document, SourceFile

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GOVNLP_SHARED", REPO.parent / "shared"))
GOLD = REPO / "benchmarks" / "gold"
CACHE = REPO / ".cache" / "corpora"
ARCHIVE_REF = "corpora/whitehouse/whitehouse-briefings.tar.gz"


def unpacked_archive() -> Path:
    """The White House archive unpacked under .cache (once); returns the folder holding ``wh/``."""
    root = CACHE / "whitehouse"
    if not (root / "wh" / "rss.xml").exists():
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(SHARED / ARCHIVE_REF) as tar:
            tar.extractall(root, filter="data")
    return root


def resolve(ref: str) -> Path:
    """The file a gold reference names."""
    if "#" in ref:
        archive, member = ref.split("#", 1)
        if archive != ARCHIVE_REF:
            raise ValueError(f"unknown archive in reference {ref!r}")
        return unpacked_archive() / member
    return SHARED / ref


def source_file(path: Path) -> SourceFile:
    data = path.read_bytes()
    stat = path.stat()
    return SourceFile(str(path), path.absolute().as_uri(), hashlib.sha256(data).hexdigest(), stat.st_size, stat.st_mtime)


def documents(ref: str) -> list[Document]:
    """The pipeline's reading of one referenced file (ingest stage only)."""
    docs, errors = read_file(source_file(resolve(ref)), max_bytes=50_000_000)
    if errors and not docs:
        raise ValueError(f"{ref}: {errors[0].message}")
    return docs


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("//")]
