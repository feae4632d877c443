"""A real Dask cluster on 127.0.0.1 for the tests: a scheduler and worker processes, started once.

Each process is asked to die with the test session (``PR_SET_PDEATHSIG``), so a killed
pytest leaves none behind; ``stop`` ends them at the session's end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course.sandbox.namespaces import die_with_parent


class DaskCluster:
    """``workers`` single-threaded worker processes (no nanny) attached to a scheduler on a random port."""

    def __init__(self, workers: int = 2, timeout: float = 60) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="dask-cluster-"))
        scheduler_file = self.folder / "scheduler.json"
        self.processes = [self._start("scheduler", "dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                      "--no-dashboard", "--scheduler-file", str(scheduler_file))]
        deadline = time.monotonic() + timeout
        while not scheduler_file.exists():
            self._check_running(deadline)
        self.address = json.loads(scheduler_file.read_text())["address"]
        self.processes += [self._start(f"worker-{k}", "dask_worker", self.address, "--nthreads", "1",
                                       "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--name",
                                       f"worker-{k}", "--local-directory", str(self.folder / f"worker-{k}"))
                           for k in range(workers)]
        from distributed import Client

        with Client(self.address, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=timeout)

    def _start(self, name: str, program: str, *arguments: str) -> subprocess.Popen:
        parent = os.getpid()
        with (self.folder / f"{name}.log").open("wb") as log:
            return subprocess.Popen([sys.executable, "-m", f"distributed.cli.{program}", *arguments],
                                    cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, preexec_fn=lambda: die_with_parent(parent))

    def _check_running(self, deadline: float) -> None:
        if any(process.poll() is not None for process in self.processes) or time.monotonic() > deadline:
            logs = "\n".join(log.read_text()[-1500:] for log in self.folder.glob("*.log"))
            self.stop()
            raise RuntimeError(f"The Dask cluster did not start:\n{logs}")
        time.sleep(0.1)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
