"""Property-based fuzzing of ingest: generated files through the real readers and the real writer.

Hypothesis generates files (text over all of Unicode, surrogates, NUL,
control and bidi characters, huge lines and mixed encodings; YAML front
matter; JSON shapes; HTML fragments; byte mutations of a valid PDF; file names
of arbitrary bytes).  Each case is written to disk, found by
``ingest.discover``, read in the guarded worker pool (``sandbox.FileReader``)
and stored with ``steps.store_batch`` into a real DuckDB warehouse.  The
property: no exception, and the file ends as a stored document or as exactly
one ``ingest_errors`` row.

    python -m benchmarks.fuzz [--cases 10000] [--seed 0] [--readme]

CI runs a small budget (tests/test_fuzz.py).  Results go to
``benchmarks/results/<date>-fuzz.json``; ``--readme`` also writes the README block.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import string
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

RESULTS = Path(__file__).resolve().parent / "results"
SUFFIXES = (".txt", ".md", ".html", ".json", ".jsonl", ".pdf")

# ---- strategies -------------------------------------------------------------

# All of Unicode, surrogates included (what JSON escapes, file names and PDF maps can carry).
any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF)
nasty_char = st.sampled_from(["\x00", "\ud800", "\udfff", "\u202e", "\u2066", "\ufeff", "\u200b", "\r", "\x0c", "\x1b", "\ufffd", "\U0001F600", "é", "\u0301"])
words = st.text(alphabet=string.ascii_letters + " .,;:'\"-()\n", min_size=0, max_size=400)
text = st.one_of(
    st.text(any_char, max_size=300),
    st.lists(st.one_of(words, nasty_char), max_size=40).map("".join),
    st.builds(lambda w, n: w * n, st.text(string.ascii_letters + " ", min_size=1, max_size=20), st.integers(1, 20_000)),  # huge lines
)
encodings = st.sampled_from(["utf-8", "utf-16", "utf-16-le", "latin-1", "cp1252", "shift_jis", "gb18030", "utf-32"])


def encode(value: str, encoding: str) -> bytes:
    """Bytes in an encoding, surrogates written as CESU/WTF-8 bytes where the codec allows."""
    try:
        return value.encode(encoding, "surrogatepass")
    except (UnicodeEncodeError, LookupError):
        return value.encode(encoding, "replace")


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), text)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.one_of(text, st.sampled_from(["title", "text", "date", "url", "tags", "publisher", "body", "content"])), inner, max_size=6), max_leaves=20)
json_record = st.fixed_dictionaries({"text": text}, optional={"title": json_values, "date": json_values, "url": json_values, "tags": json_values,
                                                                "publisher": json_values, "source": json_values, "language": json_values})


@st.composite
def json_file(draw) -> bytes:
    value = draw(st.one_of(json_record, st.lists(json_record, max_size=4), json_values))
    raw = json.dumps(value, ensure_ascii=draw(st.booleans()))  # ensure_ascii writes surrogates as \ud800 escapes
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut]  # truncated
    return encode(raw, "utf-8")


@st.composite
def jsonl_file(draw) -> bytes:
    lines = draw(st.lists(st.one_of(json_record.map(lambda r: json.dumps(r)), text), max_size=6))
    return encode("\n".join(lines), "utf-8")


@st.composite
def markdown_file(draw) -> bytes:
    front = draw(st.one_of(
        st.just(""),
        st.dictionaries(st.sampled_from(["title", "date", "tags", "source_url", "publisher", "x"]), json_values, max_size=5).map(lambda d: "---\n" + "\n".join(f"{k}: {json.dumps(v)}" for k, v in d.items()) + "\n---\n"),
        text.map(lambda t: f"---\n{t}\n---\n"),
        st.just("---\na: &a [x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b]\n---\n"),
        st.just("---\ntitle: !!python/object/apply:os.system ['true']\n---\n"),
    ))
    body = draw(st.lists(st.one_of(text, text.map(lambda t: "# " + t)), max_size=8))
    return encode(front + "\n\n".join(body), draw(encodings))


tags = st.sampled_from(["p", "div", "article", "main", "h1", "h2", "span", "script", "style", "nav", "footer", "time", "table", "td", "li", "br", "title", "meta"])


@st.composite
def html_fragment(draw, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 3 if depth < 4 else 1))
        if kind <= 1:
            parts.append(draw(text).replace("<", "&lt;") if draw(st.booleans()) else draw(text))
        else:
            tag = draw(tags)
            attrs = draw(st.sampled_from(["", ' class="x"', ' property="article:published_time" content="2024-02-30"', ' datetime="9999-99-99"', ' content="%s"' % draw(words)]))
            parts.append(f"<{tag}{attrs}>{draw(html_fragment(depth + 1))}" + (f"</{tag}>" if draw(st.booleans()) else ""))
    return "".join(parts)


@st.composite
def html_file(draw) -> bytes:
    page = f"<html><head><title>{draw(text)}</title></head><body>{draw(html_fragment())}</body></html>"
    refs = draw(st.sampled_from(["", "&#xD800;", "&#0;", "&#x110000;", "&#xFFFE;", "&bogus;"]))
    return encode(page.replace("</title>", refs + "</title>", 1), draw(encodings))


def _base_pdf() -> bytes:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from hostile import _surrogate_pdf, _text_pdf

    return _text_pdf(["Artificial intelligence governance", "The ministry will publish guidance on oversight."] * 5) + b"\n" + _surrogate_pdf("AB plan")


@st.composite
def pdf_file(draw) -> bytes:
    base = bytearray(draw(st.sampled_from(PDF_BASES)))
    for _ in range(draw(st.integers(0, 12))):
        op = draw(st.integers(0, 2))
        at = draw(st.integers(0, len(base) - 1))
        if op == 0:
            base[at] = draw(st.integers(0, 255))
        elif op == 1:
            del base[at: at + draw(st.integers(1, 64))]
        else:
            base[at:at] = draw(st.binary(max_size=64))
    if draw(st.booleans()):
        base = base[: draw(st.integers(0, len(base)))]
    return bytes(base)


name_bytes = st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"/", b"_").replace(b"\0", b"_").lstrip(b"."))
PDF_BASES: list[bytes] = []


@st.composite
def case(draw) -> tuple[str, bytes, bytes]:
    """(kind, file name bytes, file bytes)."""
    kind = draw(st.sampled_from(["txt", "md", "html", "json", "jsonl", "pdf"]))
    data = {
        "txt": lambda: encode(draw(text), draw(encodings)),
        "md": lambda: draw(markdown_file()),
        "html": lambda: draw(html_file()),
        "json": lambda: draw(json_file()),
        "jsonl": lambda: draw(jsonl_file()),
        "pdf": lambda: draw(pdf_file()),
    }[kind]()
    stem = draw(st.one_of(st.just(b"doc"), name_bytes)) or b"doc"
    return kind, stem + b"." + kind.encode(), data


# ---- the property -----------------------------------------------------------

class Fuzzer:
    """One warehouse, one worker pool; each case a fresh folder."""

    def __init__(self, workdir: Path):
        from govnlp import steps
        from govnlp.settings import load_settings

        self.workdir = workdir
        self.settings = load_settings(warehouse=workdir / "w" / "govnlp.duckdb", ingest_workers=2, file_timeout_seconds=20, worker_memory_mb=1024)
        self._run = steps.open_run(self.settings, "fuzz", ["ingest"], [], {})
        self.ctx = self._run.__enter__()
        self.outcomes: Counter = Counter()
        self.by_kind: Counter = Counter()
        self.cases = 0

    def close(self) -> None:
        self._run.__exit__(None, None, None)

    def check(self, kind: str, name: bytes, data: bytes) -> None:
        from govnlp import ingest, steps
        from govnlp.records import IngestError

        self.cases += 1
        folder = os.path.join(os.fsencode(self.workdir), b"cases", b"%d" % self.cases)
        os.makedirs(folder)
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(data)
        found = list(ingest.discover([Path(os.fsdecode(folder))]))
        assert len(found) == 1, found
        if isinstance(found[0], IngestError):
            files, errors = [], [found[0]]
        else:
            files, errors = found, []
        docs, prepared, rows = [], {}, []
        for result in self.ctx.reader.read(files):
            docs.extend(result.documents)
            errors = errors + result.errors
            prepared.update(result.prepared)
            rows.append((result.source, "ingested" if result.documents else "rejected", len(result.documents), result.seconds))
        stored, errors = steps.store_batch(self.ctx, docs, prepared, rows, errors)
        uri = found[0].source_uri
        con = self.ctx.con
        n_docs = con.execute("SELECT count(*) FROM documents WHERE source_uri = ?", [uri]).fetchone()[0]
        reasons = [r for (r,) in con.execute("SELECT error_type FROM ingest_errors WHERE source_uri = ?", [uri]).fetchall()]
        assert n_docs == len(stored), (n_docs, len(stored))
        assert n_docs > 0 or reasons, f"case {self.cases}: neither stored nor rejected"
        assert not any(r in ("reader_error", "worker_crashed", "write_failed") for r in reasons), reasons
        self.by_kind[kind] += 1
        if n_docs:
            self.outcomes["document"] += 1
        for r in set(reasons):
            self.outcomes[r] += 1
        shutil.rmtree(folder, ignore_errors=True)


def fuzz(cases: int, seed: int, workdir: Path) -> dict:
    """Run ``cases`` generated cases; raises (with Hypothesis's smallest failing example) on the first crash."""
    PDF_BASES[:] = [_base_pdf()]
    fuzzer = Fuzzer(workdir)
    start = time.perf_counter()

    @fixed_seed(seed)  # the same seed, the same cases
    @settings(max_examples=cases, deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True)
    @given(case())
    def property_holds(generated):
        fuzzer.check(*generated)

    try:
        property_holds()
    finally:
        fuzzer.close()
    return {"cases": fuzzer.cases, "seed": seed, "seconds": round(time.perf_counter() - start, 1), "crashes": 0,
            "by_kind": dict(sorted(fuzzer.by_kind.items())), "outcomes": dict(fuzzer.outcomes.most_common())}


def readme_block(result: dict) -> str:
    reasons = ", ".join(f"{k} {v}" for k, v in result["outcomes"].items())
    kinds = ", ".join(f"{k} {v}" for k, v in result["by_kind"].items())
    return (f"Fuzzing ({result['date']}, commit {result['commit']}, `python -m benchmarks.fuzz --cases {result['cases']}`): "
            f"{result['cases']} generated files ({kinds}) in {result['seconds']:.0f} s, **{result['crashes']} crashes**; "
            f"every case a stored document or one `ingest_errors` row: {reasons}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--readme", action="store_true", help="write the README's fuzz block")
    args = parser.parse_args(argv)
    import subprocess

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()  # the code that runs
    with tempfile.TemporaryDirectory(prefix="govnlp-fuzz-") as tmp:
        result = fuzz(args.cases, args.seed, Path(tmp))
    result["date"] = date.today().isoformat()
    result["commit"] = commit
    out = RESULTS / f"{result['date']}-fuzz.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    if args.readme:
        from benchmarks.readme import replace_block

        replace_block("fuzz", readme_block(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
