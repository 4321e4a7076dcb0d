"""The README's generated blocks: text between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def replace_block(name: str, body: str, readme: Path = README) -> None:
    """Put ``body`` between the markers named ``name``; a README without them is an error, not a silent no-op."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = readme.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise SystemExit(f"{readme} lacks the {start} / {end} markers")
    head, rest = text.split(start, 1)
    readme.write_text(f"{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")
