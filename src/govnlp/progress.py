"""Progress for long work: rich bars on a terminal, quiet elsewhere.

The CLI turns bars on; library and test callers get nothing printed.
"""

from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

_console: Console | None = None


def enable(console: Console) -> None:
    global _console
    _console = console


def _bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=_console, transient=False,
    )


@contextmanager
def track(description: str, total: int | None):
    """Yields ``advance(n)``; renders a bar only when enabled and there is work."""
    if _console is None or not total:
        yield lambda n=1: None
        return
    with _bar() as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def note(message: str) -> None:
    """A one-line notice to the user (the CLI console), else to the log."""
    if _console is not None:
        _console.print(f"[yellow]{message}[/yellow]", soft_wrap=True)
    else:
        import logging

        logging.getLogger("govnlp").warning(message)


@contextmanager
def counter(description: str):
    """Like ``track`` for work whose size is known only once it has started: yields (advance, set_total)."""
    if _console is None:
        yield (lambda n=1: None), (lambda total: None)
        return
    with _bar() as bar:
        task = bar.add_task(description, total=None)
        yield (lambda n=1: bar.advance(task, n)), (lambda total: bar.update(task, total=total))
