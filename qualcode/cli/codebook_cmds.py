"""``qualcode codebook ...``: load, inspect, export and change codebooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from ..codebook import changes, persist
from ..coding.blinding import require_lead_once_appointed
from ..codebook.formats import READ_FORMATS, WRITE_FORMATS, format_for, read_codebook, write_codebook
from ..codebook.lookup import CodeResolver, code_paths, get_codebook
from ..codebook.model import KINDS
from ..errors import QualcodeError
from ..table import Table
from .common import as_option, emit, open_project_for, output_options, project_option

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


def codebook_option(f: Callable) -> Callable:
    return click.option("--codebook", "-c", "codebook_name", metavar="NAME", help="Which codebook (default: the active one).")(f)


def field_options(f: Callable) -> Callable:
    for name, help_text in reversed(FIELD_OPTIONS):
        f = click.option(f"--{name}", name, default=None, help=help_text)(f)
    return click.option("--applicable/--grouping", "applicable", default=None,
                        help="Whether the code is applied to text, or only groups its sub-codes.")(f)


def _fields(kw: dict[str, Any]) -> dict[str, Any]:
    names = [n for n, _ in FIELD_OPTIONS] + ["applicable"]
    return {n: kw.pop(n) for n in names if kw.get(n) is not None}


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


def _change(project_target: str, viewer: str | None, codebook_name: str | None, what: str, action) -> Any:
    """Run ``action(session, codebook, resolver, actor)`` in one transaction (the lead's, once
    there is one: ``what`` names the change in the refusal) and say what changed."""
    with open_project_for(project_target, viewer) as project, project.transaction() as session:
        actor = require_lead_once_appointed(session, viewer, what)
        codebook = get_codebook(session, codebook_name)
        result = action(session, codebook, CodeResolver(session, codebook), actor)
        click.echo(f"{codebook.name}: version {codebook.version}: {persist.versions_of(session, codebook)[-1].summary}")
        return result


def register(cli: click.Group) -> None:
    @cli.group("codebook")
    def codebook_group() -> None:
        """Load, show, export and change codebooks (a project may hold several; coding uses the active one)."""

    @codebook_group.command("load")
    @project_option
    @as_option
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--format", "-f", "fmt", type=click.Choice(READ_FORMATS), help="Input format (default: from the file name).")
    @click.option("--name", help="Codebook name (default: the name in the file, or the file name).")
    @click.option("--kind", type=click.Choice(KINDS), help="provisional or cqr (default: as the file says, else provisional).")
    @click.option("--activate", is_flag=True, help="Make it the active codebook.")
    def load_cmd(project_target, viewer, file, fmt, name, kind, activate):
        """Validate FILE (yaml, csv, xlsx, qdc/qdpx) and store it as a new codebook, version 1."""
        model = read_codebook(file, fmt, name=name, kind=kind)
        for warning in model.warnings:
            click.echo(f"warning: {warning}", err=True)
        with open_project_for(project_target, viewer) as project, project.transaction() as session:
            actor = require_lead_once_appointed(session, viewer, "loading a codebook")
            codebook = persist.store_model(session, model, actor, source_name=Path(file).name)
            if activate and not codebook.active:
                persist.activate(session, codebook, actor)
        state = " (active)" if codebook.active else ""
        click.echo(f"loaded {codebook.name!r}: {model.count()} codes, {model.kind}{state}")

    @codebook_group.command("list")
    @project_option
    @output_options()
    def list_cmd(project_target, fmt, out):
        """The project's codebooks."""
        with open_project_for(project_target) as project, project.read() as session:
            rows = []
            for cb in persist.list_codebooks(session):
                codes = persist.codes_of(session, cb)
                live = sum(1 for c in codes if c.status == "active")
                rows.append([cb.name, cb.kind, "yes" if cb.active else "", cb.version, live, len(codes) - live, cb.source_name])
        emit(Table(["codebook", "kind", "active", "version", "codes", "retired", "source"], rows, title="Codebooks"), fmt, out)

    @codebook_group.command("activate")
    @project_option
    @as_option
    @click.argument("name")
    def activate_cmd(project_target, viewer, name):
        """Make codebook NAME the one coding uses."""
        with open_project_for(project_target, viewer) as project, project.transaction() as session:
            actor = require_lead_once_appointed(session, viewer, "activating a codebook")
            persist.activate(session, get_codebook(session, name), actor)
        click.echo(f"active codebook: {name}")

    @codebook_group.command("show")
    @project_option
    @codebook_option
    @output_options(SHOW_FORMATS)
    @click.option("--retired", is_flag=True, help="Include retired codes (table and json).")
    def show_cmd(project_target, codebook_name, fmt, out, retired):
        """The codes of a codebook, with their definitions."""
        with open_project_for(project_target) as project, project.read() as session:
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
        rows = [[paths[c.id], c.key or "", c.hotkey or "", "yes" if c.applicable else "no", c.status, c.brief] for c in codes]
        title = f"{codebook.name} ({codebook.kind}, version {codebook.version})"
        json_data = {"name": model.name, "kind": model.kind, "version": codebook.version,
                     "codes": [{**persist.snapshot_row(c, guid_of), "path": paths[c.id]} for c in codes]}
        emit(Table(columns, rows, title=title), fmt, out, json_data=json_data)

    @codebook_group.command("export")
    @project_option
    @codebook_option
    @click.option("--format", "-f", "fmt", type=click.Choice(WRITE_FORMATS), help="Output format (default: from --out).")
    @click.option("--out", "-o", "out", required=True, type=click.Path(dir_okay=False), help="File to write.")
    def export_cmd(project_target, codebook_name, fmt, out):
        """Write the codebook as yaml, csv, xlsx, qdc (REFI-QDA), md or docx (a manuscript appendix)."""
        fmt = format_for(out, fmt)
        if fmt not in WRITE_FORMATS:
            raise QualcodeError(f"{out}: cannot export a codebook as {fmt}; use one of {', '.join(WRITE_FORMATS)}")
        with open_project_for(project_target) as project, project.read() as session:
            model = persist.model_from_store(session, get_codebook(session, codebook_name))
        _write(write_codebook(model, fmt), out)

    @codebook_group.command("add")
    @project_option
    @as_option
    @codebook_option
    @click.argument("name")
    @click.option("--parent", metavar="CODE", help="Parent code (name, key or path); default: top level.")
    @click.option("--position", type=int, help="1-based place among its siblings (default: last).")
    @field_options
    def add_cmd(project_target, viewer, codebook_name, name, parent, position, **kw):
        """Add a code NAME."""
        fields = _fields(kw)
        _change(project_target, viewer, codebook_name, "adding a code", lambda s, cb, r, actor: changes.add_code(
            s, cb, actor, name, r.resolve(parent) if parent else None, _index(position), **fields))

    @codebook_group.command("edit")
    @project_option
    @as_option
    @codebook_option
    @click.argument("code")
    @field_options
    def edit_cmd(project_target, viewer, codebook_name, code, **kw):
        """Change the definitions, key, hotkey, colour or applicability of CODE."""
        fields = _fields(kw)
        if not fields:
            raise QualcodeError("nothing to change: give at least one of --definition, --brief, --hotkey, ...")
        _change(project_target, viewer, codebook_name, "editing a code", lambda s, cb, r, actor: changes.edit_code(s, cb, actor, r.resolve(code), **fields))

    @codebook_group.command("rename")
    @project_option
    @as_option
    @codebook_option
    @click.argument("code")
    @click.argument("new_name")
    def rename_cmd(project_target, viewer, codebook_name, code, new_name):
        """Rename CODE to NEW_NAME (its codings follow)."""
        _change(project_target, viewer, codebook_name, "renaming a code", lambda s, cb, r, actor: changes.rename_code(s, cb, actor, r.resolve(code), new_name))

    @codebook_group.command("move")
    @project_option
    @as_option
    @codebook_option
    @click.argument("code")
    @click.option("--to", "to", metavar="PARENT", help="New parent code.")
    @click.option("--top", is_flag=True, help="Move to the top level.")
    @click.option("--position", type=int, help="1-based place among its new siblings (default: last).")
    def move_cmd(project_target, viewer, codebook_name, code, to, top, position):
        """Move CODE under another parent (or to the top level)."""
        if bool(to) == top:
            raise QualcodeError("say where: --to PARENT or --top")
        _change(project_target, viewer, codebook_name, "moving a code", lambda s, cb, r, actor: changes.move_code(
            s, cb, actor, r.resolve(code), r.resolve(to) if to else None, _index(position)))

    @codebook_group.command("merge")
    @project_option
    @as_option
    @codebook_option
    @click.argument("sources", nargs=-1, required=True)
    @click.option("--into", "target", required=True, metavar="CODE", help="The code that remains.")
    def merge_cmd(project_target, viewer, codebook_name, sources, target):
        """Merge each SOURCE code into --into CODE; codings, memos and sub-codes move with it."""
        def action(s, cb, r, actor):
            into = r.resolve(target)
            for source in [r.resolve(name) for name in sources]:
                report = changes.merge_codes(s, cb, actor, source, into)
                combined = len(report.codings_combined)
                click.echo(f"{source.name} -> {into.name}: {report.codings_moved} codings moved"
                           + (f", {combined} already coded with both (kept once, recorded in the audit trail)" if combined else ""))
        _change(project_target, viewer, codebook_name, "merging codes", action)

    @codebook_group.command("split")
    @project_option
    @as_option
    @codebook_option
    @click.argument("code")
    @click.argument("new_names", nargs=-1, required=True)
    def split_cmd(project_target, viewer, codebook_name, code, new_names):
        """Split CODE into NEW_NAMES (new codes beside it); CODE is retired, its codings kept for recoding."""
        _change(project_target, viewer, codebook_name, "splitting a code", lambda s, cb, r, actor: changes.split_code(s, cb, actor, r.resolve(code), list(new_names)))

    @codebook_group.command("retire")
    @project_option
    @as_option
    @codebook_option
    @click.argument("code")
    def retire_cmd(project_target, viewer, codebook_name, code):
        """Retire CODE and its sub-codes (their codings stay on record)."""
        _change(project_target, viewer, codebook_name, "retiring a code", lambda s, cb, r, actor: changes.retire_code(s, cb, actor, r.resolve(code)))

    @codebook_group.command("diff")
    @project_option
    @codebook_option
    @click.option("--from", "from_version", type=int, help="Earlier version (default: 1).")
    @click.option("--to", "to_version", type=int, help="Later version (default: the current one).")
    @output_options()
    def diff_cmd(project_target, codebook_name, from_version, to_version, fmt, out):
        """What changed between two versions: added, retired, merged, renamed, moved, redefined."""
        from ..codebook.diff import diff_snapshots

        with open_project_for(project_target) as project, project.read() as session:
            codebook = get_codebook(session, codebook_name)
            versions = {v.number: v for v in persist.versions_of(session, codebook)}
            first, last = from_version or 1, to_version or codebook.version
            for number in (first, last):
                if number not in versions:
                    raise QualcodeError(f"{codebook.name} has no version {number} (versions 1 to {codebook.version})")
            found = diff_snapshots(versions[first].snapshot, versions[last].snapshot)
        table = Table(["change", "code", "detail"], [[c.kind, c.code, c.detail] for c in found],
                      title=f"{codebook.name}: changes from version {first} to {last}")
        emit(table, fmt, out, json_data={"from": first, "to": last, "changes": [c.as_dict() for c in found]})

    @codebook_group.command("history")
    @project_option
    @codebook_option
    @output_options()
    def history_cmd(project_target, codebook_name, fmt, out):
        """Every version of the codebook: when, who and what changed."""
        with open_project_for(project_target) as project, project.read() as session:
            codebook = get_codebook(session, codebook_name)
            rows = [[v.number, v.created_at.isoformat(timespec="seconds"), v.actor, v.change, v.summary]
                    for v in persist.versions_of(session, codebook)]
        emit(Table(["version", "at", "by", "change", "summary"], rows, title=f"{codebook.name}: versions"), fmt, out)


def _index(position: int | None) -> int | None:
    """Users count siblings from 1; the store from 0."""
    return None if position is None else position - 1
