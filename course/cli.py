"""``autodiff-course``: the instructor's command line (build, grade, demo; the exchange's release,
collect and return-feedback)."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from course import build, demo, exchange, grading, report
from course.sandbox.judge import SandboxUnavailable
from course.sandbox.pool import ClusterUnavailable
from course.workspace import Workspace

DEFAULT_WORKSPACE = Path("course-workspace")
PLAIN_WARNING = ("--engine plain runs each student's code in a kernel with your rights: it can read the "
                 "hidden tests and the solutions and rewrite the gradebook. Use it only for work you trust.")


def progress_bar(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)


def run_build(workspace: Workspace, console: Console) -> None:
    with console.status("Validating the sources and releasing every assignment"):
        releases = build.build(workspace)
    for assignment, path in releases.items():
        console.print(f"released {assignment}: {path}")


def run_grade(workspace: Workspace, submissions: Path, console: Console,
              options: argparse.Namespace) -> grading.GradingRun:
    started = time.perf_counter()
    if options.engine == "plain":
        console.print(f"[yellow]warning:[/] {PLAIN_WARNING}")
    try:
        with progress_bar(console) as progress:
            run = grading.grade(workspace, submissions, progress, options.engine, options.workers,
                                seed=options.seed, scheduler=options.scheduler)
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted.[/] Finished work is kept: run the same command again to resume.")
        raise
    results = report.test_results(workspace)
    report.print_grades(results, console)
    report.print_exercises(results, console)
    for note in run.intake.notes:
        console.print(f"[dim]note:[/] {note}")
    for repaired in run.intake.repairs:
        console.print(f"[cyan]repaired:[/] {repaired}")
    for problem in run.problems:
        console.print(f"[yellow]problem:[/] {problem}")
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in run.seconds.items())
    console.print(f"Graded {run.graded} notebooks in {time.perf_counter() - started:.1f} s ({steps}). "
                  f"Grades: {workspace.grades_csv}. "
                  f"Feedback: {workspace.root / 'feedback'}/<student>/<assignment>/")
    return run


def run_demo(workspace: Workspace, typical: int, console: Console, options: argparse.Namespace) -> None:
    started = time.perf_counter()
    shutil.rmtree(workspace.root, ignore_errors=True)
    run_build(workspace, console)
    students = demo.simulated_class(typical)
    folder = demo.write_class(workspace, students, workspace.root / "simulated-class")
    console.print(f"Simulated class of {len(students)} in {folder}:")
    for student in students:
        made = [f"{m.function}: {m.what}" for m in student.mistakes.values() if m is not None]
        what = "the release, untouched" if student.blank else ("; ".join(made) or "the reference solutions")
        console.print(f"  {student.name}: {what}")
    run_grade(workspace, folder, console, options)
    console.print(f"Demo finished in {time.perf_counter() - started:.0f} s.")


def run_release(workspace: Workspace, assignments: list[str], force: bool, console: Console) -> None:
    for assignment, path in exchange.release(workspace, assignments, force).items():
        console.print(f"released {assignment} to the exchange: {path}")
    settings = workspace.root / "student_nbgrader_config.py"
    settings.write_text(exchange.student_config(workspace))
    console.print(f"Students fetch with `nbgrader fetch_assignment <assignment>`, or JupyterLab's assignment "
                  f"list, once their nbgrader settings are in place: install {settings} as "
                  f"/etc/jupyter/nbgrader_config.py on the hub. {workspace.root} is private to you: it holds "
                  "the solutions.")


def run_collect(workspace: Workspace, assignments: list[str], console: Console,
                options: argparse.Namespace) -> None:
    collected = exchange.collect(workspace, assignments)
    for assignment, students in collected.students.items():
        console.print(f"collected {assignment} from {len(students)} students")
    for refused in collected.refused:
        console.print(f"[yellow]refused:[/] {refused}")
    run_grade(workspace, collected.folder, console, options)


def run_return_feedback(workspace: Workspace, assignments: list[str], console: Console) -> None:
    for assignment, students in exchange.return_feedback(workspace, assignments).items():
        console.print(f"returned feedback on {assignment} to {len(students)} students: {', '.join(students)}")
    console.print("Students fetch theirs with `nbgrader fetch_feedback <assignment>`.")


def add_grading_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--engine", choices=grading.ENGINES, default="sandbox",
                         help="sandbox: judge outside the student's reach, on all cores (default); "
                              "plain: nbgrader's own in-kernel execution, one notebook at a time")
    command.add_argument("--workers", type=int, default=None, help="parallel judges (default: all cores)")
    command.add_argument("--seed", default=None,
                         help="draw every hidden test's cases from this seed (default: the one kept in "
                              "the workspace from the last run, else a new one)")
    command.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                         help="judge on the workers of this Dask scheduler instead of this machine's cores")


def add_exchange_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("assignments", nargs="*", help="which assignments (default: all)")
    command.add_argument("--exchange", type=Path, default=exchange.DEFAULT_EXCHANGE,
                         help=f"nbgrader's exchange folder (default: {exchange.DEFAULT_EXCHANGE})")


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="autodiff-course", description=__doc__)
    main_parser.add_argument("--workspace", type=Path, default=DEFAULT_WORKSPACE,
                             help="where nbgrader writes releases, submissions, the gradebook and feedback "
                                  f"(default: ./{DEFAULT_WORKSPACE})")
    main_parser.add_argument("--db", default=None, metavar="URL",
                             help="the gradebook's database, as nbgrader's db_url (e.g. "
                                  "postgresql+psycopg://user@host/course; default: SQLite in the workspace)")
    commands = main_parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="validate the sources and generate every student release")
    grade = commands.add_parser("grade", help="autograde a folder or zip with one folder per student")
    grade.add_argument("submissions", type=Path)
    demo_parser = commands.add_parser("demo", help="build, simulate a class, grade it end to end")
    demo_parser.add_argument("--typical", type=int, default=3,
                             help="how many simulated students with typical mistakes (default 3)")
    release = commands.add_parser("release", help="put built assignments into nbgrader's exchange")
    release.add_argument("--force", action="store_true", help="replace an assignment already in the exchange")
    collect = commands.add_parser("collect", help="collect submissions from nbgrader's exchange, grade them")
    returning = commands.add_parser("return-feedback", help="release feedback through nbgrader's exchange")
    for command in (grade, demo_parser, collect):
        add_grading_options(command)
    for command in (release, collect, returning):
        add_exchange_options(command)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    workspace = Workspace(args.workspace.resolve(), args.db)
    if "exchange" in args:
        workspace = replace(workspace, exchange=args.exchange.resolve())
    try:
        if args.command == "build":
            run_build(workspace, console)
        elif args.command == "grade":
            run_grade(workspace, args.submissions, console, args)
        elif args.command == "demo":
            run_demo(workspace, args.typical, console, args)
        elif args.command == "release":
            run_release(workspace, args.assignments, args.force, console)
        elif args.command == "collect":
            run_collect(workspace, args.assignments, console, args)
        else:
            run_return_feedback(workspace, args.assignments, console)
    except (build.BuildError, FileNotFoundError, ValueError, SandboxUnavailable, ClusterUnavailable) as error:
        console.print(f"[red]error:[/] {error}")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
