"""Shared fixtures: projects on SQLite (always) and PostgreSQL (when configured).

PostgreSQL tests run when ``QUALCODE_TEST_POSTGRES`` holds a server URL (``.ci/run``
sets it); each test gets a schema of its own, dropped afterwards, so tests running in
parallel (pytest-xdist workers) never share tables.

The demo study takes seconds to build: it is built once per test process (``demo_file``)
and each test that uses it opens a copy of its own (``demo_copy``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
SAMPLES = ROOT / "sample_transcripts"
CODEBOOKS = ROOT / "codebooks"
PG_URL = os.environ.get("QUALCODE_TEST_POSTGRES")


@pytest.fixture(autouse=True)
def _no_terminal_width(monkeypatch):
    """CLI tables fit $COLUMNS when it is set (some libraries set it in the process): tests see the
    natural width unless they set it themselves."""
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.fixture(scope="session", autouse=True)
def _log_outside_home(tmp_path_factory):
    """Unexpected errors raised on purpose by tests are logged under the run's temp folder,
    never into the user's ~/.local/state (subprocesses inherit the variable too)."""
    previous = os.environ.get("QUALCODE_LOG")
    os.environ["QUALCODE_LOG"] = str(tmp_path_factory.mktemp("state") / "qualcode.log")
    yield
    if previous is None:
        os.environ.pop("QUALCODE_LOG", None)
    else:
        os.environ["QUALCODE_LOG"] = previous


@pytest.fixture
def log_file(tmp_path, monkeypatch):
    """A fresh log handler writing to a file of this test's own."""
    import qualcode.log

    path = tmp_path / "state" / "qualcode.log"
    monkeypatch.setenv("QUALCODE_LOG", str(path))
    monkeypatch.delenv("QUALCODE_LOG_LEVEL", raising=False)
    qualcode.log.reset()
    level = qualcode.log.logger.level
    yield path
    qualcode.log.reset()
    qualcode.log.logger.setLevel(level)


@pytest.fixture
def corpora() -> Path:
    """``../shared/corpora``; tests that read it skip where it is absent."""
    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora is not here")
    return CORPORA


@pytest.fixture
def refi_schemas() -> Path:
    path = SHARED / "refi-qda"
    if not path.is_dir():
        pytest.skip("../shared/refi-qda is not here")
    return path


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url():
    """A PostgreSQL URL whose search_path is a fresh, empty schema."""
    if not PG_URL:
        pytest.skip("QUALCODE_TEST_POSTGRES is not set")
    import psycopg

    schema = f"qc_test_{uuid.uuid4().hex[:12]}"
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield _pg_schema_url(PG_URL, schema)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def project_path(tmp_path) -> Path:
    return tmp_path / "study.db"


@pytest.fixture
def project(project_path):
    """A fresh, empty SQLite project."""
    from qualcode.project import Project

    p = Project(project_path, create=True)
    yield p
    p.close()


@pytest.fixture(params=["sqlite", "postgres"])
def any_project(request, tmp_path):
    """A fresh, empty project on each engine (PostgreSQL skipped where not configured)."""
    from qualcode.project import Project

    if request.param == "sqlite":
        target = str(tmp_path / "study.db")
    else:
        target = request.getfixturevalue("pg_url")
    p = Project(target, create=True)
    yield p
    p.close()


@contextmanager
def _exclusive(lock_path: Path):
    """Holds an exclusive lock on ``lock_path`` (parallel workers wait for each other); a no-op without fcntl."""
    try:
        import fcntl
    except ImportError:  # Windows: each worker then builds in its own folder, see demo_file
        yield
        return
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory) -> Path:
    """The demo study, built once per test run. Never open it: open ``demo_copy`` (or copy it).

    Parallel workers (pytest-xdist) share one build in the run's common temporary folder: the
    first to need it builds it under a lock, the others wait for it and then reuse it.
    """
    from qualcode.demo import build_demo

    base = tmp_path_factory.getbasetemp()
    shared = os.environ.get("PYTEST_XDIST_WORKER") and os.name == "posix"
    folder = (base.parent if shared else base) / "demo-study"
    folder.mkdir(exist_ok=True)
    path, built = folder / "demo.db", folder / "built"
    with _exclusive(folder / "lock"):
        if not built.exists():
            path.unlink(missing_ok=True)  # a build cut short
            build_demo(path).close()
            built.touch()
    return path


def copy_demo(demo_file: Path, folder: Path) -> Path:
    """A private copy of the demo study's file in ``folder`` (named demo.db, as built)."""
    target = folder / "demo.db"
    shutil.copy(demo_file, target)
    return target


@pytest.fixture
def demo_copy(demo_file, tmp_path) -> Path:
    """The path of this test's own copy of the demo study."""
    return copy_demo(demo_file, tmp_path)
