"""Probes of 01_jacobians: the student-side routines its checks need beyond a plain call."""

from grader_tests.probes import Ask, probe, student_function


@probe("oracle_callback")
def oracle_callback(namespace: dict, args: dict, ask: Ask) -> object:
    """``function(fn, *args)``, where ``fn(v)`` is answered by the judge: ``ask(request, v)``.

    The judge keeps the function (``f``, ``jvp_fn``, ``vjp_fn``) to itself and counts its calls.
    """
    request = args["request"]
    return student_function(namespace, args["function"])(lambda v: ask(request, v), *args["args"])
