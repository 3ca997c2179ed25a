"""Writing transcripts into a project: one transaction per transcript, duplicates skipped.

``plan_import`` checks every path and the manifest before anything is written;
``run_job`` then reads, segments and stores one file, reporting an ``Outcome`` per
transcript. A failure rolls its own transaction back and leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..decoding import check_encoding, content_hash, read_text
from ..errors import InputError, QualcodeError, located
from ..store.models import SPEAKER_ROLES, TRANSCRIPT_KINDS, Case, Speaker, Transcript, utcnow
from ..store.roles import require_lead_once_appointed
from ..store.values import check_text
from .csv_turns import is_turn_table
from .manifest import ManifestEntry, normalise_kind, read_manifest
from .segmentation import UNITS, segment
from .sources import FORMAT_BY_SUFFIX, FORMATS, Source, detect_format, read_sources
from .speakers import compile_speaker_pattern, role_base
from .writer import TranscriptWriter

MANIFEST_NAME = "manifest.csv"
UNKNOWN_SPEAKER = "Unknown"


@dataclass
class ImportOptions:
    case: str | None = None
    kind: str | None = None
    unit: str = "turn"
    speaker_pattern: str | None = None
    format: str = "auto"
    manifest: Path | None = None
    actor: str = ""
    encoding: str | None = None  # None: detected (UTF-8, UTF-16, cp1252)


@dataclass
class ImportJob:
    """One file to import, with what the command line, manifest and folder say about it."""

    path: Path
    format: str
    case: str | None = None
    entry: ManifestEntry | None = None


@dataclass
class Outcome:
    source: str
    status: str  # imported | skipped | failed
    message: str = ""
    title: str | None = None
    case: str | None = None
    transcript_id: int | None = None
    segments: int = 0
    speakers: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    jobs: list[ImportJob]
    notes: list[str] = field(default_factory=list)


def _check_options(options: ImportOptions) -> None:
    if options.unit not in UNITS:
        raise InputError(f"--unit must be one of {', '.join(UNITS)}")
    if options.format != "auto" and options.format not in FORMATS:
        raise InputError(f"--format must be auto or one of {', '.join(FORMATS)}")
    if options.kind is not None and normalise_kind(options.kind) is None:
        raise InputError(f"--kind must be one of {', '.join(TRANSCRIPT_KINDS)}")
    compile_speaker_pattern(options.speaker_pattern)
    check_encoding(options.encoding)


def _folder_files(
    folder: Path, manifest: dict[Path, ManifestEntry] | None, notes: list[str], encoding: str | None = None
) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))
    if manifest is not None:
        listed = [p for p in files if p.resolve() in manifest]
        left_out = [
            p
            for p in files
            if p.resolve() not in manifest and p.suffix.casefold() in FORMAT_BY_SUFFIX and p.name != MANIFEST_NAME
        ]
        if left_out:
            notes.append(
                f"{folder}: {len(left_out)} file(s) not in the manifest left out: {', '.join(p.name for p in left_out)}"
            )
        return listed
    chosen = []
    for p in files:
        if p.suffix.casefold() not in FORMAT_BY_SUFFIX:
            continue
        if p.suffix.casefold() == ".csv" and not _maybe_turn_table(p, encoding):
            notes.append(f"{p}: not a turn table (no speaker and text columns), left out")
            continue
        if FORMAT_BY_SUFFIX[p.suffix.casefold()] == "md" and not _maybe_markdown_transcript(p, encoding):
            notes.append(f"{p}: Markdown without speakers (a README or notes?), left out: import it by name to keep it")
            continue
        chosen.append(p)
    return chosen


def _maybe_markdown_transcript(path: Path, encoding: str | None) -> bool:
    """Whether a folder's Markdown file has speakers (a folder's README is not a transcript); an
    unreadable one is kept, so that its import fails with the reason in the batch's summary."""
    from .markdown import parse_markdown

    try:
        return parse_markdown(read_text(path, encoding), None, path).has_speakers
    except InputError:
        return True


def _maybe_turn_table(path: Path, encoding: str | None) -> bool:
    """Whether a folder's CSV is a turn table; an unreadable one is kept, so that its import fails
    with the reason in the batch's summary instead of stopping the whole batch here."""
    try:
        return is_turn_table(read_text(path, encoding), path)
    except InputError:
        return True


def plan_import(paths: Iterable[str | Path], options: ImportOptions) -> ImportPlan:
    """Every file to import; raises ``InputError`` (nothing written) for a bad path or manifest."""
    _check_options(options)
    given = [Path(p) for p in paths]
    if not given:
        raise InputError("nothing to import: give one or more files or folders")
    for path in given:
        if not path.exists():
            raise InputError(located(path, "no such file or folder"))
    manifest = read_manifest(options.manifest) if options.manifest else None
    plan = ImportPlan([])
    for path in given:
        if path.is_dir():
            folder_manifest = manifest
            if folder_manifest is None and (path / MANIFEST_NAME).is_file():
                folder_manifest = read_manifest(path / MANIFEST_NAME)
                plan.notes.append(f"{path / MANIFEST_NAME}: using this manifest")
            files = _folder_files(path, folder_manifest, plan.notes, options.encoding)
            if not files:
                raise InputError(located(path, "no transcript files in this folder"))
            for file in files:
                entry = folder_manifest.get(file.resolve()) if folder_manifest else None
                plan.jobs.append(_job(file, options, entry, folder_case=path.resolve().name))
        else:
            entry = manifest.get(path.resolve()) if manifest else None
            plan.jobs.append(_job(path, options, entry, folder_case=None))
    return plan


def _job(path: Path, options: ImportOptions, entry: ManifestEntry | None, folder_case: str | None) -> ImportJob:
    case = options.case or (entry.case if entry else None) or folder_case
    return ImportJob(path, detect_format(path, options.format), case, entry)


def run_job(project, job: ImportJob, options: ImportOptions, writer: TranscriptWriter | None = None) -> list[Outcome]:
    """Read, segment and store one file; one outcome per transcript in it.

    Pass an open ``writer`` to reuse one connection across a batch (``import_paths`` does).
    """
    if writer is None:
        with TranscriptWriter(project) as writer:
            return run_job(project, job, options, writer)
    try:
        sources, notes = read_sources(
            job.path, job.format, compile_speaker_pattern(options.speaker_pattern), options.encoding
        )
    except QualcodeError as exc:
        return [Outcome(str(job.path), "failed", str(exc))]
    outcomes = []
    for source in sources:
        try:
            with writer.transaction():
                outcome = store_source(writer, source, job, options)
        except QualcodeError as exc:
            outcome = Outcome(str(job.path), "failed", str(exc), source.title, job.case)
        except writer.integrity_errors as exc:  # another process stored the same title meanwhile
            detail = getattr(exc, "orig", exc)
            outcome = Outcome(
                str(job.path), "failed", located(job.path, f"conflicts with a stored transcript ({detail})")
            )
        outcomes.append(outcome)
    if outcomes:
        outcomes[0].notes[:0] = notes
    return outcomes


# Role words other tools and transcribers write, and the role each names.
ROLE_SYNONYMS = {
    "facilitator": "moderator",
    "host": "moderator",
    "interviewee": "participant",
    "respondent": "participant",
    "principal": "administrator",
    # abbreviations transcribers use (``R`` and ``P1`` are left alone: researcher or respondent?)
    "i": "interviewer",
    "int": "interviewer",
    "mod": "moderator",
    "resp": "participant",
}


def default_role(label: str) -> str:
    """``Interviewer``, ``interviewer``, ``Interviewer 1``, ``Moderator 2`` -> their role (a
    ``Facilitator`` is a moderator, a ``Respondent`` a participant); other labels stay unknown."""
    word = role_base(label)
    word = ROLE_SYNONYMS.get(word, word)
    return word if word in SPEAKER_ROLES and word != "unknown" else "unknown"


def store_source(writer: TranscriptWriter, source: Source, job: ImportJob, options: ImportOptions) -> Outcome:
    """Store one transcript inside ``writer``'s open transaction."""
    parsed = source.parsed
    entry = job.entry
    title = (entry.title if entry and entry.title and job.format != "qdpx" else None) or source.title
    where = str(job.path)
    check_text(title, "transcript title", Transcript, "title", path=job.path)
    check_text(job.case, "case name", Case, "name", path=job.path)
    check_text(parsed.text, "transcript text", path=job.path)
    digest = content_hash(parsed.text)
    duplicate = writer.duplicate_title(digest)
    if duplicate is not None:
        return Outcome(where, "skipped", f"already imported as {duplicate!r}", title, job.case)
    case_id = writer.case_id(job.case) if job.case else None
    if writer.title_taken(title, case_id):
        in_case = f" in case {job.case!r}" if job.case else " (no case)"
        raise InputError(located(job.path, f"a different transcript titled {title!r} already exists{in_case}"))

    units = segment(parsed, options.unit)
    for label in dict.fromkeys(u.speaker or UNKNOWN_SPEAKER for u in units):
        check_text(label, "speaker label", Speaker, "label", path=job.path)
    kind = normalise_kind(options.kind) if options.kind else (entry.kind if entry and entry.kind else None)
    kind = kind or ("interview" if parsed.has_speakers else "document")
    transcript_id = writer.insert_transcript(
        {
            "title": title,
            "kind": kind,
            "case_id": case_id,
            "date": entry.date if entry else None,
            "source_name": source.name,
            "source_format": parsed.format,
            "content_hash": digest,
            "unit": units[0].unit if units else options.unit,
            "text": parsed.text,
            "created_at": utcnow(),
        }
    )

    roles = {label.casefold(): role for label, role in (entry.speaker_roles if entry else {}).items()}
    labels = list(dict.fromkeys(u.speaker or UNKNOWN_SPEAKER for u in units))
    notes = list(parsed.notes)
    unmatched = sorted(set(roles) - {label.casefold() for label in labels})
    if unmatched:
        notes.append(f"speaker_roles name speakers not in this transcript: {', '.join(unmatched)}")
    speaker_ids = (
        writer.insert_speakers(
            transcript_id, [(label, roles.get(label.casefold()) or default_role(label)) for label in labels]
        )
        if labels
        else {}
    )
    writer.insert_segments(
        [
            (
                transcript_id,
                i,
                u.start,
                u.end,
                speaker_ids[u.speaker or UNKNOWN_SPEAKER],
                u.unit,
                u.time_start,
                u.time_end,
            )
            for i, u in enumerate(units, start=1)
        ]
    )
    writer.record_audit(
        options.actor,
        "transcript.import",
        "qc_transcript",
        transcript_id,
        {
            "title": title,
            "case": job.case,
            "kind": kind,
            "source_name": source.name,
            "content_hash": digest,
            "segments": len(units),
            "speakers": len(labels),
        },
    )
    return Outcome(where, "imported", "", title, job.case, transcript_id, len(units), len(labels), notes)


def import_paths(project, paths: Iterable[str | Path], options: ImportOptions | None = None) -> list[Outcome]:
    """Import files and folders into ``project`` (a notebook-friendly entry point)."""
    options = options or ImportOptions()
    with project.read() as session:  # transcripts are shared material: the lead's, once appointed
        require_lead_once_appointed(session, options.actor or None, "importing transcripts")
    plan = plan_import(paths, options)
    with TranscriptWriter(project) as writer:
        return [outcome for job in plan.jobs for outcome in run_job(project, job, options, writer)]
