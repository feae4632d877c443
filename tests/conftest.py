"""Fixtures shared by the tests that grade through the real pipeline."""

import pytest
from dask_cluster import DaskCluster
from postgres_server import PostgresServer, skip_reason


@pytest.fixture(scope="session")
def course_cache(tmp_path_factory):
    """A folder where the course is built once per test session (see ``course_support``)."""
    return tmp_path_factory.mktemp("built-course")


@pytest.fixture(scope="session")
def dask_cluster():
    """A Dask scheduler and two worker processes on 127.0.0.1, started once per session (``dask_cluster``)."""
    cluster = DaskCluster(workers=2)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (``postgres_server``), started once per session, when first asked for."""
    reason = skip_reason()
    if reason:
        pytest.skip(f"PostgreSQL: {reason}")
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()
