"""The names every docstring example may use without importing them, as the documentation does.

``np`` is NumPy and ``anp`` is ``autodiff_kit.numpy``, as NumPy's own examples take ``np`` as given.
"""

import numpy
import pytest

import autodiff_kit.numpy


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace["np"] = numpy
    doctest_namespace["anp"] = autodiff_kit.numpy
