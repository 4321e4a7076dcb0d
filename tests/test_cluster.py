"""`--cluster`: model-stage batches on real Dask worker processes, results written by the one writer (issue 16).

Every run is a real `govnlp run` process. The address form runs against a
real `dask scheduler` and two `dask worker --nthreads 1` processes on
127.0.0.1; one of them is killed (SIGKILL, nanny and worker) while it holds
a batch.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.crash import content, differences, run, runs, start
from conftest import REPO, SEEDS

pytest.importorskip("prefect_dask")
DASK_BIN = Path(sys.executable).with_name("dask")
# The per-paragraph stages (topics cluster the whole corpus in the writer, with fresh clustering ids each run).
STAGES = ("--stages", "ingest,dedup,entities,quotes,embed,themes")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("cluster-corpus")
    for f in SEEDS.glob("*.txt"):
        shutil.copy(f, src / f.name)
    return src


@pytest.fixture(scope="module")
def in_process(corpus, tmp_path_factory, prefect_home) -> dict:
    """The same corpus without --cluster: the rows every cluster run must give."""
    warehouse = tmp_path_factory.mktemp("in-process") / "govnlp.duckdb"
    done = run("run", "--source", str(corpus), "--warehouse", str(warehouse), *STAGES)
    assert done.returncode == 0, done.stderr[-3000:]
    return content(warehouse)


def _paths_env(extra: dict | None = None) -> dict:
    """This checkout first on the path (worker processes import govnlp and flows)."""
    path = os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, **(extra or {})}


def _model_work_once(warehouse: Path) -> None:
    """Each canonical paragraph annotated once per stage, and counted once by the run."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        canonical = con.execute("SELECT count(*) FROM paragraphs WHERE duplicate_of IS NULL").fetchone()[0]
        per_stage = dict(con.execute("SELECT stage, count(*) FROM paragraph_annotations WHERE stage IN ('entities', 'quotes', 'embed', 'themes') "
                                     "GROUP BY 1").fetchall())
        quote_ids = con.execute("SELECT count(*), count(DISTINCT quote_id) FROM quotes").fetchone()
    assert per_stage == {"entities": canonical, "quotes": canonical, "embed": canonical, "themes": canonical}
    assert quote_ids[0] == quote_ids[1] > 0
    counts = runs(warehouse)[-1]["counts"]
    assert counts["entity_paragraphs"] == counts["quote_paragraphs"] == counts["embedded"] == canonical


def test_local_cluster_gives_the_rows_of_the_in_process_run(corpus, in_process, tmp_path):
    warehouse = tmp_path / "govnlp.duckdb"
    done = run("run", "--source", str(corpus), "--warehouse", str(warehouse), *STAGES, "--cluster", "local:2", env=_paths_env())
    assert done.returncode == 0, done.stderr[-3000:]
    assert differences(in_process, content(warehouse)) == []
    _model_work_once(warehouse)
    last = runs(warehouse)[-1]
    assert last["status"] == "completed"
    assert last["counts"]["workers"] == 2 and last["counts"]["worker_rss_mb_max"] > 100
    assert last["counts"]["entities_tasks"] >= 2  # the batches really went to the workers
    assert "distributed." not in done.stderr  # Dask's INFO logs stay out of a user's terminal


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask(*args: str, env: dict) -> subprocess.Popen:
    # its own process group: killing it takes nanny and worker together
    return subprocess.Popen([str(DASK_BIN), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_worker_killed_mid_batch_costs_a_retry_elsewhere_and_nothing_doubled(corpus, in_process, tmp_path):
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    # Each batch waits 4 s on its worker before computing (the test hook in govnlp.compute), so there is time to kill.
    worker_env = _paths_env({"GOVNLP_TEST_BATCH_DELAY_SECONDS": "4", "DASK_LOGGING__DISTRIBUTED": "error"})
    scheduler = _dask("scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0", env=worker_env)
    workers = {name: _dask("worker", address, "--nthreads", "1", "--name", name, "--dashboard-address", ":0", env=worker_env)
               for name in ("w0", "w1")}
    client = None
    try:
        client = Client(address, timeout=60)
        client.wait_for_workers(2, timeout=120)
        warehouse = tmp_path / "govnlp.duckdb"
        cli = start("run", "--source", str(corpus), "--warehouse", str(warehouse), *STAGES, "--cluster", address, env=_paths_env())
        killed = None
        deadline = time.monotonic() + 300
        while killed is None and time.monotonic() < deadline and cli.poll() is None:
            info = client.scheduler_info(n_workers=-1)["workers"]
            for addr, keys in client.processing().items():
                if any("compute_batch" in str(k) for k in keys) and addr in info:
                    killed = info[addr]["name"]
                    os.killpg(workers[killed].pid, signal.SIGKILL)
                    break
            time.sleep(0.1)
        assert killed is not None, "no worker was seen holding a batch"
        out, err = cli.communicate(timeout=600)
        assert cli.returncode == 0, err[-3000:]
        assert workers[killed].wait(timeout=10) == -signal.SIGKILL
        assert differences(in_process, content(warehouse)) == []
        _model_work_once(warehouse)
        assert runs(warehouse)[-1]["counts"]["workers"] == 1  # the survivor finished the run
    finally:
        if client is not None:
            client.close()
        for proc in [*workers.values(), scheduler]:
            _stop(proc)


def test_a_bad_cluster_value_is_one_line_and_exit_2(tmp_path):
    done = run("run", "--warehouse", str(tmp_path / "w.duckdb"), "--cluster", "local:zero")
    assert done.returncode == 2
    assert "cluster" in done.stderr and "Traceback" not in done.stderr


def _worker_view() -> dict:
    import psutil
    from prefect.settings import get_current_settings

    return {"api": str(get_current_settings().api.url), "children": [" ".join(c.cmdline()[:4]) for c in psutil.Process().children(recursive=True)]}


def test_local_workers_report_to_the_flows_api_and_start_no_server_of_their_own(prefect_home, monkeypatch):
    """A flow without PREFECT_API_URL (a test, a notebook) runs on Prefect's temporary server; its local workers use that one."""
    from prefect import flow, task
    from prefect.cache_policies import NONE
    from prefect.client.orchestration import get_client

    from flows.cluster import Workers

    where = task(name="where", cache_policy=NONE)(_worker_view)

    @flow
    def probe() -> tuple[str, dict]:
        with get_client(sync_client=True) as client:
            api = str(client.api_url).rstrip("/")
        with Workers("local:1") as workers:
            seen = workers.start().submit(where, {}).result()
        return api, seen

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    api, seen = probe()
    assert seen["api"] == api
    assert seen["children"] == []  # no temporary Prefect server (a uvicorn child) in the worker
