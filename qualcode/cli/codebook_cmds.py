"""``qualcode codebook ...``: load, inspect, export and change codebooks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import QualcodeError
from ..table import Table
from .common import (
    CoreChoice,
    QualcodeGroup,
    as_option,
    emit,
    open_project,
    output_options,
    pass_project,
    project_option,
)

if TYPE_CHECKING:
    from ..project import Project

FORMATS = "qualcode.codebook.formats"
SHOW_FORMATS = ("table", "md", "json", "yaml")
FIELD_OPTIONS = (
    ("key", "Short key, e.g. SV."),
    ("hotkey", "Key that applies the code while coding."),
    ("color", "Colour as #rrggbb."),
    ("brief", "Brief definition (one line)."),
    ("definition", "Full definition."),
    ("inclusion", "When to use."),
    ("exclusion", "When not to use."),
    ("example", "A typical example."),
)


def codebook_name_option(f: Callable) -> Callable:
    return click.option(
        "--codebook", "-c", "codebook_name", metavar="NAME", help="Which codebook (default: the active one)."
    )(f)


def field_options(f: Callable) -> Callable:
    for name, help_text in reversed(FIELD_OPTIONS):
        f = click.option(f"--{name}", name, default=None, help=help_text)(f)
    return click.option(
        "--applicable/--grouping",
        "applicable",
        default=None,
        help="Whether the code is applied to text, or only groups its sub-codes.",
    )(f)


def _fields(kw: dict[str, Any]) -> dict[str, Any]:
    names = [n for n, _ in FIELD_OPTIONS] + ["applicable"]
    return {n: kw.pop(n) for n in names if kw.get(n) is not None}


def _index(position: int | None) -> int | None:
    """Users count siblings from 1; the store from 0."""
    return None if position is None else position - 1


def _write(data: str | bytes, out: str | None) -> None:
    if out is None:
        click.echo(data if isinstance(data, str) else data.decode("utf-8"), nl=False)
        return
    path = Path(out)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    click.echo(f"wrote {path}", err=True)


def _change(project: Project, codebook_name: str | None, what: str, action: Callable) -> Any:
    """Run ``action(session, codebook, resolver, actor)`` in one transaction (the lead's, once
    there is one: ``what`` names the change in the refusal) and say what changed."""
    from ..codebook import persist
    from ..codebook.lookup import CodeResolver, get_codebook
    from ..coding.blinding import require_lead_once_appointed

    with project.transaction() as session:
        actor = require_lead_once_appointed(session, project.user, what)
        codebook = get_codebook(session, codebook_name)
        result = action(session, codebook, CodeResolver(session, codebook), actor)
        click.echo(f"{codebook.name}: version {codebook.version}: {persist.versions_of(session, codebook)[-1].summary}")
        return result


@click.group("codebook", cls=QualcodeGroup)
def codebook_group() -> None:
    """Load, show, export and change codebooks (a project may hold several; coding uses the active one)."""


@codebook_group.command("load")
@project_option
@as_option
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "-f",
    "fmt",
    type=CoreChoice(FORMATS, "READ_FORMATS"),
    help="Input format (default: from the file name).",
)
@click.option("--name", help="Codebook name (default: the name in the file, or the file name).")
@click.option(
    "--kind",
    type=CoreChoice("qualcode.codebook.model", "KINDS"),
    help="provisional or cqr (default: as the file says, else provisional).",
)
@click.option("--activate", is_flag=True, help="Make it the active codebook.")
def codebook_load(project_target, viewer, file, fmt, name, kind, activate) -> None:
    """Validate FILE (yaml, csv, xlsx, qdc/qdpx) and store it as a new codebook, version 1."""
    from ..codebook import persist
    from ..codebook.formats import read_codebook
    from ..coding.blinding import require_lead_once_appointed

    model = read_codebook(file, fmt, name=name, kind=kind)  # the file's problems first, before the project is touched
    for warning in model.warnings:
        click.echo(f"warning: {warning}", err=True)
    with open_project(project_target, viewer) as project, project.transaction() as session:
        actor = require_lead_once_appointed(session, project.user, "loading a codebook")
        codebook = persist.store_model(session, model, actor, source_name=Path(file).name)
        if activate and not codebook.active:
            persist.activate(session, codebook, actor)
    state = " (active)" if codebook.active else ""
    click.echo(f"loaded {codebook.name!r}: {model.count()} codes, {model.kind}{state}")


@codebook_group.command("list")
@pass_project(with_as=False)
@output_options()
def codebook_list(project: Project, fmt, out) -> None:
    """The project's codebooks."""
    from ..codebook import persist

    with project.read() as session:
        rows = []
        for cb in persist.list_codebooks(session):
            codes = persist.codes_of(session, cb)
            live = sum(1 for c in codes if c.status == "active")
            rows.append(
                [cb.name, cb.kind, "yes" if cb.active else "", cb.version, live, len(codes) - live, cb.source_name]
            )
    emit(
        Table(["codebook", "kind", "active", "version", "codes", "retired", "source"], rows, title="Codebooks"),
        fmt,
        out,
    )


@codebook_group.command("activate")
@pass_project
@click.argument("name")
def codebook_activate(project: Project, name) -> None:
    """Make codebook NAME the one coding uses."""
    from ..codebook import persist
    from ..codebook.lookup import get_codebook
    from ..coding.blinding import require_lead_once_appointed

    with project.transaction() as session:
        actor = require_lead_once_appointed(session, project.user, "activating a codebook")
        persist.activate(session, get_codebook(session, name), actor)
    click.echo(f"active codebook: {name}")


@codebook_group.command("show")
@pass_project(with_as=False)
@codebook_name_option
@output_options(SHOW_FORMATS)
@click.option("--retired", is_flag=True, help="Include retired codes (table and json).")
def codebook_show(project: Project, codebook_name, fmt, out, retired) -> None:
    """The codes of a codebook, with their definitions."""
    from ..codebook import persist
    from ..codebook.formats import write_codebook
    from ..codebook.lookup import code_paths, get_codebook

    with project.read() as session:
        codebook = get_codebook(session, codebook_name)
        model = persist.model_from_store(session, codebook)
        every = persist.codes_of(session, codebook)
        codes = [c for c in every if retired or c.status == "active"]
        paths = code_paths(every)
        guid_of = {c.id: c.guid for c in every}
    if fmt in ("md", "yaml"):
        _write(write_codebook(model, fmt), out)
        return
    order = {path: i for i, (path, *_rest) in enumerate(model.paths())}
    codes.sort(key=lambda c: (order.get(paths[c.id], len(order)), paths[c.id]))
    columns = ["code", "key", "hotkey", "applicable", "status", "brief definition"]
    rows = [
        [paths[c.id], c.key or "", c.hotkey or "", "yes" if c.applicable else "no", c.status, c.brief] for c in codes
    ]
    title = f"{codebook.name} ({codebook.kind}, version {codebook.version})"
    json_data = {
        "name": model.name,
        "kind": model.kind,
        "version": codebook.version,
        "codes": [{**persist.snapshot_row(c, guid_of), "path": paths[c.id]} for c in codes],
    }
    emit(Table(columns, rows, title=title), fmt, out, json_data=json_data)


@codebook_group.command("export")
@project_option
@codebook_name_option
@click.option(
    "--format", "-f", "fmt", type=CoreChoice(FORMATS, "WRITE_FORMATS"), help="Output format (default: from --out)."
)
@click.option("--out", "-o", "out", required=True, type=click.Path(dir_okay=False), help="File to write.")
def codebook_export(project_target, codebook_name, fmt, out) -> None:
    """Write the codebook as yaml, csv, xlsx, qdc (REFI-QDA), md or docx (a manuscript appendix)."""
    from ..codebook import persist
    from ..codebook.formats import WRITE_FORMATS, format_for, write_codebook
    from ..codebook.lookup import get_codebook

    fmt = format_for(out, fmt)
    if fmt not in WRITE_FORMATS:
        raise QualcodeError(f"{out}: cannot export a codebook as {fmt}; use one of {', '.join(WRITE_FORMATS)}")
    with open_project(project_target) as project, project.read() as session:
        model = persist.model_from_store(session, get_codebook(session, codebook_name))
    _write(write_codebook(model, fmt), out)


@codebook_group.command("add")
@pass_project
@codebook_name_option
@click.argument("name")
@click.option("--parent", metavar="CODE", help="Parent code (name, key or path); default: top level.")
@click.option("--position", type=int, help="1-based place among its siblings (default: last).")
@field_options
def codebook_add(project: Project, codebook_name, name, parent, position, **kw) -> None:
    """Add a code NAME."""
    from ..codebook import changes

    fields = _fields(kw)
    _change(
        project,
        codebook_name,
        "adding a code",
        lambda s, cb, r, actor: changes.add_code(
            s, cb, actor, name, r.resolve(parent) if parent else None, _index(position), **fields
        ),
    )


@codebook_group.command("edit")
@project_option
@as_option
@codebook_name_option
@click.argument("code")
@field_options
def codebook_edit(project_target, viewer, codebook_name, code, **kw) -> None:
    """Change the definitions, key, hotkey, colour or applicability of CODE."""
    from ..codebook import changes

    fields = _fields(kw)
    if not fields:
        raise QualcodeError("nothing to change: give at least one of --definition, --brief, --hotkey, ...")
    with open_project(project_target, viewer) as project:
        _change(
            project,
            codebook_name,
            "editing a code",
            lambda s, cb, r, actor: changes.edit_code(s, cb, actor, r.resolve(code), **fields),
        )


@codebook_group.command("rename")
@pass_project
@codebook_name_option
@click.argument("code")
@click.argument("new_name")
def codebook_rename(project: Project, codebook_name, code, new_name) -> None:
    """Rename CODE to NEW_NAME (its codings follow)."""
    from ..codebook import changes

    _change(
        project,
        codebook_name,
        "renaming a code",
        lambda s, cb, r, actor: changes.rename_code(s, cb, actor, r.resolve(code), new_name),
    )


@codebook_group.command("move")
@project_option
@as_option
@codebook_name_option
@click.argument("code")
@click.option("--to", "to", metavar="PARENT", help="New parent code.")
@click.option("--top", is_flag=True, help="Move to the top level.")
@click.option("--position", type=int, help="1-based place among its new siblings (default: last).")
def codebook_move(project_target, viewer, codebook_name, code, to, top, position) -> None:
    """Move CODE under another parent (or to the top level)."""
    from ..codebook import changes

    if bool(to) == top:
        raise QualcodeError("say where: --to PARENT or --top")
    with open_project(project_target, viewer) as project:
        _change(
            project,
            codebook_name,
            "moving a code",
            lambda s, cb, r, actor: changes.move_code(
                s, cb, actor, r.resolve(code), r.resolve(to) if to else None, _index(position)
            ),
        )


@codebook_group.command("merge")
@pass_project
@codebook_name_option
@click.argument("sources", nargs=-1, required=True)
@click.option("--into", "target", required=True, metavar="CODE", help="The code that remains.")
def codebook_merge(project: Project, codebook_name, sources, target) -> None:
    """Merge each SOURCE code into --into CODE; codings, memos and sub-codes move with it."""
    from ..codebook import changes

    def action(s, cb, r, actor):
        into = r.resolve(target)
        for source in [r.resolve(name) for name in sources]:
            report = changes.merge_codes(s, cb, actor, source, into)
            combined = len(report.codings_combined)
            click.echo(
                f"{source.name} -> {into.name}: {report.codings_moved} codings moved"
                + (f", {combined} already coded with both (kept once, recorded in the audit trail)" if combined else "")
            )

    _change(project, codebook_name, "merging codes", action)


@codebook_group.command("split")
@pass_project
@codebook_name_option
@click.argument("code")
@click.argument("new_names", nargs=-1, required=True)
def codebook_split(project: Project, codebook_name, code, new_names) -> None:
    """Split CODE into NEW_NAMES (new codes beside it); CODE is retired, its codings kept for recoding."""
    from ..codebook import changes

    _change(
        project,
        codebook_name,
        "splitting a code",
        lambda s, cb, r, actor: changes.split_code(s, cb, actor, r.resolve(code), list(new_names)),
    )


@codebook_group.command("retire")
@pass_project
@codebook_name_option
@click.argument("code")
def codebook_retire(project: Project, codebook_name, code) -> None:
    """Retire CODE and its sub-codes (their codings stay on record)."""
    from ..codebook import changes

    _change(
        project,
        codebook_name,
        "retiring a code",
        lambda s, cb, r, actor: changes.retire_code(s, cb, actor, r.resolve(code)),
    )


@codebook_group.command("diff")
@pass_project(with_as=False)
@codebook_name_option
@click.option("--from", "from_version", type=int, help="Earlier version (default: 1).")
@click.option("--to", "to_version", type=int, help="Later version (default: the current one).")
@output_options()
def codebook_diff(project: Project, codebook_name, from_version, to_version, fmt, out) -> None:
    """What changed between two versions: added, retired, merged, renamed, moved, redefined."""
    from ..codebook import persist
    from ..codebook.diff import diff_snapshots
    from ..codebook.lookup import get_codebook

    with project.read() as session:
        codebook = get_codebook(session, codebook_name)
        versions = {v.number: v for v in persist.versions_of(session, codebook)}
        first, last = from_version or 1, to_version or codebook.version
        for number in (first, last):
            if number not in versions:
                raise QualcodeError(f"{codebook.name} has no version {number} (versions 1 to {codebook.version})")
        found = diff_snapshots(versions[first].snapshot, versions[last].snapshot)
    table = Table(
        ["change", "code", "detail"],
        [[c.kind, c.code, c.detail] for c in found],
        title=f"{codebook.name}: changes from version {first} to {last}",
    )
    emit(table, fmt, out, json_data={"from": first, "to": last, "changes": [c.as_dict() for c in found]})


@codebook_group.command("history")
@pass_project(with_as=False)
@codebook_name_option
@output_options()
def codebook_history(project: Project, codebook_name, fmt, out) -> None:
    """Every version of the codebook: when, who and what changed."""
    from ..codebook import persist
    from ..codebook.lookup import get_codebook

    with project.read() as session:
        codebook = get_codebook(session, codebook_name)
        rows = [
            [v.number, v.created_at.isoformat(timespec="seconds"), v.actor, v.change, v.summary]
            for v in persist.versions_of(session, codebook)
        ]
    emit(Table(["version", "at", "by", "change", "summary"], rows, title=f"{codebook.name}: versions"), fmt, out)
