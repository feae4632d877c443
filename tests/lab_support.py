"""Shared by the real-browser tests: a JupyterLab server on loopback, and Debian's Chromium.

``JupyterLab`` starts ``python -m jupyterlab`` on a free port of 127.0.0.1 with a fresh token,
through an optional ``launcher`` (``runuser ... env -i ...`` to serve as another account), in a
process group of its own; ``stop`` shuts its kernels down through the API, then the server.
``chromium`` launches /usr/bin/chromium headless with Playwright (``bash
scripts/setup-browser.sh`` installs it; Playwright downloads no browser of its own).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"  # git-ignored

SERVER_START_TIMEOUT = 90  # seconds

# JupyterLab user settings for the tests: the notebook's kernel starts without asking, every
# cell stays in the page (no windowing, so a cell can be found wherever it is), and nothing
# is fetched from outside.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True, "windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}", method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def log_tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def write_lab_settings(folder: Path) -> Path:
    """``LAB_SETTINGS`` as JupyterLab's user settings in ``folder``."""
    for name, values in LAB_SETTINGS.items():
        path = folder / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return folder


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 with a fresh token, serving ``root``.

    ``settings`` holds the user settings (see ``write_lab_settings``) and ``log`` gets the
    server's output; ``python`` runs it, after ``launcher`` (e.g. ``runuser -u <name> -- env -i
    ...``), with the environment ``env`` and ``options`` added to the command line.
    """

    def __init__(self, root: Path, settings: Path, log: Path, python: str = sys.executable,
                 env: dict[str, str] | None = None, launcher: Sequence[str] = (),
                 options: Sequence[str] = ()) -> None:
        self.port, self.token = free_port(), secrets.token_hex(24)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [
            *launcher, python, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
            f"--LabApp.user_settings_dir={settings}",
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly", *options,
        ]
        with self.log.open("w") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env,
                                            stdin=subprocess.DEVNULL, cwd=root, start_new_session=True)

    def url(self, path: str) -> str:
        """``path`` on the server, with the token."""
        return f"{self.base}{path}{'&' if '?' in path else '?'}token={self.token}"

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {self.process.returncode}:\n{log_tail(self.log)}")
            try:
                api(self.base, self.token, "/api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.25)
        pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s:\n{log_tail(self.log)}")

    def stop(self) -> None:
        """Shut the kernels down through the API (they run in sessions of their own), then the
        server's process group: SIGTERM, and SIGKILL if it has not exited after 20 s."""
        if self.process.poll() is None:
            try:
                for kernel in api(self.base, self.token, "/api/kernels"):
                    api(self.base, self.token, f"/api/kernels/{kernel['id']}", method="DELETE")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # the server is going anyway; its own shutdown stops its kernels
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=10)

    def _signal(self, number: int) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, number)  # the group is the process's own (start_new_session)


@contextmanager
def chromium() -> Iterator:
    """Debian's Chromium, headless, through Playwright; fails the test if it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run `bash scripts/setup-browser.sh` "
                    "(it installs Debian's chromium package with apt-get), then rerun the tests.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()
