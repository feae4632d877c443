"""A throwaway PostgreSQL server for the tests: Debian's binaries, run as the ``postgres`` user.

``PostgresServer`` makes a cluster in a new temporary folder owned by ``postgres`` (``initdb``,
trust authentication for that folder's Unix socket and 127.0.0.1 only), starts ``postgres`` on a
free port bound to 127.0.0.1, and hands out databases by SQLAlchemy URL, as nbgrader's
``db_url`` takes them. ``stop`` shuts it down (fast shutdown) and removes the folder; it is also
registered with ``atexit``, and the server asks the kernel for SIGKILL when the test process dies,
so not even ``kill -9`` of pytest leaves it running.

The server is started by ``subprocess`` as ``postgres`` (``user=``), not through ``runuser``:
``runuser`` stays in between as the server's parent, and the server itself would not die with
pytest. ``bash scripts/setup-postgres.sh`` installs Debian's ``postgresql``.
"""

from __future__ import annotations

import atexit
import functools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from course.sandbox.namespaces import die_with_parent

USER = "postgres"
DEBIAN = Path("/usr/lib/postgresql")  # Debian's binaries: <version>/bin/initdb, .../postgres
START_TIMEOUT = 60  # seconds, for initdb and for the server to accept connections
STOP_TIMEOUT = 30
# Only the server's own Unix socket and loopback over TCP, without passwords.
HBA = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
# A test cluster's data need not survive a crash of the machine.
SPEED = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def binaries() -> Path | None:
    """Where ``initdb`` and ``postgres`` are: the newest /usr/lib/postgresql/<version>/bin, else on PATH."""
    versions = [found for found in DEBIAN.glob("*/bin") if found.parent.name.isdigit()]
    debian = sorted(versions, key=lambda folder: int(folder.parent.name), reverse=True)
    on_path = [Path(found).parent for found in [shutil.which("postgres")] if found]
    return next((folder for folder in debian + on_path
                 if (folder / "initdb").is_file() and (folder / "postgres").is_file()), None)


def skip_reason() -> str | None:
    """None if a server can be started here; else why not, in a sentence."""
    if binaries() is None:
        return ("there is no PostgreSQL server (initdb and postgres) in /usr/lib/postgresql/<version>/bin "
                "or on PATH; `bash scripts/setup-postgres.sh` installs Debian's postgresql")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        return f"there is no `{USER}` Unix user to run the server as (Debian's postgresql package makes it)"
    me = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() != 0 and me != USER:
        return f"the tests run as {me}, but the server must run as `{USER}`: run them as root or as {USER}"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder; ``start`` it, ``create_database``, ``stop``."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.process: subprocess.Popen | None = None
        self.port = 0

    def _run_as_postgres(self, command: list[str], **options) -> subprocess.Popen:
        """Start ``command`` as ``postgres``, to be SIGKILLed by the kernel when this process dies."""
        if os.geteuid() == 0:
            account = pwd.getpwnam(USER)
            options.update(user=account.pw_uid, group=account.pw_gid, extra_groups=[])
        return subprocess.Popen(command, cwd=self.folder, stdin=subprocess.DEVNULL,
                                preexec_fn=functools.partial(die_with_parent, os.getpid()), **options)

    def start(self) -> None:
        """Make the cluster and start the server; return once it accepts connections."""
        reason = skip_reason()
        if reason:
            raise RuntimeError(f"Cannot start PostgreSQL: {reason}.")
        bin_folder = binaries()
        account = pwd.getpwnam(USER)
        self.folder = Path(tempfile.mkdtemp(prefix="postgres-test-"))
        atexit.register(self.stop)
        try:
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            initdb = self._run_as_postgres(
                [str(bin_folder / "initdb"), "--pgdata", "data", "--username", USER, "--encoding", "UTF8",
                 "--no-locale", "--no-sync"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            output, _ = initdb.communicate(timeout=START_TIMEOUT)
            if initdb.returncode != 0:
                raise RuntimeError(f"initdb failed:\n{output}")
            (self.folder / "data" / "pg_hba.conf").write_text(HBA)
            self.port = free_port()
            settings = {"listen_addresses": "127.0.0.1", "port": str(self.port),
                        "unix_socket_directories": str(self.folder), **SPEED}
            with open(self.folder / "server.log", "wb") as log:
                self.process = self._run_as_postgres(
                    [str(bin_folder / "postgres"), "-D", "data"]
                    + [option for name, value in settings.items() for option in ("-c", f"{name}={value}")],
                    stdout=log, stderr=subprocess.STDOUT)
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                psycopg.connect(self._dsn("postgres"), connect_timeout=5).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.folder / "server.log").read_text(errors="replace")
                    raise RuntimeError(f"PostgreSQL did not start on port {self.port}:\n{log}") from None
                time.sleep(0.05)

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={database}"

    def create_database(self, name: str) -> str:
        """Create the database ``name``; its SQLAlchemy URL, for nbgrader's ``db_url`` or ``Gradebook``."""
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Shut the server down (fast shutdown, then SIGKILL if it hangs) and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: roll back open transactions, disconnect
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        atexit.unregister(self.stop)
