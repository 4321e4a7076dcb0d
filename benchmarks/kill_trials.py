"""50 kill trials: SIGKILL `govnlp run` at seeded random moments, resume, compare with a clean run.

    python -m benchmarks.kill_trials [--trials 50] [--seed 20261123] [--corpus raw]

Writes benchmarks/results/<date>-kill-trials.json and prints one line a trial.
The test suite runs the same trial (benchmarks/crash.py) at 10 points.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from datetime import date
from pathlib import Path

from benchmarks.crash import clean_reference, kill_trial

SMALL_BATCHES = {"GOVNLP_MODEL_BATCH_PARAGRAPHS": "4", "GOVNLP_EMBED_TASK_PARAGRAPHS": "4"}
RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--corpus", type=Path, default=Path("raw"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="govnlp-kill-") as tmp:
        work = Path(tmp)
        content, counts, seconds = clean_reference(args.corpus.absolute(), work / "clean" / "govnlp.duckdb")
        print(f"clean run: {seconds:.1f} s, {counts}")
        rng = random.Random(args.seed)
        trials = []
        for i in range(args.trials):
            delay = round(rng.uniform(0.05, 1.0) * seconds, 2)
            # Small batches: many commits, so kills land between and inside writes, not only in model work.
            trial = kill_trial(args.corpus.absolute(), work / f"trial-{i}" / "govnlp.duckdb", delay, content, counts, env=SMALL_BATCHES)
            trials.append({"delay_s": delay, "committed_when_killed": trial.killed_at, "ok": trial.ok, "problems": trial.problems, "seconds": trial.seconds})
            print(f"{i:2d} kill at {delay:6.2f}s committed {trial.killed_at} -> {'ok' if trial.ok else trial.problems}", flush=True)
    passed = sum(t["ok"] for t in trials)
    summary = {"date": date.today().isoformat(), "corpus": str(args.corpus), "clean_seconds": round(seconds, 1),
               "trials": len(trials), "passed": passed, "details": trials}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{date.today().isoformat()}-kill-trials.json"
    out.write_text(json.dumps(summary, indent=2))
    print(f"{passed}/{len(trials)} trials passed; written to {out}")
    return 0 if passed == len(trials) else 1


if __name__ == "__main__":
    raise SystemExit(main())
