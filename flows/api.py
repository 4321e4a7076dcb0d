"""A local Prefect API for one CLI process, started early so that it boots while the pipeline imports.

Without PREFECT_API_URL, Prefect starts a temporary API server on the first
flow call, after importing its server package in the calling process; on a
2-core machine that is about 10 s before any work. Starting the same server
(Prefect's own app factory, the same environment Prefect gives it) in a
child process at CLI start overlaps that boot with our imports; the flow
then talks to it through PREFECT_API_URL. Measured in benchmarks/speed.py.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
SERVICES_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_FINAL": "1"}


def _end_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when the parent dies (no-op elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class LocalApi:
    def __init__(self, services: bool = False) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
            # `govnlp serve` needs the server's scheduler service, which an ephemeral server does not run.
            env={**os.environ, **(SERVICES_ENV if services else SERVER_ENV)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            # Its own session: a Ctrl-C meant for the run must not take the API down mid-run;
            # and it ends with its parent, even when the parent is killed outright.
            start_new_session=True, preexec_fn=_end_with_parent,
        )
        atexit.register(self.stop)
        # Prefect reads its settings once, at import: the URL must be in place before that.
        os.environ["PREFECT_API_URL"] = self.url

    def wait(self, timeout: float) -> None:
        """Block until the API answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the local Prefect API exited: {self.process.stderr.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the local Prefect API did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _server_configured() -> bool:
    """PREFECT_API_URL in the environment or in a Prefect profile (then Prefect decides, as usual)."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect")).expanduser()
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()
    try:
        return "PREFECT_API_URL" in profiles.read_text()
    except OSError:
        return False


def start_local_api(services: bool = False) -> LocalApi | None:
    """A local API unless a Prefect server is configured; call before prefect is imported.

    ``services``: also run the server's background services (the scheduler that
    creates the runs of served deployments), as `prefect server start` would.
    """
    if "prefect" in sys.modules:
        return None  # too late: Prefect has read its settings; its own ephemeral server will do
    return None if _server_configured() else LocalApi(services)
