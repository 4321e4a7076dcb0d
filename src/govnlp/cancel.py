"""Graceful stop: SIGINT or SIGTERM ends a run at the next batch boundary.

A batch commits whole or not at all, so stopping between batches loses
nothing and leaves no half-written rows.  A second signal stops at once
(the open transaction rolls back).
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_requested: int | None = None


class RunCancelled(Exception):
    """Raised at a batch boundary after a stop signal; exit status 128 + signal number."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name} at a batch boundary")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def requested() -> int | None:
    return _requested


def check() -> None:
    """Call between batches: raises RunCancelled once a stop was asked for."""
    if _requested is not None:
        raise RunCancelled(_requested)


def _handle(signum, frame) -> None:
    global _requested
    if _requested is not None:  # second signal: stop now
        signal.signal(signum, signal.SIG_DFL)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        signal.raise_signal(signum)
        return
    _requested = signum
    from govnlp import progress

    progress.note(f"{signal.Signals(signum).name} received: stopping after the current batch (send it again to stop now)")


@contextmanager
def stop_at_batch_boundary():
    """Route SIGINT/SIGTERM to a flag for the duration (main thread only; elsewhere a no-op)."""
    global _requested
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _requested = None
    previous = {s: signal.signal(s, _handle) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
