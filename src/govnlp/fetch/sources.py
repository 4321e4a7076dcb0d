"""Named sources in ``sources.toml``: what to poll, how, and how often.

Read with tomllib into typed ``Source`` records; ``add``/``remove`` edit the
file with tomlkit so the user's comments and layout survive.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

import tomlkit

KINDS = ("folder", "feed", "sitemap", "urls", "page")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # folder | feed | sitemap | urls | page (a single URL) ; "auto" only for ad-hoc URLs
    location: str  # a folder path, a URL, or for "urls" a file of URLs (or a URL serving one)
    publisher: str | None = None
    doc_type: str | None = None
    language: str | None = None
    schedule: str | None = None  # cron, for `govnlp serve`
    max_items: int | None = None  # at most this many entries / URLs per run
    max_bytes: int | None = None  # overrides the fetch_max_bytes setting
    min_delay_seconds: float | None = None  # overrides fetch_min_delay_seconds

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"source name {self.name!r}: use lowercase letters, digits and dashes (it names a Prefect deployment)")
        if self.kind not in KINDS + ("auto",):
            raise ValueError(f"source {self.name!r}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.kind in ("feed", "sitemap", "page") and urlsplit(self.location).scheme not in ("http", "https"):
            raise ValueError(f"source {self.name!r}: a {self.kind} needs an http(s) URL, not {self.location!r}")
        if self.schedule is not None:
            from datetime import datetime

            from cronsim import CronSim, CronSimError  # the cron parser Prefect itself uses

            try:
                CronSim(self.schedule, datetime(2026, 1, 1))
            except CronSimError as exc:
                raise ValueError(f"source {self.name!r}: {self.schedule!r} is not a cron expression: {exc}") from None

    @property
    def is_web(self) -> bool:
        return self.kind != "folder"

    def to_toml(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def load_sources(path: Path) -> list[Source]:
    """Sources in the file, in order; a missing file means none. Raises ValueError naming the bad entry."""
    if not Path(path).exists():
        return []
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    known = {f.name for f in fields(Source)}
    out, names = [], set()
    for i, entry in enumerate(data.get("source", [])):
        unknown = set(entry) - known
        if unknown:
            raise ValueError(f"{path}: source #{i + 1}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
        try:
            source = Source(**entry)
        except TypeError as exc:
            raise ValueError(f"{path}: source #{i + 1}: {exc}") from None
        if source.name in names:
            raise ValueError(f"{path}: two sources are named {source.name!r}")
        names.add(source.name)
        out.append(source)
    return out


def add_source(path: Path, source: Source) -> None:
    if any(s.name == source.name for s in load_sources(path)):
        raise ValueError(f"a source named {source.name!r} already exists in {path}")
    doc = tomlkit.parse(Path(path).read_text(encoding="utf-8")) if Path(path).exists() else tomlkit.document()
    if "source" not in doc:
        doc["source"] = tomlkit.aot()
    table = tomlkit.table()
    for key, value in source.to_toml().items():
        table[key] = value
    doc["source"].append(table)
    Path(path).write_text(tomlkit.dumps(doc), encoding="utf-8")


def remove_source(path: Path, name: str) -> None:
    if not any(s.name == name for s in load_sources(path)):
        raise ValueError(f"no source named {name!r} in {path}")
    doc = tomlkit.parse(Path(path).read_text(encoding="utf-8"))
    kept = [t for t in doc["source"] if t.get("name") != name]
    doc["source"].clear()
    for t in kept:
        doc["source"].append(t)
    Path(path).write_text(tomlkit.dumps(doc), encoding="utf-8")


def adhoc_name(location: str) -> str:
    parts = urlsplit(location)
    raw = f"{parts.hostname or ''}{parts.path}" if parts.scheme else Path(location).name
    return (re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-") or "source")[:63]


def resolve_source(spec: str, configured: list[Source]) -> Source:
    """A configured source by name, else a folder path, else a URL (kind decided after fetching it)."""
    for source in configured:
        if source.name == spec:
            return source
    if urlsplit(spec).scheme in ("http", "https"):
        return Source(adhoc_name(spec), "auto", spec)
    if Path(spec).exists():
        return Source(adhoc_name(spec), "folder", str(Path(spec)))
    names = ", ".join(s.name for s in configured) or "none configured"
    raise ValueError(f"--source {spec!r} is not a configured source ({names}), an existing path, or an http(s) URL")
