"""Probes of 02_orderings: the student-side routines its checks need beyond a plain call."""

from grader_tests.probes import Ask, probe, student_function


@probe("through_matmul")
def through_matmul(namespace: dict, args: dict, ask: Ask) -> object:
    """``function(*args, matmul=...)``, every product made by the judge, which so sees their order."""
    return student_function(namespace, args["function"])(*args["args"],
                                                         matmul=lambda a, b: ask("matmul", (a, b)))


@probe("call_each")
def call_each(namespace: dict, args: dict, ask: Ask) -> list:
    """``[function(*call) for call in calls]``: one function on several inputs."""
    fn = student_function(namespace, args["function"])
    return [fn(*call) for call in args["calls"]]
