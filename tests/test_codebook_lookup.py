"""Naming codebooks and codes on the command line."""

from __future__ import annotations

import pytest

from qualcode.codebook.lookup import CodeResolver, get_codebook
from qualcode.errors import QualcodeError
from qualcode.store.models import Codebook

from .builders import build_codebook


def test_codebooks_by_exact_name_or_unique_prefix(project):
    build_codebook(project, name="CQR: collaboration in a leadership program", kind="cqr")
    build_codebook(project, name="Conditions")
    with project.transaction() as s:
        s.add(Codebook(name="Conditions (draft)", kind="provisional"))
    with project.read() as s:
        assert get_codebook(s, "cqr").kind == "cqr"  # unique prefix, any case
        assert get_codebook(s, "Conditions").name == "Conditions"  # exact beats prefix
        with pytest.raises(QualcodeError, match="ambiguous"):
            get_codebook(s, "con")
        with pytest.raises(QualcodeError, match="unknown codebook"):
            get_codebook(s, "nothing")


def test_codes_by_name_key_or_path(project):
    build_codebook(project)
    with project.read() as s:
        resolver = CodeResolver(s, get_codebook(s))
        assert resolver.resolve("sa").name == "Supportive administration"
        assert resolver.resolve("work design").key == "WD"
        with pytest.raises(QualcodeError, match="unknown code"):
            resolver.resolve("Nope")
