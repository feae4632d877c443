"""The sandbox: a fork server in which student code runs, one child per graded function.

Started by the judge as ``python -I -m course.sandbox.server <fd> <judge pid> <sandbox side>``,
it imports the checks plugin's sandbox side (``plugin``) and every package that names in
``PRELOAD`` (the kit, the probes), then confines itself with Landlock to the Python
installation and a private scratch folder (no gradebook, no hidden tests, no solutions,
not even the source of what it imported, so nothing can be reloaded), caps its memory and
files, and sends its stdout and stderr to ``/dev/null``. It never runs student code itself:
for each graded function the judge passes it a socket, and it forks a keeper that makes
new user, PID and network namespaces (``namespaces``) and forks their first process, which
forks the child that

1. enters a Landlock domain of its own (it cannot signal the server or its siblings) and
   disables what the function may not use (the plugin's ``disable``: for the course, the
   kit's functions that compute it, and for by-hand exercises the kit's autodiff), so a
   student's code that calls them gets an exception with a sentence instead of the answer;
2. runs the student's cells one by one, reporting each, so the judge knows which cell hangs;
3. runs the probes the judge asks for and returns their plain results.

A child that loops, exits or crashes takes only itself down; the judge kills the keeper's
process group and forks another for the checks that are left. With the keeper goes the
namespace's first process, and with it every process the student's code started. Every
link of the chain (server, keeper, first process) dies with its parent, so nothing
outlives the grading command, even one killed with ``kill -9``.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import importlib.util
import linecache
import os
import pkgutil
import resource
import signal
import site
import socket
import sys
from types import ModuleType

import numpy as np

from course.sandbox import plugin, wire
from course.sandbox.landlock import restrict_to
from course.sandbox.namespaces import become_subreaper, die_with_parent, isolate

MEMORY_LIMIT = 3 * 2**30
FILE_LIMIT = 64 * 2**20


SIDE: list[ModuleType] = []  # the plugin's sandbox side, loaded by prepare


def prepare(sandbox_side: str) -> list[str]:
    """Load the plugin's ``sandbox_side`` and every module of its ``PRELOAD`` packages, while their files
    may be read; the folders student code must not read (``secrets``)."""
    SIDE[:] = [plugin.load(sandbox_side, plugin.SANDBOX_SIDE)]
    imported = []
    for name in SIDE[0].PRELOAD:
        package = importlib.import_module(name)
        imported += list(package.__path__)
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module.name.endswith(".widgets") and ".widgets." not in module.name:
                importlib.import_module(module.name)
    return secrets(sandbox_side, imported)


def secrets(sandbox_side: str, imported: list[str]) -> list[str]:
    """This engine's package (the course, its solutions), the plugin's (the hidden checks) and the
    ``imported`` folders (unreadable, so ``importlib.reload`` cannot bring back a disabled
    function), wherever installed."""
    found = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), *imported]
    plugin_package = importlib.util.find_spec(sandbox_side.partition(".")[0])
    found += list(plugin_package.submodule_search_locations or [])
    return sorted({os.path.realpath(path) for path in found})


def split(folder: str, hidden: list[str], listed: set[str]) -> list[str]:
    """``folder``, or, if a hidden folder lies inside it, its other entries (recursively).

    The folders split up are added to ``listed``: their entries may be listed, not read.
    """
    real = os.path.realpath(folder)
    if real in hidden:
        return []
    if not any(path.startswith(real.rstrip(os.sep) + os.sep) for path in hidden):
        return [folder]
    listed.add(folder)
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return []
    return [kept for entry in entries for kept in split(os.path.join(folder, entry), hidden, listed)]


def grants(hidden: list[str]) -> tuple[list[str], list[str]]:
    """What student code may read, and the folders it may only list: the Python installation, nothing of ours.

    Installed from wheels (``autodiff-course``), ``course`` and ``grader_tests`` sit in
    site-packages beside numpy: that folder is then granted entry by entry, without them.
    """
    roots = {sys.base_prefix, sys.prefix, *site.getsitepackages(), "/usr/lib", "/usr/share",
             "/dev/null", "/dev/urandom", "/proc/self", "/etc/localtime"}
    listed: set[str] = set()
    kept = {path for root in roots for path in split(root, hidden, listed)}
    return sorted(kept), sorted(listed)


GRANTS: tuple[list[str], list[str]] = ([], [])  # set by confine, before any confinement, for the children


def confine(scratch: str, hidden: list[str]) -> None:
    """Landlock to the Python installation but ``hidden``, and ``scratch``; limits on memory and files."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    GRANTS[0][:], GRANTS[1][:] = grants(hidden)
    restrict_to(GRANTS[0], [scratch], GRANTS[1])
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def without_magics(source: str) -> str:
    """A cell's source with IPython's ``%magic`` and ``!shell`` lines turned into ``pass``."""
    lines = source.splitlines()
    return "\n".join(line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip()[:1] in ("%", "!")
                     else line for line in lines)


def run_cells(sock: socket.socket, cells: list, namespace: dict) -> None:
    """Run each student cell, telling the judge how it went before starting the next."""
    for cell_id, source in cells:
        wire.send(sock, {"kind": "cell_started", "cell": cell_id})
        filename, code = f"<cell {cell_id}>", without_magics(source)
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)  # lines in tracebacks
        try:
            exec(compile(code, filename, "exec"), namespace)
            wire.send(sock, {"kind": "cell_done", "cell": cell_id, "error": None})
        except BaseException as error:
            wire.send(sock, {"kind": "cell_done", "cell": cell_id,
                             "error": f"{type(error).__name__}: {str(error)[:500]}"})


def serve_checks(sock: socket.socket, namespace: dict) -> None:
    """Run the probes the judge sends until it says ``done``."""
    def ask(request, payload):
        wire.send(sock, {"kind": "ask", "request": request, "payload": SIDE[0].to_plain(payload)})
        reply = wire.receive(sock)
        if reply.get("kind") != "answer":
            raise RuntimeError(str(reply.get("message", "The grader refused the question.")))
        return reply["value"]

    while True:
        message = wire.receive(sock)
        if message.get("kind") != "check":
            return
        result = SIDE[0].run(message["probe"], namespace, message["args"], ask)
        wire.send(sock, {"kind": "result", "value": result})


def child(sock: socket.socket, spec: dict) -> None:
    """Run one graded function's checks on the student's code, then exit."""
    restrict_to(GRANTS[0], [os.getcwd()], GRANTS[1])  # a domain of its own: it cannot signal the server
    for dotted, message in spec["forbidden"]:
        SIDE[0].disable(dotted, message)  # for good: the original code is dropped with what would undo it
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    run_cells(sock, spec["cells"], namespace)
    wire.send(sock, {"kind": "cells_done"})
    serve_checks(sock, namespace)


def fork_dying_with_parent() -> int:
    """``os.fork``, the new process being killed by the kernel when this one dies."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # seen from a new PID namespace, the parent (outside it) has pid 0
        die_with_parent(0 if os.getpid() == 1 else parent)
    return pid


def wait_for(pid: int) -> None:
    """Reap children (orphans included) until ``pid`` has exited."""
    while os.wait()[0] != pid:
        pass


def keeper(sock: socket.socket, spec: dict) -> None:
    """Make the namespaces, fork their first process, which runs ``child``; exit when it ends."""
    os.setpgid(0, 0)  # the judge kills this group: the keeper and the namespace's first process
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    isolate()
    if fork_dying_with_parent() == 0:  # process 1 of the namespace: its death kills all inside
        worker = fork_dying_with_parent()
        if worker == 0:
            child(sock, spec)
            return
        sock.close()  # the judge sees end-of-file as soon as the worker is gone
        wait_for(worker)
        return
    sock.close()
    os.wait()


def serve(control: socket.socket) -> None:
    """Fork a child for every ``fork`` request, handing it the socket that came with the request."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1, 1)
        except OSError:
            return
        if not message or not fds:
            return
        spec = wire.receive(control)
        child_socket = socket.socket(fileno=fds[0])
        pid = fork_dying_with_parent()
        if pid == 0:
            control.close()
            try:
                keeper(child_socket, spec)
            finally:
                os._exit(0)
        with contextlib.suppress(OSError):  # the keeper may have done it already
            os.setpgid(pid, pid)
        child_socket.close()
        wire.send(control, {"kind": "forked", "pid": pid})


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    die_with_parent(int(sys.argv[2]))
    become_subreaper()
    np.seterr(all="ignore")
    confine(os.getcwd(), prepare(sys.argv[3]))
    wire.send(control, {"kind": "ready"})
    serve(control)


if __name__ == "__main__":
    main()
