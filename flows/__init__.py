"""Prefect flows: they compose the stages (via govnlp.steps) and hold no logic of their own."""
