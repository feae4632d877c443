"""Confining a process's file access with Linux Landlock, so student code cannot read secrets.

Landlock (Linux 5.13+) lets an unprivileged process give up access rights for itself and
every process it later forks: once ``restrict_to`` returns, files outside the listed folders
cannot be opened, listed, written or executed, whatever their permissions say, and the
process cannot ptrace or signal processes outside its domain. Where the kernel has
Landlock's network rules (ABI 4), TCP binds and connections are refused too. The grader's sandbox calls it
after importing everything it needs, so the gradebook, the hidden tests and the course's
solutions are out of reach of the code it then runs.

Three system calls do it (numbers for x86_64 and aarch64 are the same generic ones):
``landlock_create_ruleset`` names the rights handled, ``landlock_add_rule`` grants some of
them beneath a folder, ``landlock_restrict_self`` enforces the ruleset.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable

CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

# Filesystem rights by ABI version (include/uapi/linux/landlock.h).
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_RIGHTS_ABI1 = (1 << 13) - 1  # execute ... make_sym
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
BIND_TCP, CONNECT_TCP = 1 << 0, 1 << 1
READ_ONLY = EXECUTE | READ_FILE | READ_DIR


class LandlockUnavailable(OSError):
    """The kernel cannot confine file access (too old, or Landlock disabled at boot)."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The Landlock ABI the kernel offers, or 0 if none."""
    if sys.platform != "linux":
        return 0
    version = _libc.syscall(CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(version, 0)


def _handled_rights(abi: int) -> int:
    rights = FS_RIGHTS_ABI1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def _check(result: int, what: str) -> int:
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")
    return result


def restrict_to(read_only: Iterable[str], read_write: Iterable[str], list_only: Iterable[str] = ()) -> int:
    """Allow this process (and its children) only the listed folders; return the ABI used.

    ``list_only``: folders whose entries may be listed (and whose subfolders too), but whose
    files stay closed unless granted by ``read_only``.
    """
    abi = abi_version()
    if abi < 1:
        raise LandlockUnavailable("Landlock is not available on this kernel, so the sandbox cannot hide "
                                  "the gradebook and the hidden tests from student code.")
    handled = _handled_rights(abi)
    scoped = (SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if abi >= 6 else 0
    network = (BIND_TCP | CONNECT_TCP) if abi >= 4 else 0  # handled, and no rule grants them
    attr = _RulesetAttr(handled, network, scoped)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = _check(_libc.syscall(CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                                   ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        grants = ([(path, READ_ONLY) for path in read_only] + [(path, handled) for path in read_write]
                  + [(path, READ_DIR) for path in list_only])
        for path, rights in grants:
            if not os.path.exists(path):
                continue
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                if not os.path.isdir(path):
                    rights &= EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
                rule = _PathBeneathAttr(rights & handled, fd)
                _check(_libc.syscall(ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule),
                                     ctypes.c_uint32(0)), f"landlock_add_rule({path})")
            finally:
                os.close(fd)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
        _check(_libc.syscall(RESTRICT_SELF, ruleset, ctypes.c_uint32(0)), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi
