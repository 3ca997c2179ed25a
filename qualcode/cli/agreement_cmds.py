"""``qualcode agreement`` and ``qualcode reconcile ...`` (the lead's review of disagreements)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import QualcodeError
from ..table import Table
from .common import (
    FORMATS_LIST,
    FORMATS_MANUSCRIPT,
    QualcodeGroup,
    as_option,
    codebook_option,
    emit,
    open_project,
    output_options,
    pass_project,
    project_option,
    round_option,
    say,
    segment_ref,
    stored_number,
    stored_offset,
)

if TYPE_CHECKING:
    from sqlmodel import Session

    from ..project import Project

coders_option = click.option(
    "--coders",
    metavar="A,B,...",
    help="Coders to compare (default: every coder who has marked a segment done; 'consensus' is the reconciled layer).",
)


def _names(text: str | None) -> list[str] | None:
    """The coders ``--coders A,B`` names, each once: a coder cannot be compared with herself."""
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise QualcodeError(f"--coders names {', '.join(repeated)} twice: a coder cannot be compared with herself")
    return names


def _segment(session: Session, ref: str):
    """A segment by ``#ID``, ``TITLE:POSITION`` (unique title) or ``CASE/TITLE:POSITION``."""
    from ..coding.refs import find_segment

    return find_segment(session, ref)


def _resolver(session: Session, codebook: str | None):
    from ..codebook.lookup import CodeResolver, get_codebook

    return CodeResolver(session, get_codebook(session, codebook), include_retired=True)


@click.command("agreement")
@pass_project
@coders_option
@click.option(
    "--by",
    "by",
    type=click.Choice(("code", "case", "transcript", "round", "version")),
    default="code",
    show_default=True,
    help="One row per code, or one summary per case, transcript, round or codebook version "
    "(codings and done marks belong to the version in force when they were made).",
)
@round_option
@click.option(
    "--level",
    type=click.Choice(("code", "domain", "category")),
    help="CQR codebooks: domains or categories (default: category; codes for other codebooks).",
)
@codebook_option
@click.option("--ci", is_flag=True, help="Add seeded percentile bootstrap 95% confidence intervals.")
@click.option(
    "--resamples", type=click.IntRange(50), default=1000, show_default=True, help="Bootstrap resamples for --ci."
)
@click.option("--seed", type=stored_offset, default=0, show_default=True, help="Bootstrap seed for --ci.")
@output_options(FORMATS_MANUSCRIPT)
def agreement_cmd(project: Project, coders, by, round_, level, codebook, ci, resamples, seed, fmt, out) -> None:
    """Intercoder agreement: pooled kappa, Cohen, Fleiss, Gwet's AC1 and Krippendorff's alpha per code.

    Statistics that cannot exceed 1 print APA style (.78) in the table, md, LaTeX, docx and html;
    csv, json and xlsx keep full precision. An undefined statistic shows as n/a.
    """
    from ..agreement.report import agreement_report, report_table

    with project.read() as s:
        report = agreement_report(
            s,
            project.user,
            codebook=codebook,
            coders=_names(coders),
            round=round_,
            level=level,
            by=by,
            ci=ci,
            resamples=resamples,
            seed=seed,
        )
    emit(report_table(report), fmt, out, json_data=report.to_json())


# -- reconcile ----------------------------------------------------------------------------
@click.group("reconcile", cls=QualcodeGroup)
def reconcile_group() -> None:
    """The lead analyst's review: disagreements, decisions, memos, flags and round 2."""


@reconcile_group.command("queue")
@pass_project
@coders_option
@round_option
@codebook_option
@click.option("--code", metavar="CODE", help="Only disagreements about this code (name, key or path).")
@click.option("--all", "include_decided", is_flag=True, help="Include disagreements already decided.")
@output_options(FORMATS_LIST)
def reconcile_queue(project: Project, coders, round_, codebook, code, include_decided, fmt, out) -> None:
    """Segments where coders differ, per code, with who applied it and any decision."""
    from ..agreement.queue import disagreement_queue
    from ..coding.refs import SegmentRefs

    with project.read() as s:
        items = disagreement_queue(
            s,
            project.user,
            codebook=codebook,
            coders=_names(coders),
            round=round_,
            code=code,
            include_decided=include_decided,
        )
        refs = SegmentRefs(s)
        ref_of = {i.segment_id: refs.ref(i.segment_id) for i in items}
    rows = [
        [
            ref_of[i.segment_id],
            i.case or "",
            d["path"],
            ", ".join(d["applied_by"]),
            ", ".join(d["omitted_by"]),
            ""
            if d["decision"] is None
            else f"{'yes' if d['decision']['present'] else 'no'} ({d['decision']['method']})",
            " ".join(i.text.split())[:80],
        ]
        for i in items
        for d in i.disputed
    ]
    table = Table(
        columns=["Segment", "Case", "Code", "Applied by", "Not by", "Decision", "Text"],
        rows=rows,
        title="Disagreements to reconcile",
    )
    emit(table, fmt, out, json_data=[{"ref": ref_of[i.segment_id], **i.as_dict()} for i in items])


@reconcile_group.command("decide")
@project_option
@as_option
@click.argument("segment", type=segment_ref)
@click.option(
    "--code",
    "codes",
    multiple=True,
    metavar="CODE",
    help="Code(s) to decide (default: every disputed code on the segment).",
)
@click.option("--take", "take", metavar="CODER", help="Take this coder's decision.")
@click.option("--union", "method", flag_value="union", help="Present if any compared coder applied it.")
@click.option(
    "--intersection", "method", flag_value="intersection", help="Present only if every compared coder applied it."
)
@click.option("--present", type=click.Choice(("yes", "no")), help="Set the consensus by hand.")
@coders_option
@round_option
@codebook_option
def reconcile_decide(project_target, viewer, segment, codes, take, method, present, coders, round_, codebook) -> None:
    """Decide the consensus on SEGMENT (#ID, TRANSCRIPT:POSITION or CASE/TRANSCRIPT:POSITION)."""
    from ..agreement.decisions import decide
    from ..agreement.queue import disagreement_queue

    chosen = [m for m in (take and "take", method, present and "manual") if m]
    if len(chosen) != 1:
        raise QualcodeError("give exactly one of --take CODER, --union, --intersection, --present yes|no")
    with open_project(project_target, viewer) as project, project.transaction() as s:
        seg = _segment(s, segment)
        if codes:
            resolver = _resolver(s, codebook)
            code_ids = [resolver.resolve(c).id for c in codes]
        else:
            items = disagreement_queue(
                s, project.user, codebook=codebook, coders=_names(coders), round=round_, include_decided=True
            )
            code_ids = [d["code_id"] for i in items if i.segment_id == seg.id for d in i.disputed]
            if not code_ids:
                raise QualcodeError(f"no disagreement on {segment}: name the code with --code")
        for code_id in code_ids:
            row = decide(
                s,
                project.user or "",
                seg.id,
                code_id,
                chosen[0],
                coder=take,
                coders=_names(coders),
                present=None if present is None else present == "yes",
                round=round_,
            )
            say(f"{segment}: code {code_id} {'present' if row.present else 'absent'} ({row.method})", err=True)


@reconcile_group.command("accept-agreed")
@pass_project
@coders_option
@round_option
@codebook_option
def reconcile_accept_agreed(project: Project, coders, round_, codebook) -> None:
    """Put every code all compared coders applied (on segments they all finished) into the consensus."""
    from ..agreement.decisions import accept_agreed_in_chunks

    n = accept_agreed_in_chunks(project, project.user or "", codebook=codebook, coders=_names(coders), round=round_)
    click.echo(f"accepted {n} agreed codings into the consensus", err=True)


@reconcile_group.command("memo")
@pass_project
@click.argument("segment", type=segment_ref)
@click.argument("text")
@click.option("--code", metavar="CODE", help="The code the memo is about.")
@codebook_option
def reconcile_memo(project: Project, segment, text, code, codebook) -> None:
    """Write a reconciliation memo on SEGMENT (linked to its case, and to --code)."""
    from ..agreement.decisions import reconciliation_memo

    with project.transaction() as s:
        seg = _segment(s, segment)
        code_id = _resolver(s, codebook).resolve(code).id if code else None
        reconciliation_memo(s, project.user or "", seg.id, text, code_id)
    say(f"memo added to {segment}", err=True)


@reconcile_group.command("flag")
@pass_project
@click.argument("code")
@click.argument("text")
@click.option(
    "--segment",
    type=segment_ref,
    metavar="SEGMENT",
    help="The segment that shows the problem (#ID, TRANSCRIPT:POSITION or CASE/TRANSCRIPT:POSITION).",
)
@codebook_option
def reconcile_flag(project: Project, code, text, segment, codebook) -> None:
    """Flag CODE for revision in the codebook, saying why."""
    from ..agreement.decisions import flag_for_revision

    with project.transaction() as s:
        resolved = _resolver(s, codebook).resolve(code)
        seg_id = _segment(s, segment).id if segment else None
        flag_for_revision(s, project.user or "", resolved.id, text, seg_id)
    say(f"flagged {code} for revision", err=True)


@reconcile_group.command("round2")
@pass_project
@click.argument("transcripts", nargs=-1, required=True)
@click.option("--round", "round_", type=stored_number, help="Round number (default: the next one).")
@click.option("--note", default="", help="Why the transcripts go back to coding.")
def reconcile_round2(project: Project, transcripts, round_, note) -> None:
    """Send TRANSCRIPTS (TITLE, or CASE/TITLE where titles repeat) to another round of blind coding."""
    from ..coding.refs import SegmentRefs
    from ..coding.rounds import open_round

    with project.transaction() as s:
        refs = SegmentRefs(s)
        ids = [refs.transcript(name) for name in transcripts]
        number = open_round(s, project.user or "", ids, note=note, number=round_)
    click.echo(f"round {number}: {len(ids)} transcript(s) to recode", err=True)
