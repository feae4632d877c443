"""The memory allocator, held to one policy for the whole run.

glibc's ``malloc`` serves a block larger than its *mmap threshold* (128 KiB at start) with
fresh pages from the kernel and hands them back on ``free``, so every new array of that size
page-faults its memory in again (a 1 MiB array: 256 faults). The threshold also moves by
itself, up to the largest block freed so far, so whether an array of the large MLP
(256 × 512 doubles, 1 MiB) pays those faults depends on what the process did before: the
same gradient measured 8 ms or 13 ms. Every library in the run allocates through the same
``malloc`` (NumPy, and PyTorch's CPU tensors), so the run fixes the threshold high, and
freed memory is kept for reuse: every library then pays the same for a new array.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters, from glibc's <malloc.h>
THRESHOLD = 32 * 1024 * 1024  # the largest mmap threshold glibc accepts on 64-bit machines


def hold_freed_memory() -> str:
    """Keep blocks up to 32 MiB in the process after ``free``; say what was done."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return "the platform's default (no glibc mallopt to fix it)"
    if not (mallopt(M_MMAP_THRESHOLD, THRESHOLD) and mallopt(M_TRIM_THRESHOLD, 2 * THRESHOLD)):
        return "the platform's default (glibc refused the thresholds)"
    return ("glibc malloc, blocks up to 32 MiB kept for reuse after free, for every library "
            "(mmap threshold fixed at 32 MiB; see benchmarks/allocator.py)")
