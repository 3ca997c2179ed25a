"""Project commands: init, status, import, coders, cases, transcripts, speakers."""

from __future__ import annotations

import getpass
import sys
from contextlib import nullcontext
from pathlib import Path

import click
from sqlalchemy import func, select

from ..coding.blinding import require_lead_once_appointed
from ..coding.blinding import is_blinded, visible_coder_ids
from ..errors import BlindingError, InputError, QualcodeError
from ..table import Table
from ..store import audit
from ..store.models import (
    CODER_ROLES, SPEAKER_ROLES, TRANSCRIPT_KINDS, Case, CaseAttribute, Codebook, Coder, Coding, Segment, Speaker,
    Transcript,
)
from .common import as_option, emit, open_project_for, output_options, project_option, verify_viewer

# Names a coder may not take: "consensus" is the reconciled layer's name wherever layers are chosen.
RESERVED_CODER_NAMES = ("consensus",)


def _actor(viewer: str | None) -> str:
    if viewer:
        return viewer
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return ""


def _count(session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).scalar() or 0


# -- init / status ------------------------------------------------------------------------
@click.command("init")
@click.argument("path", required=False)
@click.option("--lead", metavar="NAME", help="Also add NAME as the lead analyst (an existing project's lead must say --as).")
@as_option(check=False)  # checked below, against the project init acts on
@project_option
def init_cmd(path: str | None, lead: str | None, viewer: str | None, project_target: str) -> None:
    """Create a project (PATH, or --project; a database URL works too)."""
    target = path or project_target
    verify_viewer(target, viewer)
    existed = "://" not in target and Path(target).exists()
    project = open_project_for(target, create=True)
    with project:
        if lead:
            _add_coder(project, lead.strip(), "lead", viewer, actor=viewer or lead.strip())
        verb = "already a project" if existed else "created project"
        click.echo(f"{verb}: {target} (schema version {project.schema_version()})")


@click.command("status")
@as_option
@project_option
def status_cmd(viewer: str | None, project_target: str) -> None:
    """Counts of everything in the project, and its schema version (while blinded, a coder's own codings only)."""
    with open_project_for(project_target, viewer) as project, project.read() as s:
        counts = {
            "cases": Case, "transcripts": Transcript, "segments": Segment, "speakers": Speaker,
            "coders": Coder, "codebooks": Codebook,
        }
        click.echo(f"project: {project.target}")
        click.echo(f"schema version: {project.schema_version()}")
        for name, model in counts.items():
            click.echo(f"{name}: {_count(s, model)}")
        click.echo(f"codings: {_codings_line(s, viewer)}")


def _codings_line(session, viewer: str | None) -> str:
    """The codings count the viewer may see, saying whose it is while the project is blinded."""
    if not is_blinded(session):
        return str(_count(session, Coding))
    try:
        visible = visible_coder_ids(session, viewer)
    except BlindingError:
        return "hidden while blinded (say who you are with --as NAME)"
    if visible is None:
        return f"{_count(session, Coding)} (every coder's; the project is blinded)"
    return f"{_count(session, Coding, Coding.coder_id.in_(visible))} (yours only: the project is blinded)"


# -- import -------------------------------------------------------------------------------
@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--case", "case", metavar="NAME", help="Case (site) for every file; default: manifest, else folder name.")
@click.option("--manifest", type=click.Path(path_type=Path, dir_okay=False), help="CSV: file,title,case,kind,date,speaker_roles.")
@click.option("--kind", type=click.Choice(TRANSCRIPT_KINDS), help="Kind of transcript (default: manifest, else interview).")
@click.option("--unit", type=click.Choice(("turn", "paragraph", "sentence")), default="turn", show_default=True, help="Unit of analysis.")
@click.option("--speaker-pattern", metavar="REGEX", help="Speaker label at a line start; group `speaker` (or the first group) is the label.")
@click.option("--format", "fmt", type=click.Choice(("auto", "txt", "vtt", "srt", "docx", "csv", "qdpx")), default="auto", show_default=True, help="File format (auto: by extension).")
@as_option
@project_option
def import_cmd(paths, case, manifest, kind, unit, speaker_pattern, fmt, viewer, project_target) -> None:
    """Import transcript files or folders (a folder imports every supported file in it)."""
    from ..ingest.importer import ImportOptions, plan_import, run_job
    from ..ingest.writer import TranscriptWriter

    options = ImportOptions(case, kind, unit, speaker_pattern, fmt, manifest, _actor(viewer))
    plan = plan_import(paths, options)
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)
    with open_project_for(project_target) as project, TranscriptWriter(project) as writer:
        outcomes = []
        # A bar only where someone watches a batch: piped or for one file, it would add a line to the errors.
        progress = (click.progressbar(plan.jobs, label="importing", file=sys.stderr,
                                      item_show_func=lambda job: job.path.name if job else "")
                    if len(plan.jobs) > 1 and sys.stderr.isatty() else nullcontext(plan.jobs))
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
@click.group("coders")
def coders_group() -> None:
    """The people who code: coders, the lead analyst, auditors."""


def _add_coder(project, name: str, role: str, viewer: str | None, actor: str, login: str | None = None) -> Coder:
    """Add coder ``name`` (recorded as done by ``actor``), bound to ``login`` if given, in one
    transaction; once the project has a lead, only the lead (``viewer``) may."""
    from ..coding.identity import clean_login

    if not name:
        raise InputError("a coder needs a name")
    if name.casefold() in RESERVED_CODER_NAMES:
        raise InputError(f"{name!r} is reserved for the consensus layer: choose another coder name")
    login = clean_login(login)
    with project.transaction() as s:
        require_lead_once_appointed(s, viewer, f"adding a {role}")
        if s.exec(select(Coder).where(Coder.name == name)).scalars().first():
            raise InputError(f"coder {name!r} already exists")
        coder = Coder(name=name, role=role, login=login)
        s.add(coder)
        s.flush()
        audit.record(s, actor, "coder.add", coder)
    return coder


@coders_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(CODER_ROLES), default="coder", show_default=True)
@click.option("--login", metavar="ACCOUNT", help="Bind the coder to this operating-system login (see set-login).")
@as_option
@project_option
def coders_add(name: str, role: str, login: str | None, viewer: str | None, project_target: str) -> None:
    """Add a coder NAME (once the project has a lead, only the lead may: --as LEAD)."""
    with open_project_for(project_target) as project:
        coder = _add_coder(project, name.strip(), role, viewer, actor=_actor(viewer), login=login)
    click.echo(f"added {role} {coder.name}" + (f" (login {coder.login})" if coder.login else ""))


@coders_group.command("set-login")
@click.argument("name")
@click.argument("login", required=False)
@as_option
@project_option
def coders_set_login(name: str, login: str | None, viewer: str | None, project_target: str) -> None:
    """Bind coder NAME to the operating-system LOGIN; without LOGIN, unbind.

    A bound coder can be claimed (--as NAME, code --coder NAME) only from that login, so on a
    shared server nobody reads the others' codes by claiming to be the lead. Once the project
    has a lead, only the lead may bind or unbind.
    """
    from ..coding.identity import set_login

    with open_project_for(project_target) as project, project.transaction() as s:
        coder = set_login(s, viewer, name, login, actor=_actor(viewer))
    click.echo(f"{coder.name} is bound to the login {coder.login}" if coder.login else f"{coder.name} is not bound to a login")


@coders_group.command("list")
@output_options()
@project_option
def coders_list(fmt: str, out: str | None, project_target: str) -> None:
    """List coders and their roles."""
    with open_project_for(project_target) as project, project.read() as s:
        coders = list(s.exec(select(Coder).order_by(Coder.name)).scalars())
    rows = [[c.name, c.role, c.login or "", c.created_at.date().isoformat() if c.created_at else ""] for c in coders]
    emit(Table(["name", "role", "login", "added"], rows, title="Coders"), fmt, out)


# -- cases --------------------------------------------------------------------------------
@click.group("cases")
def cases_group() -> None:
    """Cases (sites such as schools) and their attributes."""


@cases_group.command("list")
@output_options()
@project_option
def cases_list(fmt: str, out: str | None, project_target: str) -> None:
    """List cases with their transcript counts and attributes (one column each)."""
    with open_project_for(project_target) as project, project.read() as s:
        cases = list(s.exec(select(Case).order_by(Case.name)).scalars())
        counts = dict(s.exec(select(Transcript.case_id, func.count()).group_by(Transcript.case_id)).all())
        attrs = list(s.exec(select(CaseAttribute).order_by(CaseAttribute.name)).scalars())
    names = list(dict.fromkeys(a.name for a in attrs))
    values = {(a.case_id, a.name): (a.number if a.type == "number" else a.value) for a in attrs}
    rows = [[c.name, counts.get(c.id, 0)] + [values.get((c.id, n)) for n in names] for c in cases]
    emit(Table(["case", "transcripts", *names], rows, title="Cases"), fmt, out)


@cases_group.command("import-attributes")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--create-cases", is_flag=True, help="Create cases the project does not have yet.")
@as_option
@project_option
def cases_import_attributes(file: Path, create_cases: bool, viewer: str | None, project_target: str) -> None:
    """Load case attributes from FILE.csv (wide: case,<attr>,...; or long: case,attribute,value[,type])."""
    from ..ingest.attributes import read_case_attributes, store_case_attributes

    values = read_case_attributes(file)
    with open_project_for(project_target) as project, project.transaction() as s:
        cases, written = store_case_attributes(s, file, values, _actor(viewer), create_cases)
    click.echo(f"{written} attribute values for {cases} cases from {file}")


# -- transcripts --------------------------------------------------------------------------
@click.group("transcripts")
def transcripts_group() -> None:
    """Imported transcripts."""


@transcripts_group.command("list")
@click.option("--case", "case", metavar="NAME", help="Only this case's transcripts.")
@output_options()
@project_option
def transcripts_list(case: str | None, fmt: str, out: str | None, project_target: str) -> None:
    """List transcripts with their case, kind, date and segment and speaker counts."""
    with open_project_for(project_target) as project:
        frame = project.transcripts()
    if case:
        frame = frame[frame["case"] == case]
    columns = ["id", "title", "case", "kind", "date", "source_name", "unit", "segments", "speakers"]
    table = Table.from_frame(frame[columns], title="Transcripts")
    emit(table, fmt, out)


def find_transcript(session, ref: str, case: str | None = None) -> Transcript:
    """A transcript by id or title (``--case`` settles a title used in two cases)."""
    stmt = select(Transcript)
    if ref.isdigit():
        stmt = stmt.where(Transcript.id == int(ref))
    else:
        stmt = stmt.where(Transcript.title == ref)
    if case:
        stmt = stmt.join(Case, Case.id == Transcript.case_id).where(Case.name == case)
    hits = list(session.exec(stmt).scalars())
    if not hits:
        raise InputError(f"no transcript {ref!r}" + (f" in case {case!r}" if case else ""))
    if len(hits) > 1:
        raise InputError(f"{len(hits)} transcripts are titled {ref!r}: give --case or the id ({', '.join(str(t.id) for t in hits)})")
    return hits[0]


@transcripts_group.command("show")
@click.argument("transcript")
@click.option("--case", "case", metavar="NAME", help="The case, where a title is used in several.")
@click.option("--text", "as_text", is_flag=True, help="Print the stored text as it reads instead of the segments.")
@output_options()
@project_option
def transcripts_show(transcript: str, case: str | None, as_text: bool, fmt: str, out: str | None, project_target: str) -> None:
    """Show TRANSCRIPT (id or title): its segments with speakers and offsets, or its --text."""
    with open_project_for(project_target) as project, project.read() as s:
        row = find_transcript(s, transcript, case)
        segments = s.exec(
            select(Segment, Speaker).outerjoin(Speaker, Speaker.id == Segment.speaker_id)
            .where(Segment.transcript_id == row.id).order_by(Segment.position)
        ).all()
    if as_text:
        click.echo(row.text)
        return
    rows = [[seg.position, spk.label if spk else None, spk.role if spk else None, seg.start, seg.end,
             seg.time_start, row.text[seg.start:seg.end]] for seg, spk in segments]
    table = Table(["position", "speaker", "role", "start", "end", "time", "text"], rows, title=row.title)
    emit(table, fmt, out)


# -- speakers -----------------------------------------------------------------------------
@click.group("speakers")
def speakers_group() -> None:
    """Speakers per transcript: label as written, role, pseudonym."""


@speakers_group.command("list")
@click.option("--transcript", "transcript", metavar="ID_OR_TITLE", help="Only this transcript's speakers.")
@output_options()
@project_option
def speakers_list(transcript: str | None, fmt: str, out: str | None, project_target: str) -> None:
    """List speakers with their role, pseudonym and number of segments."""
    with open_project_for(project_target) as project, project.read() as s:
        stmt = (
            select(Speaker.id, Transcript.title, Speaker.label, Speaker.role, Speaker.pseudonym, func.count(Segment.id))
            .join(Transcript, Transcript.id == Speaker.transcript_id)
            .outerjoin(Segment, Segment.speaker_id == Speaker.id)
            .group_by(Speaker.id, Transcript.title, Speaker.label, Speaker.role, Speaker.pseudonym)
            .order_by(Transcript.title, Speaker.label)
        )
        if transcript:
            stmt = stmt.where(Speaker.transcript_id == find_transcript(s, transcript).id)
        rows = [list(r) for r in s.exec(stmt).all()]
    emit(Table(["id", "transcript", "label", "role", "pseudonym", "segments"], rows, title="Speakers"), fmt, out)


@speakers_group.command("set")
@click.argument("transcript")
@click.argument("label")
@click.option("--role", type=click.Choice(SPEAKER_ROLES), help="The speaker's role.")
@click.option("--pseudonym", metavar="NAME", help="A pseudonym to show instead of the label (empty to clear).")
@click.option("--case", "case", metavar="NAME", help="The case, where a title is used in several.")
@as_option
@project_option
def speakers_set(transcript, label, role, pseudonym, case, viewer, project_target) -> None:
    """Set the role and/or pseudonym of speaker LABEL in TRANSCRIPT (id or title)."""
    if role is None and pseudonym is None:
        raise InputError("nothing to set: give --role and/or --pseudonym")
    with open_project_for(project_target) as project, project.transaction() as s:
        row = find_transcript(s, transcript, case)
        speaker = s.exec(select(Speaker).where(Speaker.transcript_id == row.id, Speaker.label == label)).scalars().first()
        if speaker is None:
            labels = s.exec(select(Speaker.label).where(Speaker.transcript_id == row.id)).scalars().all()
            raise InputError(f"no speaker {label!r} in {row.title!r} (speakers: {', '.join(labels)})")
        before = audit.row_dict(speaker)
        if role is not None:
            speaker.role = role
        if pseudonym is not None:
            speaker.pseudonym = pseudonym.strip() or None
        s.add(speaker)
        s.flush()
        audit.record(s, _actor(viewer), "speaker.set", speaker, before=before, after=audit.row_dict(speaker))
    click.echo(f"{row.title}: {label} is {speaker.role}" + (f", shown as {speaker.pseudonym}" if speaker.pseudonym else ""))


def register(cli: click.Group) -> None:
    for command in (init_cmd, status_cmd, import_cmd, coders_group, cases_group, transcripts_group, speakers_group):
        cli.add_command(command)
