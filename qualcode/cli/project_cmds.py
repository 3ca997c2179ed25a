"""Project commands: init, status, import, coders, cases, transcripts, speakers."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import QualcodeError
from ..table import Table
from .common import (
    CoreChoice,
    QualcodeGroup,
    as_option,
    audit_actor,
    emit,
    open_project,
    output_options,
    pass_project,
    project_option,
    say,
    transcript_ref,
    verify_viewer,
)

if TYPE_CHECKING:
    from ..project import Project

MODELS = "qualcode.store.models"
case_filter_option = click.option("--case", "case", metavar="NAME", help="The case, where a title is used in several.")


# -- init / status ------------------------------------------------------------------------
@click.command("init")
@click.argument("path", required=False)
@click.option(
    "--lead", metavar="NAME", help="Also add NAME as the lead analyst (an existing project's lead must say --as)."
)
@as_option
@project_option
def init_cmd(path: str | None, lead: str | None, viewer: str | None, project_target: str) -> None:
    """Create a project (PATH, or --project; a database URL works too)."""
    from ..coding.team import add_coder

    target = path or project_target
    verify_viewer(target, viewer)  # against the project init acts on, before it creates or upgrades anything
    existed = "://" not in target and Path(target).exists()
    with open_project(target, create=True) as project:
        if lead:
            with project.transaction() as s:
                add_coder(s, lead, "lead", viewer=viewer, actor=viewer or lead.strip())
        verb = "already a project" if existed else "created project"
        click.echo(f"{verb}: {project.shown_target} (schema version {project.schema_version()})")


@click.command("status")
@pass_project
def status_cmd(project: Project) -> None:
    """Counts of everything in the project, and its schema version (while blinded, a coder's own codings only)."""
    from ..coding.catalog import CodingsShown, project_counts

    with project.read() as s:
        counts = project_counts(s, project.user)
    click.echo(f"project: {project.shown_target}")
    click.echo(f"schema version: {project.schema_version()}")
    for name in ("cases", "transcripts", "segments", "speakers", "coders", "codebooks"):
        click.echo(f"{name}: {getattr(counts, name)}")
    codings = {
        CodingsShown.ALL: f"{counts.codings}",
        CodingsShown.EVERY_CODERS: f"{counts.codings} (every coder's; the project is blinded)",
        CodingsShown.OWN: f"{counts.codings} (yours only: the project is blinded)",
        CodingsShown.HIDDEN: "hidden while blinded (say who you are with --as NAME)",
    }[counts.codings_shown]
    click.echo(f"codings: {codings}")


# -- import -------------------------------------------------------------------------------
@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--case", "case", metavar="NAME", help="Case (site) for every file; default: manifest, else folder name.")
@click.option(
    "--manifest", type=click.Path(path_type=Path, dir_okay=False), help="CSV: file,title,case,kind,date,speaker_roles."
)
@click.option(
    "--kind",
    type=CoreChoice(MODELS, "TRANSCRIPT_KINDS"),
    help="Kind of transcript (default: manifest, else interview).",
)
@click.option(
    "--unit",
    type=click.Choice(("turn", "paragraph", "sentence")),
    default="turn",
    show_default=True,
    help="Unit of analysis.",
)
@click.option(
    "--speaker-pattern",
    metavar="REGEX",
    help="Speaker label at a line start; group `speaker` (or the first group) is the label.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("auto", "txt", "vtt", "srt", "docx", "csv", "qdpx", "md", "odt")),
    default="auto",
    show_default=True,
    help="File format (auto: by extension).",
)
@click.option(
    "--encoding",
    metavar="NAME",
    help="Text encoding of the files (e.g. utf-8, cp1252); default: detected (UTF-8, UTF-16, else cp1252).",
)
@as_option
@project_option
def import_cmd(paths, case, manifest, kind, unit, speaker_pattern, fmt, encoding, viewer, project_target) -> None:
    """Import transcript files or folders (a folder imports every supported file in it).

    A REFI-QDA project (.qdpx) imports whole: sources, codebook, users, codings, notes, cases."""
    if fmt == "qdpx" or any(Path(p).suffix.casefold() == ".qdpx" for p in paths):
        from .exchange_cmds import import_qdpx

        refused = {"--case": case, "--manifest": manifest, "--kind": kind, "--encoding": encoding}
        import_qdpx(
            paths,
            unit=unit,
            speaker_pattern=speaker_pattern,
            refused=refused,
            viewer=viewer,
            project_target=project_target,
        )
        return
    from ..coding.blinding import require_lead_once_appointed
    from ..ingest.importer import ImportOptions, plan_import, run_job
    from ..ingest.writer import TranscriptWriter

    options = ImportOptions(case, kind, unit, speaker_pattern, fmt, manifest, encoding=encoding)
    plan = plan_import(paths, options)  # the files' own problems first, before the project is touched
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)
    with open_project(project_target, viewer) as project:
        with project.read() as s:
            require_lead_once_appointed(s, project.user, "importing transcripts")
            options = replace(options, actor=audit_actor(s, project.user))
        with TranscriptWriter(project) as writer:
            outcomes = []
            # A bar only where someone watches a batch: piped or for one file, it would add a line to the errors.
            progress = (
                click.progressbar(
                    plan.jobs,
                    label="importing",
                    file=sys.stderr,
                    item_show_func=lambda job: job.path.name if job else "",
                )
                if len(plan.jobs) > 1 and sys.stderr.isatty()
                else nullcontext(plan.jobs)
            )
            with progress as jobs:
                for job in jobs:
                    outcomes.extend(run_job(project, job, options, writer))
    failed = [o for o in outcomes if o.status == "failed"]
    if len(outcomes) == 1 and failed:
        raise QualcodeError(failed[0].message)
    for o in outcomes:
        if o.status == "imported":
            where = f" (case {o.case})" if o.case else ""
            click.echo(f"imported  {o.source} -> {o.title!r}{where}: {o.segments} segments, {o.speakers} speakers")
        elif o.status == "skipped":
            click.echo(f"skipped   {o.source}: {o.message}")
        else:
            click.echo(f"failed    {o.message}", err=True)
        for note in o.notes:
            click.echo(f"          note: {note}")
    imported = sum(o.status == "imported" for o in outcomes)
    skipped = sum(o.status == "skipped" for o in outcomes)
    summary = f"{imported} imported, {skipped} skipped, {len(failed)} failed"
    if failed:
        raise QualcodeError(summary)
    click.echo(summary)


# -- coders -------------------------------------------------------------------------------
@click.group("coders", cls=QualcodeGroup)
def coders_group() -> None:
    """The people who code: coders, the lead analyst, auditors."""


@coders_group.command("add")
@click.argument("name")
@click.option("--role", type=CoreChoice(MODELS, "CODER_ROLES"), default="coder", show_default=True)
@click.option("--login", metavar="ACCOUNT", help="Bind the coder to this operating-system login (see set-login).")
@pass_project
def coders_add(project: Project, name: str, role: str, login: str | None) -> None:
    """Add a coder NAME (once the project has a lead, only the lead may: --as LEAD)."""
    from ..coding.team import add_coder

    with project.transaction() as s:
        coder = add_coder(s, name, role, viewer=project.user, actor=audit_actor(s, project.user), login=login)
    click.echo(f"added {role} {coder.name}" + (f" (login {coder.login})" if coder.login else ""))


@coders_group.command("set-login")
@click.argument("name")
@click.argument("login", required=False)
@pass_project
def coders_set_login(project: Project, name: str, login: str | None) -> None:
    """Bind coder NAME to the operating-system LOGIN; without LOGIN, unbind.

    A bound coder can be claimed (--as NAME, code --coder NAME) only from that login, so on a
    shared server nobody reads the others' codes by claiming to be the lead. Once the project
    has a lead, only the lead may bind or unbind.
    """
    from ..coding.identity import set_login

    with project.transaction() as s:
        coder = set_login(s, project.user, name, login, actor=audit_actor(s, project.user))
    click.echo(
        f"{coder.name} is bound to the login {coder.login}" if coder.login else f"{coder.name} is not bound to a login"
    )


@coders_group.command("list")
@output_options()
@pass_project(with_as=False)
def coders_list(project: Project, fmt: str, out: str | None) -> None:
    """List coders and their roles."""
    from ..coding.team import list_coders

    with project.read() as s:
        coders = list_coders(s)
    rows = [[c.name, c.role, c.login or "", c.added.isoformat() if c.added else ""] for c in coders]
    emit(Table(["name", "role", "login", "added"], rows, title="Coders"), fmt, out)


# -- cases --------------------------------------------------------------------------------
@click.group("cases", cls=QualcodeGroup)
def cases_group() -> None:
    """Cases (sites such as schools) and their attributes."""


@cases_group.command("list")
@output_options()
@pass_project(with_as=False)
def cases_list(project: Project, fmt: str, out: str | None) -> None:
    """List cases with their transcript counts and attributes (one column each)."""
    from ..ingest.catalog import list_cases

    with project.read() as s:
        listing = list_cases(s)
    names = listing.attribute_names
    rows = [[c.name, c.transcripts] + [c.attributes.get(n) for n in names] for c in listing.cases]
    emit(Table(["case", "transcripts", *names], rows, title="Cases"), fmt, out)


@cases_group.command("import-attributes")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--create-cases", is_flag=True, help="Create cases the project does not have yet.")
@as_option
@project_option
def cases_import_attributes(file: Path, create_cases: bool, viewer: str | None, project_target: str) -> None:
    """Load case attributes from FILE.csv (wide: case,<attr>,...; or long: case,attribute,value[,type])."""
    from ..coding.blinding import require_lead_once_appointed
    from ..ingest.attributes import read_case_attributes, store_case_attributes

    values = read_case_attributes(file)  # the file's problems first, before the project is touched
    with open_project(project_target, viewer) as project, project.transaction() as s:
        require_lead_once_appointed(s, project.user, "changing case attributes")
        cases, written = store_case_attributes(s, file, values, audit_actor(s, project.user), create_cases)
    click.echo(f"{written} attribute values for {cases} cases from {file}")


# -- transcripts --------------------------------------------------------------------------
@click.group("transcripts", cls=QualcodeGroup)
def transcripts_group() -> None:
    """Imported transcripts."""


@transcripts_group.command("list")
@click.option("--case", "case", metavar="NAME", help="Only this case's transcripts.")
@output_options()
@pass_project(with_as=False)
def transcripts_list(project: Project, case: str | None, fmt: str, out: str | None) -> None:
    """List transcripts with their case, kind, date and segment and speaker counts."""
    from ..ingest.catalog import list_transcripts

    with project.read() as s:
        transcripts = list_transcripts(s, case)
    columns = ["id", "title", "case", "kind", "date", "source_name", "unit", "segments", "speakers"]
    rows = [[getattr(t, column) for column in columns] for t in transcripts]
    emit(Table(columns, rows, title="Transcripts"), fmt, out)


@transcripts_group.command("show")
@click.argument("transcript", type=transcript_ref)
@case_filter_option
@click.option("--text", "as_text", is_flag=True, help="Print the stored text as it reads instead of the segments.")
@output_options()
@pass_project(with_as=False)
def transcripts_show(
    project: Project, transcript: str, case: str | None, as_text: bool, fmt: str, out: str | None
) -> None:
    """Show TRANSCRIPT (id or title): its segments with speakers and offsets, or its --text."""
    from ..ingest.catalog import transcript_content

    with project.read() as s:
        content = transcript_content(s, transcript, case)
    if as_text:
        say(content.text)
        return
    rows = [
        [seg.position, seg.speaker, seg.role, seg.start, seg.end, seg.time_start, seg.text] for seg in content.segments
    ]
    emit(Table(["position", "speaker", "role", "start", "end", "time", "text"], rows, title=content.title), fmt, out)


drop_codings_option = click.option(
    "--drop-codings",
    is_flag=True,
    help="Drop the codings, done marks, memos, consensus decisions and exemplars on its segments.",
)


def _proposals_kept(n: int) -> str:
    return f"; {n} code proposal(s) made on its segments kept, no longer tied to a segment" if n else ""


@transcripts_group.command("remove")
@click.argument("transcript", type=transcript_ref)
@case_filter_option
@drop_codings_option
@pass_project
def transcripts_remove(project: Project, transcript: str, case: str | None, drop_codings: bool) -> None:
    """Remove TRANSCRIPT (id or title) with its speakers and segments (lead only).

    Refused while codings, done marks or memos are on it, unless --drop-codings."""
    from ..coding.blinding import require_lead_once_appointed
    from ..coding.transcripts import remove_transcript

    with project.transaction() as s:
        require_lead_once_appointed(s, project.user, "removing a transcript")
        removal = remove_transcript(
            s, transcript, case=case, drop_codings=drop_codings, actor=audit_actor(s, project.user)
        )
    click.echo(
        f"removed {removal.title!r} (id {removal.id}): {removal.segments} segments, {removal.speakers} speakers"
        + (f"; dropped {removal.dropped.describe()}" if removal.dropped.any_work else "")
        + _proposals_kept(removal.dropped.proposals)
    )


@transcripts_group.command("reimport")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--transcript",
    "transcript",
    type=transcript_ref,
    metavar="ID_OR_TITLE",
    help="The transcript to replace (default: the one imported from a file of this name).",
)
@case_filter_option
@click.option(
    "--speaker-pattern",
    metavar="REGEX",
    help="Speaker label at a line start; group `speaker` (or the first group) is the label.",
)
@click.option(
    "--unit",
    type=click.Choice(("turn", "paragraph", "sentence")),
    help="Unit of analysis (default: the one it was imported with).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("auto", "txt", "vtt", "srt", "docx", "csv", "md", "odt")),
    default="auto",
    show_default=True,
    help="File format (auto: by extension).",
)
@click.option("--encoding", metavar="NAME", help="Text encoding of the file; default: detected.")
@drop_codings_option
@as_option
@project_option
def transcripts_reimport(
    file: Path,
    transcript: str | None,
    case: str | None,
    speaker_pattern: str | None,
    unit: str | None,
    fmt: str,
    encoding: str | None,
    drop_codings: bool,
    viewer: str | None,
    project_target: str,
) -> None:
    """Read FILE again into the transcript imported from it: new text, speakers and segments (lead only).

    Refused while codings, done marks or memos are on its segments, unless --drop-codings."""
    from ..coding.blinding import require_lead_once_appointed
    from ..coding.transcripts import ReimportOptions, read_for_reimport, reimport_transcript

    options = ReimportOptions(speaker_pattern, unit, fmt, encoding, transcript, case, drop_codings)
    source = read_for_reimport(file, options)  # the file's own problems first, before the project is touched
    with open_project(project_target, viewer) as project, project.transaction() as s:
        require_lead_once_appointed(s, project.user, "re-importing a transcript")
        options = replace(options, actor=audit_actor(s, project.user))
        result = reimport_transcript(s, file, source, options)
    click.echo(
        f"re-imported {file} -> {result.title!r} (id {result.id}): {result.segments} segments, "
        f"{result.speakers} speakers (were {result.segments_before} and {result.speakers_before})"
        + ("" if result.text_changed else "; the text is unchanged")
        + (f"; dropped {result.dropped.describe()}" if result.dropped.any_work else "")
        + _proposals_kept(result.dropped.proposals)
    )
    for note in result.notes:
        click.echo(f"          note: {note}")


# -- speakers -----------------------------------------------------------------------------
@click.group("speakers", cls=QualcodeGroup)
def speakers_group() -> None:
    """Speakers per transcript: label as written, role, pseudonym."""


@speakers_group.command("list")
@click.option(
    "--transcript", "transcript", type=transcript_ref, metavar="ID_OR_TITLE", help="Only this transcript's speakers."
)
@output_options()
@pass_project(with_as=False)
def speakers_list(project: Project, transcript: str | None, fmt: str, out: str | None) -> None:
    """List speakers with their role, pseudonym and number of segments."""
    from ..ingest.catalog import list_speakers

    with project.read() as s:
        speakers = list_speakers(s, transcript)
    rows = [[p.id, p.transcript, p.label, p.role, p.pseudonym, p.segments] for p in speakers]
    emit(Table(["id", "transcript", "label", "role", "pseudonym", "segments"], rows, title="Speakers"), fmt, out)


@speakers_group.command("set")
@click.argument("transcript", type=transcript_ref)
@click.argument("label")
@click.option("--role", type=CoreChoice(MODELS, "SPEAKER_ROLES"), help="The speaker's role.")
@click.option("--pseudonym", metavar="NAME", help="A pseudonym to show instead of the label (empty to clear).")
@case_filter_option
@pass_project
def speakers_set(
    project: Project, transcript: str, label: str, role: str | None, pseudonym: str | None, case: str | None
) -> None:
    """Set the role and/or pseudonym of speaker LABEL in TRANSCRIPT (id or title)."""
    from ..coding.blinding import require_lead_once_appointed
    from ..ingest.catalog import set_speaker

    with project.transaction() as s:
        require_lead_once_appointed(s, project.user, "changing speakers' roles and pseudonyms")
        change = set_speaker(
            s, transcript, label, role=role, pseudonym=pseudonym, case=case, actor=audit_actor(s, project.user)
        )
    click.echo(
        f"{change.transcript}: {label} is {change.role}"
        + (f", shown as {change.pseudonym}" if change.pseudonym else "")
    )
