"""The raw store: every fetched body kept once, named by its SHA-256.

Backfills and re-extraction read from here, never from the network.  It
lives under ``raw/.fetched`` by default: the leading dot keeps the folder
source from ingesting the archive as if it were dropped files.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

SUFFIX_BY_KIND = {"html": ".html", "pdf": ".pdf", "text": ".txt", "json": ".json", "xml": ".xml"}


class RawStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha256: str, kind: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{SUFFIX_BY_KIND.get(kind, '.bin')}"

    def put(self, body: bytes, kind: str) -> tuple[str, Path]:
        """Store the bytes (atomically, once) and return (sha256, path)."""
        sha = hashlib.sha256(body).hexdigest()
        path = self.path_for(sha, kind)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(body)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return sha, path

    def get(self, sha256: str, kind: str) -> bytes | None:
        path = self.path_for(sha256, kind)
        return path.read_bytes() if path.exists() else None

    def locate(self, sha256: str) -> Path | None:
        """The stored file with this hash, whatever kind it was stored as."""
        return next(iter((self.root / sha256[:2]).glob(f"{sha256}.*")), None)

    def find(self, sha256: str) -> bytes | None:
        path = self.locate(sha256)
        return path.read_bytes() if path else None
