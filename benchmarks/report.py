"""Printing the results: the machine and the method at the top, then one table.

The table uses ``rich`` when it is importable (the project's ``bench`` extra), and plain
aligned text otherwise or when asked to.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence

import numpy as np

from benchmarks.harness import Row, Settings
from benchmarks.libraries import Library

try:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text
except ImportError:  # rich is optional: plain text then
    Console = Table = Text = None

COLUMNS = ("benchmark", "case", "library", "measurement", "kit target", "result", "timing")
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _numpy_blas() -> str:
    """NumPy's BLAS and its thread count, as far as it is cheap to find out."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        name = f"{blas['name']} {blas.get('version', '')}".strip()
    except (TypeError, KeyError):  # NumPy < 2 has no mode="dicts"
        name = "unknown BLAS"
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        counts = sorted({f"{info['internal_api']} {info['num_threads']}"
                         for info in threadpool_info() if info["user_api"] == "blas"})
        threads = f"BLAS threads: {', '.join(counts)}"
    else:
        set_variables = [f"{var}={os.environ[var]}" for var in _THREAD_VARIABLES if var in os.environ]
        threads = ("BLAS threads: " + ", ".join(set_variables) if set_variables else
                   "BLAS threads: the library's default, one per usable CPU (none of "
                   f"{', '.join(_THREAD_VARIABLES)} is set)")
    return f"{name}; {threads}"


def machine_lines(libraries: Sequence[Library], settings: Settings, allocator: str) -> list[str]:
    """What the numbers were measured on, and how (``allocator``: the memory policy of the run)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(f"{lib.name} {lib.version}" + (f" ({lib.threads})" if lib.threads else "")
                         for lib in libraries)
    method = (f"wall time (time.perf_counter), the median of {settings.rounds} interleaved round(s), each "
              f"the best of {settings.repeats} batches after {settings.warmup} warm-up call(s); "
              f"batches last ≥ {settings.min_time:g} s")
    lines = [
        f"Machine: {_cpu_model()}, {os.cpu_count()} CPUs ({usable} usable), "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        f"NumPy {np.__version__}: {_numpy_blas()}",
        f"Memory: {allocator}",
        f"Libraries: {versions}",
        f"Timing: {method}",
    ]
    if settings.quick:
        lines.append("Quick run: tiny problems and few repeats, to check that everything runs; "
                     "the times mean little and there are no targets.")
    return lines


def _result(row: Row) -> str:
    if row.passed is None:
        return "n/a" if row.target else ""
    return "PASS" if row.passed else "FAIL"


def _cells(row: Row) -> list[str]:
    return [row.benchmark, row.case, row.library, row.measurement, row.target, _result(row), row.timing]


def _plain_table(rows: Sequence[Row]) -> str:
    table = [list(COLUMNS)] + [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
             for line in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _print_rich(header: Sequence[str], rows: Sequence[Row], notes: Sequence[str]) -> None:
    console = Console(highlight=False)
    if not console.is_terminal:  # piped or captured: do not wrap rows at 80 columns
        console = Console(highlight=False, width=240)
    for line in header:
        console.print(line, markup=False)
    table = Table()
    for column in COLUMNS:
        table.add_column(column)
    styles = {"PASS": "bold green", "FAIL": "bold red", "": ""}
    for row in rows:
        style = styles[_result(row)]
        table.add_row(*(Text(cell, style=style if column == "result" else "")
                        for column, cell in zip(COLUMNS, _cells(row), strict=True)))
    console.print(table)
    for note in notes:
        console.print(f"Note: {note}", markup=False)


def print_report(header: Sequence[str], rows: Sequence[Row], notes: Sequence[str],
                 use_rich: bool | None = None) -> None:
    """Print ``header`` lines, the table of ``rows``, then ``notes`` (rich if available)."""
    if use_rich is None:
        use_rich = Console is not None
    if use_rich:
        _print_rich(header, rows, notes)
        return
    print("\n".join(header), end="\n\n")
    print(_plain_table(rows), end="\n\n")
    for note in notes:
        print(f"Note: {note}")
    sys.stdout.flush()
