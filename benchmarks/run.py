"""Run the benchmarks and print one table: ``python benchmarks/run.py [--quick] [--only NAME]``.

Measures autodiff_kit beside autograd and PyTorch (each when installed), after checking
that they compute the same gradients; see ``benchmarks/README.md`` for what each benchmark
measures and the kit's targets.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Run as a script, only benchmarks/ is on the path; make `benchmarks` importable as a package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import checkpointing, hvp, mlp_ratio, orderings, overhead
from benchmarks.allocator import hold_freed_memory
from benchmarks.harness import FULL, QUICK
from benchmarks.libraries import load_libraries
from benchmarks.report import machine_lines, print_report

BENCHMARKS = {module.NAME: module for module in (overhead, mlp_ratio, hvp, orderings, checkpointing)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny problems and few repeats: checks that everything runs, in seconds")
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), metavar="NAME",
                        help=f"run only this benchmark (may be repeated): {', '.join(BENCHMARKS)}")
    parser.add_argument("--plain", action="store_true", help="plain text, even if rich is installed")
    args = parser.parse_args(argv)

    settings = QUICK if args.quick else FULL
    allocator = hold_freed_memory()
    libraries, notes = load_libraries()
    rows = []
    for name in args.only or BENCHMARKS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += BENCHMARKS[name].run(libraries, settings)
    print_report(machine_lines(libraries, settings, allocator), rows, notes,
                 use_rich=False if args.plain else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
