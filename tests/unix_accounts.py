"""Throw-away Unix accounts for tests that need real users: create, run a command as one, delete.

Creating accounts needs root (CI runs as root); ``skip_reason()`` says why a test cannot run
elsewhere. Each account gets a unique name and a private home (mode 700) under a folder the
test chooses; ``delete`` removes the account and its home (``userdel -r``), and
``stop_processes`` first kills whatever the account left running (a server, its kernels).

The test's own Python may not be runnable by another account (a venv on a Python under
root's 0700 home, say). ``python_for`` finds one that is: this very interpreter, or else a
venv made from a system Python of the same version, seeing this environment's packages
(hard-linked into reach when the account cannot read them where they are).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TOOLS = ("useradd", "userdel", "runuser")


def skip_reason() -> str | None:
    """Why throw-away accounts cannot be made here, or None."""
    if not sys.platform.startswith("linux"):
        return "real Unix accounts are made with Linux's useradd"
    if os.geteuid() != 0:
        return "creating Unix accounts needs root (CI runs the suite as root)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found (Debian's passwd and util-linux packages)"
    return None


@dataclass(frozen=True)
class Account:
    name: str
    home: Path

    @property
    def uid(self) -> int:
        return pwd.getpwnam(self.name).pw_uid


def hub(prefix: str) -> Path:
    """A fresh folder laid out like a hub's disk: ``homes/`` and nbgrader's ``exchange/`` (mode 1777).

    Under /tmp and open to every account (pytest's own temporary folders are root's alone).
    """
    shared = Path(tempfile.mkdtemp(prefix=prefix))
    shared.chmod(0o755)
    (shared / "homes").mkdir(mode=0o755)
    (shared / "exchange").mkdir()
    (shared / "exchange").chmod(0o1777)  # the sticky bit keeps a student from renaming the course's folder
    return shared


def create(homes: Path, prefix: str = "adk") -> Account:
    """A new account ``<prefix><random hex>`` with a private home in ``homes``, no password, no shell."""
    name = f"{prefix}{secrets.token_hex(4)}"
    home = homes / name
    subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin",
                    "--user-group", name], check=True, capture_output=True, text=True)
    home.chmod(0o700)
    return Account(name, home)


def delete(account: Account) -> None:
    """Remove the account and its home."""
    result = subprocess.run(["userdel", "--remove", "--force", account.name], capture_output=True, text=True)
    try:
        pwd.getpwnam(account.name)
    except KeyError:
        shutil.rmtree(account.home, ignore_errors=True)
        return
    raise RuntimeError(f"could not delete account {account.name}: {result.stderr.strip()}")


def as_account(account: Account, argv: list[str], env: dict[str, str] | None = None) -> list[str]:
    """The command line that runs ``argv`` as ``account`` (``runuser``), with a clean environment
    (``env`` added) and its home as ``HOME``."""
    clean = {"HOME": str(account.home), "USER": account.name, "LOGNAME": account.name,
             "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", **(env or {})}
    variables = [f"{name}={value}" for name, value in clean.items()]
    return ["runuser", "-u", account.name, "--", "env", "-i", *variables, *argv]


def run(account: Account, argv: list[str], cwd: Path | None = None, stdin: str | None = None,
        env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``argv`` as ``account`` (``runuser``), with a clean environment and its home as ``HOME``."""
    return subprocess.run(as_account(account, argv, env), cwd=cwd or account.home, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def can_import(account: Account, python: str, module: str) -> bool:
    return run(account, [python, "-c", f"import {module}"], cwd=Path("/")).returncode == 0


def python_for(account: Account, shared: Path, module: str = "nbgrader") -> tuple[str | None, str]:
    """A Python that ``account`` can run and import ``module`` with: ``(path, how)``, or ``(None, why not)``.

    ``shared`` is a folder the account can enter, where a venv is made if one is needed.
    """
    if can_import(account, sys.executable, module):
        return sys.executable, f"this interpreter, {sys.executable}"
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    bases = [f"{folder}/{version}" for folder in ("/usr/bin", "/usr/local/bin")
             if os.access(f"{folder}/{version}", os.X_OK)]
    base = next((path for path in bases if run(account, [path, "-c", "pass"]).returncode == 0), None)
    if base is None:
        return None, (f"{account.name} cannot run {sys.executable} (check the modes along its path) and "
                      f"no system {version} is installed")
    packages = Path(sysconfig.get_paths()["purelib"])
    if run(account, ["test", "-r", str(packages / "nbgrader" / "__init__.py")]).returncode != 0:
        packages = hard_linked(packages, shared / "site-packages")
    env = shared / "student-env"
    subprocess.run([base, "-m", "venv", "--without-pip", str(env)], check=True, capture_output=True)
    target = Path(subprocess.run([str(env / "bin" / "python"), "-c", "import sysconfig; "
                                  "print(sysconfig.get_paths()['purelib'])"],
                                 check=True, capture_output=True, text=True).stdout.strip())
    (target / "test-environment.pth").write_text(f"{packages}\n")
    python = str(env / "bin" / "python")
    if not can_import(account, python, module):
        return None, f"{account.name} cannot import {module} with {base} and the packages in {packages}"
    return python, f"{base} in a venv seeing {packages}"


def hard_linked(folder: Path, target: Path) -> Path:
    """A copy of ``folder`` at ``target`` made of hard links (plain copies across file systems)."""
    def link(source, destination):
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)

    shutil.copytree(folder, target, symlinks=True, copy_function=link)
    for here, folders, _ in os.walk(target):
        for name in folders:
            (Path(here) / name).chmod(0o755)
    return target


def stop_processes(account: Account, timeout: float = 10) -> list[int]:
    """Kill (SIGKILL) every process running as ``account``, and wait until they are gone; their ids."""
    uid = account.uid

    def running() -> list[int]:
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                lines = status.read_text().splitlines()
            except OSError:
                continue  # exited meanwhile
            uids = next((line.split()[1:] for line in lines if line.startswith("Uid:")), [])
            state = next((line.split()[1] for line in lines if line.startswith("State:")), "")
            if str(uid) in uids and state != "Z":
                found.append(int(status.parent.name))
        return found

    killed = running()
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    return killed
