"""Speed of autodiff_kit beside autograd and PyTorch: ``python benchmarks/run.py``.

One module per benchmark (``overhead``, ``mlp_ratio``, ``orderings``), each exposing ``NAME`` and
``run(libraries, settings) -> list[Row]``; ``libraries`` puts the compared libraries behind
one interface, ``timing`` measures, ``harness`` holds what the benchmarks share, and
``report`` prints the table. See ``benchmarks/README.md``.
"""
