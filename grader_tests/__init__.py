"""The hidden tests of the course, which only the grading machine has.

A hidden test cell calls ``grade(assignment, cell_id, globals())``. The checks live in one
module per assignment (``a01_jacobians`` ... ``a06_primitives``); ``checks`` defines what a
check is, ``probes`` the part of each check that runs the student's code, ``feedback`` the
comparisons and the sentences a student reads, ``twins`` what each graded function may not
use, ``runner`` the in-kernel entry point, and ``plugin`` what the grading engine
(``course.sandbox``) loads to run all of it out of the student code's reach.
"""


def grade(assignment: str, cell: str, namespace: dict) -> None:
    """Run hidden test ``cell`` of ``assignment`` on ``namespace`` (see ``runner.grade``).

    Imported on first use, so that importing ``grader_tests.probes`` alone (as the sandbox
    does) loads none of the judge.
    """
    from grader_tests.runner import grade as run_hidden_test

    run_hidden_test(assignment, cell, namespace)
