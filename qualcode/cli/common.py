"""What every command shares: the project and identity options, opening the project once,
output options, and how errors reach the user.

Nothing here imports the core at module level, so that ``qualcode --help`` starts at once:
command modules import core modules inside the command functions.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..errors import QualcodeError

if TYPE_CHECKING:
    from sqlmodel import Session

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


# The widest integer a project stores (SQLite INTEGER, PostgreSQL BIGINT): a number typed beyond
# it can name nothing, and the database would refuse it with an overflow rather than an answer.
STORED_INT_MAX = 2**63 - 1


def _parameter_name(param: click.Parameter | None, fallback: str) -> str:
    if isinstance(param, click.Option) and param.opts:
        return param.opts[0]
    return param.human_readable_name if param is not None else fallback


def check_stored_int(number: int, name: str, minimum: int = 1) -> int:
    """``number`` if a project could hold it (``minimum`` .. 2^63-1), else one line naming ``name``, exit 2."""
    if number < minimum:
        raise QualcodeError(f"{name} {number}: must be {minimum} or more")
    if number > STORED_INT_MAX:
        raise QualcodeError(f"{name} {number}: too large (at most {STORED_INT_MAX})")
    return number


class StoredInt(click.ParamType):
    """An integer option a project stores or looks up (a round, an id, an offset): click's INTEGER,
    but a number out of range (``minimum`` .. 2^63-1) is one line and exit 2 rather than an overflow."""

    name = "integer"  # the metavar INTEGER, as with type=int

    def __init__(self, minimum: int = 1):
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = click.INT.convert(value, param, ctx)
        return check_stored_int(number, _parameter_name(param, "number"), self.minimum)


class StoredRef(click.ParamType):
    """A reference typed as text that may hold a stored number: a transcript (an id or a title) or,
    with ``positions``, a segment (``#ID``, a bare id, ``TITLE:POSITION``). The text is passed on as
    it is; only a number in it that no project could hold is refused (one line, exit 2)."""

    name = "text"

    def __init__(self, positions: bool = False):
        self.positions = positions

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        stripped = text.strip()
        number = stripped[1:] if self.positions and stripped.startswith("#") else stripped
        if self.positions and not number.isdigit():
            number = stripped.rpartition(":")[2].strip()  # TITLE:POSITION
        if number.isascii() and number.isdigit() and int(number) > STORED_INT_MAX:
            name = _parameter_name(param, "reference")
            what = "an id or position" if self.positions else "an id"
            raise QualcodeError(f"{name} {text!r}: {number} is too large to be {what} (at most 2^63-1)")
        return text


stored_number = StoredInt()  # a round, an id: 1 or more
stored_offset = StoredInt(minimum=0)  # a character offset, a seed: 0 or more
transcript_ref = StoredRef()
segment_ref = StoredRef(positions=True)

# Options several command groups share.
codebook_option = click.option("--codebook", "codebook", metavar="NAME", help="Codebook (default: the active one).")
round_option = click.option(
    "--round",
    "round_",
    type=stored_number,
    help="Use this round only (default: per transcript, the latest round every compared coder worked in).",
)


def audit_actor(session: Session, viewer: str | None) -> str:
    """Who the audit trail names (``coding.identity.audit_actor``), imported when a command writes."""
    from ..coding.identity import audit_actor as actor

    return actor(session, viewer)


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


def _checked_out(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--out`` into a folder that does not exist is refused as the command starts, before any work."""
    if value:
        from ..export.writers import output_path

        output_path(value)
    return value


def format_for_output(fmt: str, out: str | None, formats: tuple[str, ...], *, fmt_given: bool) -> str:
    """The format to write: ``--out``'s suffix decides unless ``--format`` was given, and a given
    format that disagrees with a known suffix is refused (a .docx that holds a plain-text table is
    a file Word cannot open)."""
    if not out:
        return fmt
    from pathlib import Path

    from ..export.writers import FORMAT_BY_SUFFIX

    suffix = Path(out).suffix.lower()
    wanted = FORMAT_BY_SUFFIX.get(suffix)
    if wanted is None:
        return fmt
    if fmt_given and fmt != wanted:
        raise QualcodeError(f"--format {fmt} but --out {out} asks for {wanted} by its suffix: make them agree")
    if wanted not in formats:
        raise QualcodeError(f"{out}: this command cannot write {suffix} files (formats: {', '.join(formats)})")
    return wanted


def output_options(formats: tuple[str, ...] = FORMATS_LIST) -> Callable:
    """``--format/-f`` as ``fmt`` and ``--out/-o FILE`` as ``out``; the command receives the format
    ``format_for_output`` settles on (from ``--out``'s suffix unless ``--format`` was given)."""

    def deco(command: Callable) -> Callable:
        @functools.wraps(command)
        def settled(*args: Any, **kwargs: Any) -> Any:
            ctx = click.get_current_context()
            source = ctx.get_parameter_source("fmt")
            given = source is not None and source not in (
                click.core.ParameterSource.DEFAULT,
                click.core.ParameterSource.DEFAULT_MAP,
            )
            kwargs["fmt"] = format_for_output(kwargs["fmt"], kwargs.get("out"), formats, fmt_given=given)
            return command(*args, **kwargs)

        f: Callable = click.option(
            "--out",
            "-o",
            "out",
            type=click.Path(dir_okay=False, writable=True),
            callback=_checked_out,
            help="Write to FILE instead of the terminal.",
        )(settled)
        f = click.option(
            "--format",
            "-f",
            "fmt",
            type=click.Choice(formats),
            default="table",
            show_default=True,
            help="Output format (with --out, its suffix chooses: .docx, .xlsx, .csv, .md, .tex, .html, .json, .txt).",
        )(f)
        if "latex" in formats:  # a manuscript table: its number and, in LaTeX, its page
            f = click.option(
                "--landscape",
                is_flag=True,
                expose_value=False,
                callback=_remember(TABLE_LANDSCAPE),
                help="LaTeX: set the table on a landscape page (one too wide for a portrait page goes there anyway).",
            )(f)
            f = click.option(
                "--number",
                type=click.IntRange(1),
                expose_value=False,
                callback=_remember(TABLE_NUMBER),
                help='Number the table for the manuscript: "Table N" above its title (LaTeX numbers tables itself).',
            )(f)
        return f

    return deco


# Manuscript options every table command shares, kept in the click context for ``emit``.
TABLE_NUMBER = "qualcode.table_number"
TABLE_LANDSCAPE = "qualcode.table_landscape"


def _remember(key: str) -> Callable:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        ctx.meta[key] = value
        return value

    return callback


def emit(table: Table, fmt: str, out: str | None, *, json_data: Any = None) -> None:
    """Write ``table`` (or ``json_data`` for --format json) to ``out`` or stdout. JSON holds no
    Infinity or NaN (they are null); ``out`` in a folder that does not exist is one line, exit 2."""
    from ..export.machine import json_text
    from ..export.writers import output_path, render, write

    meta = click.get_current_context(silent=True)
    if meta is not None:
        table.number = meta.meta.get(TABLE_NUMBER) or table.number
        table.landscape = bool(meta.meta.get(TABLE_LANDSCAPE)) or table.landscape

    if fmt == "json" and json_data is not None:
        data: str | bytes = json_text(json_data, default=str)
        if out:
            output_path(out).write_text(data, encoding="utf-8")
    elif out:
        write(table, out, fmt)
    elif fmt in BINARY_FORMATS:
        raise QualcodeError(f"--format {fmt} writes a file: give --out FILE")
    else:
        data = render(table, fmt, width=terminal_columns() if fmt == "table" else None)
    if out:
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(data, nl=False)


def terminal_columns() -> int | None:
    """The width to fit a table printed on stdout: ``$COLUMNS`` when set, else the terminal's
    when stdout is one; None (no limit) when the output goes to a pipe or a file."""
    import os
    import shutil

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


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
            from ..errors import storage_full

            full = storage_full(exc)
            if full is not None:  # not a bug: the user can free space and run the command again
                say(f"error: {full}", err=True)
                sys.exit(full.exit_code)
            from ..log import log_unexpected

            path = log_unexpected(exc, " ".join(["qualcode", *ctx.meta.get(_COMMAND_PATH, [])]))
            # One line: a driver's message can run to several (the SQL, a link); the log has it whole.
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            click.echo(f"error: unexpected {type(exc).__name__}: {first} (a bug; details in {path})", err=True)
            sys.exit(1)


_COMMAND_PATH = "qualcode.command_path"
