"""Grading a class: the sandboxed parallel engine beside plain sequential nbgrader, in one run.

``python benchmarks/grading.py [--students 60] [--workers N] [--sandbox-only] [--scheduler tcp://HOST:PORT]``
builds the course, makes a
simulated class of full submissions (every student hands in every assignment; student
``k`` makes the ``k``-th catalogued mistake of each assignment, cycling, with the reference
answers in between), then grades the same submissions twice, each in a fresh copy of the
built workspace: with nbgrader's own ``autograde`` (each notebook run in one kernel with its
hidden tests, one notebook after another) and with the sandboxed engine (judging on all
cores, then nbgrader's ``autograde`` applying the verdicts). Feedback is left out of both,
as it is the same nbgrader step either way. It prints notebooks per minute side by side and
whether every test cell got the same score. Every case is drawn from the seed ``benchmark``,
so ``--save FILE`` keeps the sandbox's scores and ``--compare FILE`` checks that another
version of the engine gives the same ones, cell for cell. With ``--scheduler`` the sandbox
judges on a Dask cluster's workers, and the judging rate per worker thread is printed: the
figure to size a cluster with (README, "Sizing").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from course import build, demo, grading, notebooks, report
from course.mistakes import mistakes_of
from course.workspace import Workspace

SEED = "benchmark"  # the same cases for both engines, and for every version of them


def simulated_class(size: int) -> list[demo.SimulatedStudent]:
    """``size`` students; student ``k`` makes mistake ``k`` of each notebook (cycling; None: none)."""
    catalogue = {a: [*mistakes_of(a), None] for a in notebooks.assignments()}
    return [demo.SimulatedStudent(f"student_{k + 1:03d}", {a: m[k % len(m)] for a, m in catalogue.items()})
            for k in range(size)]


def timed_grade(workspace: Workspace, folder: Path, engine: str, workers: int,
                scheduler: str | None = None) -> tuple[float, dict, dict]:
    """Seconds in all, ``{(student, assignment, cell): score}``, and seconds per step."""
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        started = time.perf_counter()
        run = grading.grade(workspace, folder, progress, engine, workers, feedback=False, seed=SEED,
                            scheduler=scheduler)
        elapsed = time.perf_counter() - started
    if run.problems:
        raise RuntimeError(f"{engine} grading reported problems: {run.problems[:3]}")
    scores = {(r.student, r.assignment, r.cell): r.score for r in report.test_results(workspace)}
    return elapsed, scores, run.seconds


def judges_of(scheduler: str | None, workers: int) -> int:
    """How many judges run at once: the cluster's worker threads, or this machine's worker processes."""
    if scheduler is None:
        return workers
    from distributed import Client

    with Client(scheduler, set_as_default=False) as client:
        return sum(worker["nthreads"] for worker in client.scheduler_info()["workers"].values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60, help="class size (default 60)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(),
                        help="sandbox judges (default: all cores)")
    parser.add_argument("--sandbox-only", action="store_true",
                        help="time the sandboxed engine alone (no comparison with plain nbgrader)")
    parser.add_argument("--scheduler", help="judge on this Dask scheduler's workers (sandbox engine)")
    parser.add_argument("--db", help="the sandbox engine's gradebook: an empty database at this URL "
                                     "(default: SQLite, as the plain engine's)")
    parser.add_argument("--save", type=Path, help="write the sandbox's scores to this JSON file")
    parser.add_argument("--compare", type=Path, help="check the sandbox's scores against this JSON file")
    args = parser.parse_args(argv)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as tmp:
        root = Path(tmp)
        built = Workspace(root / "built")
        console.print("building the course ...", style="dim")
        build.build(built)
        folder = demo.write_class(built, simulated_class(args.students), root / "class")
        count = args.students * len(notebooks.assignments())
        results = {}
        engines = ("sandbox",) if args.sandbox_only else ("plain", "sandbox")
        for engine in engines:
            if engine == "sandbox" and args.db:
                workspace = Workspace(root / engine, db=args.db)
                build.build(workspace)  # a database is not copied with the folder
            else:
                workspace = Workspace(root / engine)
                shutil.copytree(built.root, workspace.root)
            console.print(f"grading {count} notebooks with the {engine} engine ...", style="dim")
            results[engine] = timed_grade(workspace, folder, engine, args.workers,
                                          args.scheduler if engine == "sandbox" else None)
    sandbox_time, sandbox_scores, steps = results["sandbox"]
    judges = judges_of(args.scheduler, args.workers)
    where = f"the cluster at {args.scheduler}" if args.scheduler else "this machine"
    console.print(f"sandbox, {judges} judges on {where}: " + ", ".join(f"{step} {seconds:.1f} s"
                                                                    for step, seconds in steps.items()))
    console.print(f"judging: {60 * count / steps['judging']:.1f} notebooks / min, "
                  f"{60 * count / steps['judging'] / judges:.1f} per judge; recording in the gradebook: "
                  f"{60 * count / steps['recording']:.1f} notebooks / min")
    saved = {"/".join(key): score for key, score in sorted(sandbox_scores.items())}
    if args.save:
        args.save.write_text(json.dumps(saved, indent=0))
    if args.compare:
        earlier = json.loads(args.compare.read_text())
        differing = sorted(key for key in earlier.keys() | saved.keys() if earlier.get(key) != saved.get(key))
        console.print(f"Same scores as {args.compare}: {'yes' if not differing else 'NO'} "
                      f"({len(saved)} test cells here, {len(earlier)} there, {len(differing)} differ)")
        for key in differing[:10]:
            console.print(f"  {key}: there {earlier.get(key)}, here {saved.get(key)}")
        if differing:
            return 1
    if args.sandbox_only:
        console.print(f"sandboxed judge, {args.workers} workers: {count} notebooks in {sandbox_time:.1f} s = "
                      f"{60 * count / sandbox_time:.1f} notebooks / min")
        return 0
    plain_time, plain_scores, _ = results["plain"]
    differing = sorted(k for k in plain_scores if plain_scores[k] != sandbox_scores.get(k))
    table = Table(title=f"Grading {args.students} students x {len(notebooks.assignments())} assignments "
                        f"= {count} notebooks")
    for column in ("engine", "wall time", "notebooks / min", "speed-up"):
        table.add_column(column, justify="left" if column == "engine" else "right")
    table.add_row("nbgrader autograde, sequential", f"{plain_time:.1f} s", f"{60 * count / plain_time:.1f}",
                  "1.00x")
    table.add_row(f"sandboxed judge, {args.workers} workers", f"{sandbox_time:.1f} s",
                  f"{60 * count / sandbox_time:.1f}", f"{plain_time / sandbox_time:.2f}x")
    console.print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
                  f"{platform.python_version()}", style="dim")
    console.print(table)
    console.print(f"Identical grades: {'yes' if not differing else 'NO'} "
                  f"({len(plain_scores) - len(differing)} of {len(plain_scores)} test cells agree)")
    for key in differing[:10]:
        console.print(f"  {key}: plain {plain_scores[key]}, sandbox {sandbox_scores.get(key)}")
    return 0 if not differing else 1


if __name__ == "__main__":
    sys.exit(main())
