"""What every command shares: the project and identity options, opening the project once,
output options, and how errors reach the user.

Nothing here imports the core at module level, so that ``qualcode --help`` starts at once:
command modules import core modules inside the command functions.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import QualcodeError

if TYPE_CHECKING:
    from ..project import Project
    from ..table import Table

FORMATS_LIST = ("table", "csv", "json")
FORMATS_REPORT = ("table", "csv", "json", "md", "latex", "docx")
FORMATS_MANUSCRIPT = ("table", "csv", "json", "md", "latex", "docx", "xlsx", "html")
BINARY_FORMATS = ("docx", "xlsx")


class CoreChoice(click.Choice):
    """A choice among values the core defines (``module``'s ``name``), imported when an option is
    parsed or its help shown rather than when the CLI starts. Enum members count by value."""

    def __init__(self, module: str, name: str, case_sensitive: bool = True):
        self._source = (module, name)
        self.case_sensitive = case_sensitive

    @functools.cached_property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        module, name = self._source
        return tuple(str(value) for value in getattr(importlib.import_module(module), name))


def root_default(key: str, env: str, fallback: str | None) -> Callable[[], str | None]:
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
    """``--project/-p PATH_OR_URL`` as ``project_target``."""
    return click.option(
        "--project",
        "-p",
        "project_target",
        default=root_default("project", "QUALCODE_PROJECT", "qualcode.db"),
        show_default="qualcode.db",
        metavar="PATH_OR_URL",
        help="Project file or database URL (or $QUALCODE_PROJECT).",
    )(f)


def as_option(f: Callable) -> Callable:
    """``--as NAME`` as ``viewer`` (checked where the project is opened: see :func:`open_project`)."""
    return click.option(
        "--as",
        "viewer",
        metavar="NAME",
        default=root_default("viewer", "QUALCODE_USER", None),
        help="Who is asking (a coder's name, or $QUALCODE_USER): blinding decides what you see.",
    )(f)


def open_project(target: str, viewer: str | None = None, *, create: bool = False) -> Project:
    """The project at ``target``, opened as ``viewer``: a coder bound to a login is claimed only
    from it (checked as it opens). Use it as a context manager, so that it is always closed."""
    from ..project import Project

    return Project(target, create=create, user=viewer)


def pass_project(f: Callable | None = None, *, with_as: bool = True) -> Callable:
    """Adds ``--project`` (and ``--as`` unless ``with_as=False``), opens the project once as the
    viewer, passes it to the command as ``project`` (``project.user`` is the viewer) and closes it
    when the command ends. Commands that check their arguments before touching the project call
    :func:`open_project` themselves instead."""

    def deco(f: Callable) -> Callable:
        @functools.wraps(f)
        def run(*args: Any, project_target: str, viewer: str | None = None, **kwargs: Any) -> Any:
            with open_project(project_target, viewer) as project:
                return f(*args, project=project, **kwargs)

        return project_option(as_option(run) if with_as else run)

    return deco(f) if f is not None else deco


# Options several command groups share.
codebook_option = click.option("--codebook", "codebook", metavar="NAME", help="Codebook (default: the active one).")
round_option = click.option(
    "--round",
    "round_",
    type=int,
    help="Use this round only (default: per transcript, the latest round every compared coder worked in).",
)


def actor_name(viewer: str | None) -> str:
    """Who the audit trail says did something: the viewer, else the operating-system user."""
    if viewer:
        return viewer
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return ""


def verify_viewer(target: str | None, viewer: str | None) -> None:
    """Check a claim to be ``viewer`` against ``target`` as it is, upgrading and creating nothing
    (``init`` judges a claim before it changes anything; a project that cannot be opened as it is
    is left to whoever opens it next)."""
    from ..coding.identity import check_identity
    from ..errors import ProjectError
    from ..project import Project

    if not viewer or not target:
        return
    try:
        project = Project(target, upgrade=False)
    except ProjectError:
        return
    with project, project.read() as s:
        check_identity(s, viewer)


def output_options(formats: tuple[str, ...] = FORMATS_LIST) -> Callable:
    """``--format/-f`` as ``fmt`` and ``--out/-o FILE`` as ``out``."""

    def deco(f: Callable) -> Callable:
        f = click.option(
            "--out",
            "-o",
            "out",
            type=click.Path(dir_okay=False, writable=True),
            help="Write to FILE instead of the terminal.",
        )(f)
        return click.option(
            "--format",
            "-f",
            "fmt",
            type=click.Choice(formats),
            default="table",
            show_default=True,
            help="Output format.",
        )(f)

    return deco


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


def say(message: str, *, err: bool = False) -> None:
    """Print one message that holds user text (a code, a title, a segment's words): control
    characters in it are shown escaped (``terminal_text``), never sent to the terminal."""
    from ..table import terminal_text

    click.echo(terminal_text(message), err=err)


# click's own ways of ending a command (usage errors, --help, aborts) pass through as they are.
_CLICK_ENDINGS = (click.ClickException, click.exceptions.Exit, click.Abort)


class QualcodeGroup(click.Group):
    """A ``QualcodeError`` becomes one line on stderr and its exit status; any other exception is a
    bug: logged with its traceback, reported in one line that says where, exit status 1.
    (Every group of the CLI is one, so that the log names the whole command: ``qualcode codings export``.)"""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name:
            ctx.meta.setdefault(_COMMAND_PATH, []).append(name)  # meta is shared by the whole context tree
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QualcodeError as exc:
            say(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except _CLICK_ENDINGS:
            raise
        except Exception as exc:
            from ..log import log_unexpected

            path = log_unexpected(exc, " ".join(["qualcode", *ctx.meta.get(_COMMAND_PATH, [])]))
            click.echo(f"error: unexpected {type(exc).__name__}: {exc} (a bug; details in {path})", err=True)
            sys.exit(1)


_COMMAND_PATH = "qualcode.command_path"
