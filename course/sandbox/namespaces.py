"""Keeping student processes from outliving their check or reaching the network.

Student code may fork, call ``setsid`` and fork again, start daemon threads, or open
sockets. Three mechanisms could bound its processes: a process group (escaped by
``setsid``), a child subreaper (the orphans come back, but killing them means scanning
``/proc`` while they keep forking), or a cgroup (``cgroup.kill`` is exact, but needs a
delegated cgroup hierarchy that an instructor's machine rarely has). A **PID namespace**
is exact and needs no set-up: when the first process of a namespace dies, the kernel
kills every process in it, however it tried to detach. Created together with a user
namespace it needs no privilege, and a **network namespace** made in the same call holds
only a loopback device that is down, so no socket reaches anything, TCP, UDP or Unix
abstract addresses alike.

``die_with_parent`` is the other half of leaving nothing behind: every process the grader
starts asks the kernel for SIGKILL when its parent dies, so ``kill -9`` of the command
takes the whole tree down with it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36

_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies; exit now if ``parent`` is gone already."""
    if sys.platform == "linux":
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def become_subreaper() -> None:
    """Have this process's orphaned descendants reparented to it rather than to the machine's init.

    A namespace's first process outlives its keeper by a moment; reparented to a server that
    ignores SIGCHLD it is reaped at once, where a container's init might leave it a zombie.
    """
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def isolate() -> None:
    """Put this process's next children in new user, PID and network namespaces.

    The first child forked afterwards is process 1 of the new PID namespace: when it dies,
    the kernel kills every process that was started inside.
    """
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"unshare: {os.strerror(error)}")


def available() -> str | None:
    """None if this machine can isolate student processes; else why not, in a sentence."""
    if sys.platform != "linux":
        return f"this is {sys.platform}, not Linux"
    pid = os.fork()
    if pid == 0:
        try:
            isolate()
        except OSError:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return ("this kernel does not let the grader create user namespaces (unprivileged user namespaces "
                "are disabled, for instance by `kernel.unprivileged_userns_clone=0` or an AppArmor policy)")
    return None
