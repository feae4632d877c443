"""What the engine asks of the checks it runs: a plugin module, named when grading starts.

The course's plugin is ``grader_tests.plugin``; any module with these names would do.
The judge imports the plugin itself and uses

- ``checks(assignment)``: the checks of an assignment, in order. A check has ``function``
  (the graded function it judges), ``points``, ``cell_id()`` (its test cell), ``case(rng)``
  (a case with ``probe``, plain-data ``args`` and an ``oracle`` that answers the probe's
  questions, or None) and ``judge(case, got)``, which raises ``Failure`` with the sentence
  the student reads;
- ``Failure``: that exception class;
- ``rng_for(assignment, cell, seed)``: the random generator of one check in a session;
- ``forbidden(function)``: ``[(dotted name, sentence)]`` of what the graded function may not use;
- ``SANDBOX_SIDE``: the name of the module the sandbox loads, and nothing else of the plugin.

The sandbox side must never import the judge side (its cases and expected answers would
then sit in the memory of student code). It provides ``PRELOAD``, the packages imported
before the sandbox closes, ``disable(dotted, message)``, which makes a function raise the
message, ``run(probe, namespace, args, ask)``, which runs a probe on the student's
namespace and returns plain data, a ``StudentError`` or an ``Unreadable`` (defined here, as
the wire carries them), and ``to_plain(value)``, which turns what a probe asks the judge
into plain data.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

JUDGE_SIDE = ("checks", "Failure", "rng_for", "forbidden", "SANDBOX_SIDE")
SANDBOX_SIDE = ("PRELOAD", "disable", "run", "to_plain")


@dataclass(frozen=True)
class StudentError:
    """The student's code raised: the exception's type, message and the line it came from."""

    kind: str
    message: str
    line: str = ""


@dataclass(frozen=True)
class Unreadable:
    """The student's code returned something that is not numbers (named by its type)."""

    kind: str


def load(name: str, side: tuple[str, ...] = JUDGE_SIDE) -> ModuleType:
    """Import the plugin module ``name``, checking that it has every name of ``side``."""
    module = importlib.import_module(name)
    missing = [attribute for attribute in side if not hasattr(module, attribute)]
    if missing:
        raise TypeError(f"{name} is not a grading plugin: it lacks {', '.join(missing)}.")
    return module
