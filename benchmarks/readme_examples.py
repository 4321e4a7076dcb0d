"""Refresh the README's analyst examples with their real output on a warehouse (the seeds by default).

    python -m benchmarks.readme_examples [--warehouse warehouse/govnlp.duckdb]

Replaces the text between the README markers `<!-- examples:start -->` and
`<!-- examples:end -->`; the queries come from govnlp.examples.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import govnlp.analyst
from benchmarks.readme import replace_block
from govnlp.examples import EXAMPLES



def render(con) -> str:
    parts = []
    for ex in EXAMPLES:
        result = con.sql(ex.sql)
        names = result.columns
        body = result.fetchall()
        lines = [" | ".join(names), " | ".join("---" for _ in names)]
        for row in body:
            lines.append(" | ".join("" if v is None else str(v).replace("|", "\\|").replace("\n", " ") for v in row))
        table = "\n".join(lines) if body else "(no rows)"
        parts.append(f"**{ex.number}. {ex.question}**\n\n```sql\n{ex.sql}\n```\n\n{table}\n")
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=None)
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    args = parser.parse_args()
    con = govnlp.analyst.connect(args.warehouse)
    replace_block("examples", render(con), args.readme)
    print(f"updated {args.readme}")


if __name__ == "__main__":
    main()
