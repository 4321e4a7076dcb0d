"""The ingest models' shared form: a standardized logistic regression stored as plain numbers.

``govnlp.ingest.train`` fits them with scikit-learn and writes JSON (feature
names, means, scales, coefficients, intercept, threshold); reading them back
needs no pickle and no scikit-learn at run time.
"""

from __future__ import annotations

import json
import math
from pathlib import Path


def load(path: Path, features: tuple[str, ...]) -> dict | None:
    """The model in ``path``, or None when it has not been built; refuses one trained on other features."""
    if not path.exists():
        return None
    model = json.loads(path.read_text(encoding="utf-8"))
    if tuple(model["features"]) != features:
        raise RuntimeError(f"{path} was trained on other features; rebuild it: python -m govnlp.ingest.train")
    return model


def decision(vector: list[float], model: dict) -> float:
    """The linear score (log-odds) of one example."""
    return model["intercept"] + sum(w * (x - m) / s for w, x, m, s in zip(model["coef"], vector, model["mean"], model["scale"]))


def probability(vector: list[float], model: dict) -> float:
    z = decision(vector, model)
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
