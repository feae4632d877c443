"""The README's Python examples run as written and give the results they show, so the docs
cannot drift from the code: each block is a doctest (``>>>`` lines and their output).

Blocks marked ``py`` instead of ``python`` are deployment sketches for systems a test cannot
start (SLURM, Kubernetes, a hub's Dask-Gateway); the code they call is tested against a real
local cluster (``tests/test_cluster.py``)."""

import doctest
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_the_readme_has_python_examples():
    assert len(PYTHON_BLOCKS) >= 2


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))])
def test_readme_example_gives_the_results_it_shows(block):
    test = doctest.DocTestParser().get_doctest(block, {}, README.name, str(README), 0)
    assert any(example.want for example in test.examples), "a README example shows no result to check"
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report: list[str] = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
