"""What every command shares: the project option, identity, output options and errors."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from ..errors import QualcodeError
from ..table import Table

FORMATS_LIST = ("table", "csv", "json")
FORMATS_REPORT = ("table", "csv", "json", "md", "latex", "docx")
FORMATS_MANUSCRIPT = ("table", "csv", "json", "md", "latex", "docx", "xlsx", "html")
BINARY_FORMATS = ("docx", "xlsx")


def _from_root(key: str, env: str, fallback: str | None) -> Callable[[], str | None]:
    """Default for a command option: the top-level ``qualcode -p X --as Y`` value, else ``$env``.

    The explicit top-level option must beat the environment, so the environment is read here
    rather than through click's ``envvar`` (which would win over any default).
    """

    def default() -> str | None:
        ctx = click.get_current_context(silent=True)
        obj = ctx.find_root().obj if ctx is not None else None
        return (obj or {}).get(key) or os.environ.get(env) or fallback

    return default


def project_option(f: Callable) -> Callable:
    return click.option(
        "--project", "-p", "project_target", default=_from_root("project", "QUALCODE_PROJECT", "qualcode.db"),
        show_default="qualcode.db", metavar="PATH_OR_URL", help="Project file or database URL (or $QUALCODE_PROJECT).",
    )(f)


def as_option(f: Callable | None = None, *, check: bool = True) -> Callable:
    """``--as NAME``; unless ``check=False``, the claim is checked against ``--project`` first
    (a coder bound to a login is claimed only from it)."""
    def deco(f: Callable) -> Callable:
        @functools.wraps(f)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if check:
                verify_viewer(kwargs.get("project_target"), kwargs.get("viewer"))
            return f(*args, **kwargs)

        return click.option(
            "--as", "viewer", metavar="NAME", default=_from_root("viewer", "QUALCODE_USER", None),
            help="Who is asking (a coder's name, or $QUALCODE_USER): blinding decides what you see.",
        )(checked)

    return deco(f) if f is not None else deco


def verify_viewer(target: str | None, viewer: str | None) -> None:
    """Before any command runs as ``viewer``: a coder bound to a login is claimed only from it.
    A project that cannot be opened is left to the command, which says why."""
    from ..coding.identity import check_identity
    from ..errors import ProjectError
    from ..project import Project

    if not viewer or not target:
        return
    try:
        # Never upgraded here: a project before version 4 cannot bind anyone, and a newer or
        # broken one is the command's to report.
        project = Project(target, upgrade=False)
    except ProjectError:
        return
    with project, project.read() as s:
        check_identity(s, viewer)


def output_options(formats: tuple[str, ...] = FORMATS_LIST) -> Callable:
    def deco(f: Callable) -> Callable:
        f = click.option("--out", "-o", "out", type=click.Path(dir_okay=False, writable=True), help="Write to FILE instead of the terminal.")(f)
        f = click.option("--format", "-f", "fmt", type=click.Choice(formats), default="table", show_default=True, help="Output format.")(f)
        return f
    return deco


def open_project_for(target: str, viewer: str | None = None, create: bool = False):
    from ..project import Project

    return Project(target, create=create, user=viewer)


def emit(table: Table, fmt: str, out: str | None, *, json_data: Any = None) -> None:
    """Write ``table`` (or ``json_data`` for --format json) to ``out`` or stdout."""
    from ..export.writers import render, write

    if fmt == "json" and json_data is not None:
        data: str | bytes = json.dumps(json_data, indent=2, default=str, ensure_ascii=False) + "\n"
        if out:
            Path(out).write_text(data, encoding="utf-8")
    elif out:
        write(table, out, fmt)
    elif fmt in BINARY_FORMATS:
        raise QualcodeError(f"--format {fmt} writes a file: give --out FILE")
    else:
        data = render(table, fmt)
    if out:
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(data, nl=False)


def fail(message: str, code: int = 2) -> None:
    raise QualcodeError(message, exit_code=code)


class QualcodeGroup(click.Group):
    """Turns ``QualcodeError`` into one line on stderr and its exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QualcodeError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


def handles_errors(f: Callable) -> Callable:
    """For commands run outside the group (tests calling a command directly)."""

    @functools.wraps(f)
    def wrapper(*a: Any, **kw: Any) -> Any:
        try:
            return f(*a, **kw)
        except QualcodeError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper
