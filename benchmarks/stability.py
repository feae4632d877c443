"""Do regrades agree? The whole catalogue of mistakes judged under many session seeds.

``python benchmarks/stability.py [--seeds 10] [--workers N]`` writes the demo's class with
every catalogued mistake (the reference solutions, the blank release, and one student per
row of mistakes, each making one mistake per notebook), then judges every notebook with the
sandboxed engine once per session seed, as ``autodiff-course grade`` in a fresh workspace
would (nbgrader's recording step is left out: it copies the verdicts). It prints how many
notebooks and how many test cells got a different score under some seed, and which.
The goal is none: a regrade, or the same notebook next term, earns the same score.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from course import build, demo, notebooks
from course.grading import PLUGIN
from course.sandbox.judge import Limits
from course.sandbox.pool import judge_all, local_executor
from course.sandbox.verdicts import Job, VerdictStore
from course.workspace import Workspace

Scores = dict[tuple[str, str, str], float]


def judged(workspace: Workspace, folder: Path, seed: str, workers: int, progress: Progress) -> Scores:
    """``{(student, assignment, cell): score}`` for every notebook of ``folder`` under session ``seed``."""
    jobs = [Job(path.parent.name, path.stem, workspace.notebook("source", path.stem), path)
            for path in sorted(folder.glob("*/*.ipynb"))]
    store = VerdictStore.session(workspace.root / "verdicts" / seed, seed)
    task = progress.add_task(f"seed {seed}", total=len(jobs))
    with local_executor(workers) as executor:
        judge_all(jobs, store, PLUGIN, Limits(), executor, done=lambda job: progress.advance(task))
    return {(job.student, job.assignment, verdict.cell): verdict.score
            for job in jobs for verdict in store.load(job)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="session seeds (default 10)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="judges (default: all cores)")
    args = parser.parse_args(argv)
    console = Console()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stability-") as tmp:
        workspace = Workspace(Path(tmp) / "course")
        console.print("building the course ...", style="dim")
        build.build(workspace)
        folder = demo.write_class(workspace, demo.simulated_class(), Path(tmp) / "class")
        with Progress(console=console, transient=True) as progress:
            runs = [judged(workspace, folder, f"seed-{k}", args.workers, progress) for k in range(args.seeds)]
    scores: dict[tuple[str, str, str], set[float]] = defaultdict(set)
    for run in runs:
        for key, score in run.items():
            scores[key].add(score)
    varying = sorted(key for key, seen in scores.items() if len(seen) > 1)
    notebooks_varying = sorted({(student, assignment) for student, assignment, _ in varying})
    count = len({(student, assignment) for student, assignment, _ in scores})
    table = Table(title=f"{count} notebooks ({len(demo.simulated_class())} students x "
                        f"{len(notebooks.assignments())} assignments) judged under {args.seeds} seeds")
    for column in ("", "varying", "of", "share"):
        table.add_column(column, justify="left" if not column else "right")
    for what, bad, total in (("notebooks", len(notebooks_varying), count),
                             ("test cells", len(varying), len(scores))):
        table.add_row(what, str(bad), str(total), f"{100 * bad / total:.2f} %")
    console.print(table)
    for student, assignment, cell in varying:
        seen = sorted(scores[student, assignment, cell])
        console.print(f"  {student}/{assignment} {cell}: scores {seen}")
    console.print(f"{time.perf_counter() - started:.0f} s on {args.workers} workers", style="dim")
    return 0 if not varying else 1


if __name__ == "__main__":
    sys.exit(main())
