"""nbgrader's gradebook on a real PostgreSQL server, and the server the tests start for it.

The server (``postgres_server.PostgresServer``, the session fixture ``postgres``) is Debian's
PostgreSQL run as the ``postgres`` user on a random loopback port; ``bash scripts/setup-postgres.sh``
installs it. Where it cannot run, these tests are skipped with the reason.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from course_support import built_workspace, grade
from nbgrader.api import Gradebook
from postgres_server import PostgresServer, skip_reason

from course import cli, demo, report
from course.workspace import Workspace

COURSE = "autodiff"
ASSIGNMENT = "a01_jacobians"
TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
needs_postgres = pytest.mark.skipif(skip_reason() is not None, reason=f"PostgreSQL: {skip_reason()}")


@pytest.fixture
def alembic_on_path(monkeypatch):
    """nbgrader runs ``alembic`` by name to make a gradebook: this Python's ``bin`` goes first on PATH."""
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))


def rows(url: str, query: str) -> list[tuple]:
    """``query``'s rows, read with psycopg itself rather than through nbgrader."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        return connection.execute(query).fetchall()


def accepts_connections(port: int) -> bool:
    try:
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


@pytest.mark.usefixtures("alembic_on_path")
# nbgrader 0.9.6 adds a submission to the session late; SQLAlchemy 2 warns, harmlessly (course.workspace).
@pytest.mark.filterwarnings("ignore:Object of type <Submitted\\w+> not in session")
def test_nbgrader_gradebook_round_trip(postgres):
    url = postgres.create_database("round_trip")
    with Gradebook(url, COURSE) as gradebook:
        assert gradebook.engine.dialect.name == "postgresql"
        gradebook.add_assignment(ASSIGNMENT)
        gradebook.add_notebook(ASSIGNMENT, ASSIGNMENT)
        gradebook.add_grade_cell("test_jacobian", ASSIGNMENT, ASSIGNMENT, max_score=2, cell_type="code")
        gradebook.add_student("ada", first_name="Ada", last_name="Lovelace")
        gradebook.add_submission(ASSIGNMENT, "ada")
        gradebook.find_grade("test_jacobian", ASSIGNMENT, ASSIGNMENT, "ada").auto_score = 1.5
        gradebook.db.commit()

    with Gradebook(url, COURSE) as gradebook:  # a new connection reads back what the first one wrote
        assert [(s.id, s.last_name) for s in gradebook.students] == [("ada", "Lovelace")]
        assert [a.name for a in gradebook.assignments] == [ASSIGNMENT]
        assert gradebook.find_submission(ASSIGNMENT, "ada").score == 1.5
        assert gradebook.find_submission(ASSIGNMENT, "ada").max_score == 2
    assert rows(url, "SELECT id, first_name FROM student") == [("ada", "Ada")]
    assert rows(url, "SELECT auto_score FROM grade") == [(1.5,)]


@pytest.mark.usefixtures("alembic_on_path")
def test_each_database_is_a_new_one(postgres):
    first = postgres.create_database("independent_1")
    with Gradebook(first, COURSE) as gradebook:
        gradebook.add_student("only_in_first")
    second = postgres.create_database("independent_2")
    assert second != first
    assert rows(first, "SELECT id FROM student") == [("only_in_first",)]
    assert rows(second, TABLES) == []


@needs_postgres
def test_stop_shuts_the_server_down_and_removes_its_folder():
    server = PostgresServer()
    server.start()
    folder, port = server.folder, server.port
    assert accepts_connections(port) and (folder / "data" / "PG_VERSION").is_file()
    server.stop()
    assert not accepts_connections(port)
    assert not folder.exists()


CHILD = """
import sys
from postgres_server import PostgresServer
server = PostgresServer()
server.start()
print(server.process.pid, server.port, server.folder, flush=True)
sys.stdin.read()
"""


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, dead but not yet reaped, is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@needs_postgres
def test_the_server_dies_with_the_process_that_started_it():
    with subprocess.Popen([sys.executable, "-c", CHILD], cwd=Path(__file__).parent, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as child:
        started = child.stdout.readline().split()
        assert started, "the child process could not start a server (its error is above)"
        pid, port, folder = int(started[0]), int(started[1]), Path(started[2])
        try:
            assert running(pid) and accepts_connections(port)
            child.kill()  # SIGKILL: no finally, no atexit
            child.wait()
            deadline = time.monotonic() + 10
            while running(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not running(pid)
            assert not accepts_connections(port)
        finally:
            child.kill()
            if running(pid):  # the test failed: the server is still up
                os.kill(pid, signal.SIGKILL)
            shutil.rmtree(folder, ignore_errors=True)


def test_a_class_graded_into_postgresql_gets_the_grades_of_sqlite(postgres, course_cache, tmp_path):
    """The whole command on a PostgreSQL gradebook (``--db``, recording in parallel), beside SQLite."""
    sqlite = built_workspace(course_cache, tmp_path / "sqlite")
    folder = demo.write_class(sqlite, demo.simulated_class(typical=2), tmp_path / "class")
    url = postgres.create_database("graded_class")
    on_server = ["--workspace", str(tmp_path / "postgres"), "--db", url]
    assert cli.main([*on_server, "build"]) == 0
    assert cli.main([*on_server, "grade", str(folder), "--workers", "2", "--seed", "same"]) == 0
    _, expected = grade(sqlite, folder, workers=2, seed="same")
    postgres_workspace = Workspace(tmp_path / "postgres", db=url)
    got = {(r.student, r.assignment, r.cell): r.score for r in report.test_results(postgres_workspace)}
    assert got == expected and len(got) > 100
    assert not postgres_workspace.gradebook.exists()  # nothing went to SQLite
    assert rows(url, "SELECT count(*) FROM student") == [(len(list(folder.iterdir())),)]
