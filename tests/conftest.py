"""Shared fixtures: projects on SQLite (always) and PostgreSQL (when configured).

PostgreSQL tests run when ``QUALCODE_TEST_POSTGRES`` holds a server URL (``.ci/run``
sets it); each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
SAMPLES = ROOT / "sample_transcripts"
CODEBOOKS = ROOT / "codebooks"
PG_URL = os.environ.get("QUALCODE_TEST_POSTGRES")


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
