"""What the store promises beyond the happy path: a database password is never shown, an
upgrade's backup is complete or absent, a project that cannot be written still reads."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qualcode.cli.main import cli
from qualcode.errors import ProjectError
from qualcode.project import Project
from qualcode.store.engine import redacted, scrub

SECRET = "s3cret"
UNREACHABLE = f"postgresql://u:{SECRET}@127.0.0.1:1/x"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


# -- passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        (UNREACHABLE, "postgresql://u:***@127.0.0.1:1/x"),
        ("postgresql://u:a/b%40c@h/x", "postgresql://u:***@h/x"),
        ("postgresql://u@h/x?password=q9&sslmode=disable", "postgresql://u@h/x?password=***&sslmode=disable"),
        ("postgresql://u:s3cret@h:notaport/x", "postgresql://u:***@h:notaport/x"),
        ("postgresql://h/x", "postgresql://h/x"),
        ("study.db", "study.db"),
    ],
)
def test_redacted_hides_a_urls_password_and_leaves_paths(target, shown):
    assert redacted(target) == shown


def test_scrub_removes_the_password_as_written_and_decoded():
    target = "postgresql://u:p%40ss@h/x?password=q9"
    message = f"cannot parse {target}: p@ss p%40ss q9"
    assert scrub(message, target) == "cannot parse postgresql://u:***@h/x?password=***: *** *** ***"


@pytest.mark.parametrize("target", [UNREACHABLE, f"postgresql://u:{SECRET}@127.0.0.1:notaport/x"])
def test_an_unreachable_or_malformed_url_is_one_line_without_its_password(target):
    result = run("-p", target, "status")
    assert result.exit_code == 2, result.output
    assert SECRET not in result.output
    assert "u:***@127.0.0.1" in result.output and "cannot open project" in result.output
    with pytest.raises(ProjectError) as caught:
        Project(target)
    assert SECRET not in str(caught.value) and caught.value.__cause__ is None


def test_status_and_init_show_the_url_without_its_password(pg_url):
    """The test server trusts local connections, so a password in the URL is accepted and ignored."""
    with_password = pg_url.replace("://postgres@", f"://postgres:{SECRET}@", 1)
    if with_password == pg_url:
        pytest.skip("QUALCODE_TEST_POSTGRES has no user to add a password to")
    created = run("-p", with_password, "init")
    assert created.exit_code == 0, created.output
    status = run("-p", with_password, "status")
    assert status.exit_code == 0, status.output
    assert SECRET not in created.output + status.output
    assert f"project: {redacted(with_password)}" in status.output
