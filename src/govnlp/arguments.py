"""Argument checks that run before any flow or Prefect API starts.

A wrong path, stage or date must cost the user one line and exit status 2,
not a Prefect traceback from inside a flow run (issue 13).  Each function
raises ``ValueError`` with the message to print.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from govnlp.settings import Settings, load_settings, resolve_stages


class ArgumentError(ValueError):
    """A command-line value that cannot work; the message is the whole story."""


def settings(**overrides) -> Settings:
    """Settings from options, GOVNLP_* variables and govnlp.toml; a bad value is one line naming the key."""
    from pydantic import ValidationError

    from govnlp.warehouse.target import is_lake, parse_lake

    try:
        loaded = load_settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ArgumentError(f"bad setting {where!r} (option, GOVNLP_{where.upper()} or govnlp.toml): {first['msg']}") from None
    if is_lake(loaded.warehouse):
        try:
            parse_lake(loaded.warehouse, loaded.lake_data_path)
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None
    return loaded


def stages(value: str | None, allowed: tuple[str, ...] | None = None) -> list[str]:
    try:
        wanted = resolve_stages(value)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    if allowed is not None:
        extra = [s for s in wanted if s not in allowed]
        if extra:
            raise ArgumentError(f"stage(s) {', '.join(extra)} cannot run here; choose from {', '.join(allowed)}")
    return wanted


def is_url(spec: str) -> bool:
    parts = urlsplit(spec)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def run_sources(specs: list[str] | None, source_names: set[str]) -> None:
    """Each --source is an existing file or folder, a name in sources.toml, or an http(s) URL."""
    for spec in specs or []:
        if spec in source_names or is_url(spec) or Path(spec).exists():
            continue
        if spec.startswith(("http://", "https://", "ftp://", "file://")):
            raise ArgumentError(f"--source {spec}: not an http(s) URL with a host")
        names = f" (configured: {', '.join(sorted(source_names))})" if source_names else ""
        raise ArgumentError(f"--source {spec}: no such file or folder, and not a source name in sources.toml{names} nor an http(s) URL")


def backfill_source(spec: str | None, source_names: set[str], wanted: list[str]) -> None:
    """--source for backfill: a folder or file, a URL prefix, or a web source's name."""
    if spec is None:
        if "ingest" in wanted:
            raise ArgumentError("--stages ingest in a backfill needs --source (a folder, a web source's name or a URL prefix)")
        return
    if spec in source_names or spec.startswith(("http://", "https://")) or Path(spec).exists():
        return
    raise ArgumentError(f"--source {spec}: no such file or folder, and not a source name in sources.toml nor a URL prefix")


def date_range(since: date | None, until: date | None, names: tuple[str, str] = ("--since", "--until")) -> None:
    if since and until and since > until:
        raise ArgumentError(f"{names[0]} {since} is after {names[1]} {until}")


def positive(name: str, value: int) -> None:
    if value < 1:
        raise ArgumentError(f"{name} must be at least 1, not {value}")
