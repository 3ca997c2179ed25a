"""``qualcode code`` (the workbench), ``unblind``/``blind`` and ``rounds`` (lead actions), and
``codings import|export`` (exchange with other tools)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import QualcodeError
from ..table import Table
from .common import (
    QualcodeGroup,
    codebook_option,
    emit,
    open_project,
    output_options,
    pass_project,
    project_option,
    root_default,
    round_option,
    say,
    stored_number,
)

if TYPE_CHECKING:
    from ..project import Project


@click.command("code")
@project_option
@click.option(
    "--coder",
    "coder",
    default=root_default("viewer", "QUALCODE_USER", None),
    metavar="NAME",
    help="Who is coding (or the top-level --as, or $QUALCODE_USER); a coder sees only their own codings.",
)
@click.option("--transcript", "transcript", metavar="TITLE", help="Open this transcript (or CASE/TITLE) at once.")
@click.option(
    "--all-coders",
    "side_by_side",
    is_flag=True,
    default=None,
    help="Lead: start with every coder's codes shown beside each segment.",
)
def code_cmd(project_target: str, coder: str | None, transcript: str | None, side_by_side: bool | None) -> None:
    """Open the coding workbench (keys: press ? inside; see docs/workbench.md).

    On a team server the coder is the one bound to the connection's login role: --coder is then
    not needed (naming someone else is refused)."""
    from ..tui.app import create_app

    with open_project(project_target, coder) as project:
        coder = coder or project.user  # a team server knows the coder from the connection
        if not coder:
            raise QualcodeError("say who is coding with --coder NAME (or qualcode --as NAME code, or $QUALCODE_USER)")
        transcript_id = None
        if transcript:
            from ..ingest.catalog import transcript_ids_by_title  # only to look a title up

            with project.read() as s:
                transcript_id = transcript_ids_by_title(s, (transcript,))[0]
        create_app(project, coder, transcript_id=transcript_id, side_by_side=side_by_side).run()


def _set_blinding(project: Project, blinded: bool) -> None:
    from ..coding.blinding import set_blinded

    with project.transaction() as s:
        set_blinded(s, project.user, blinded)
    click.echo(
        "project blinded: coders see only their own codings"
        if blinded
        else "project unblinded: every coder sees everyone's codings"
    )


@click.command("unblind")
@pass_project
def unblind_cmd(project: Project) -> None:
    """Lead: let every coder see everyone's codings (recorded in the audit trail)."""
    _set_blinding(project, False)


@click.command("blind")
@pass_project
def blind_cmd(project: Project) -> None:
    """Lead: hide each coder's codings from the other coders again (audited)."""
    _set_blinding(project, True)


# -- rounds -------------------------------------------------------------------------------
@click.group("rounds", cls=QualcodeGroup)
def rounds_group() -> None:
    """Coding rounds: round 1 covers everything; the lead opens later rounds."""


@rounds_group.command("list")
@pass_project(with_as=False)
@output_options()
def rounds_list(project: Project, fmt: str, out: str | None) -> None:
    """Rounds opened so far, with their transcripts."""
    from ..coding.catalog import list_rounds

    with project.read() as s:
        opened = list_rounds(s)
    rows = [[1, "", "", "every transcript", ""]]
    rows += [
        [r.number, r.opened_by, r.opened_at.date().isoformat() if r.opened_at else "", "; ".join(r.transcripts), r.note]
        for r in opened
    ]
    titles = {r.number: r.transcripts for r in opened}
    table = Table(columns=["round", "opened_by", "opened", "transcripts", "note"], rows=rows, title="Coding rounds")
    emit(
        table,
        fmt,
        out,
        json_data=[
            {
                "round": row[0],
                "opened_by": row[1],
                "opened": row[2],
                "transcripts": titles.get(row[0], []) if row[0] > 1 else "all",
                "note": row[4],
            }
            for row in rows
        ],
    )


@rounds_group.command("open")
@pass_project
@click.argument("transcripts", nargs=-1, required=True, metavar="TRANSCRIPT...")
@click.option("--note", default="", help="Why these transcripts are recoded (shown in `rounds list`).")
@click.option(
    "--round", "number", type=stored_number, help="Round number (default: one past the transcripts' current round)."
)
def rounds_open(project: Project, transcripts: tuple[str, ...], note: str, number: int | None) -> None:
    """Lead: send TRANSCRIPT... (titles or CASE/TITLE) to a new round; coders recode them blind."""
    from ..coding.rounds import open_round
    from ..ingest.catalog import transcript_ids_by_title

    with project.transaction() as s:
        ids = transcript_ids_by_title(s, transcripts)
        opened = open_round(s, project.user, ids, note, number)
    click.echo(f"round {opened} opened for {len(ids)} transcript{'s' if len(ids) != 1 else ''}")


# -- codings ------------------------------------------------------------------------------
@click.group("codings", cls=QualcodeGroup)
def codings_group() -> None:
    """Exchange codings with other tools as CSV."""


@codings_group.command("import")
@pass_project
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--consensus", is_flag=True, help="Load the rows into the consensus layer (lead only).")
@codebook_option
def codings_import(project: Project, file: str, consensus: bool, codebook: str | None) -> None:
    """Import codings from FILE.csv (transcript,segment,coder,code[,case,round,start,end]).

    A coder imports only their own rows (--as NAME); the lead imports anyone's. A row with an
    empty code records that the coder finished the transcript with nothing (more) to code.
    """
    from ..coding.exchange import import_codings_in_chunks

    n = import_codings_in_chunks(project, file, project.user or "", consensus=consensus, codebook=codebook)
    say(f"imported {n} {'consensus decisions' if consensus else 'codings'} from {file}", err=True)


@codings_group.command("export")
@pass_project
@click.option(
    "--coder", "layer", metavar="NAME", help="Only this coder's codings ('consensus' for the reconciled layer)."
)
@round_option
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False), help="Write to FILE instead of the terminal.")
@click.option(
    "--pseudonymize",
    is_flag=True,
    help="Accepted de-identification terms replaced by their pseudonyms; start/end become offsets into the "
    "pseudonymized text (docs/deidentify.md).",
)
def codings_export(
    project: Project, layer: str | None, round_: int | None, out: str | None, pseudonymize: bool
) -> None:
    """Export codings as CSV in the import format (blinding applies)."""
    from ..coding.exchange import export_codings
    from ..export.writers import output_path

    path = output_path(out) if out else None  # a missing folder is refused before any work
    with project.read() as s:
        text = export_codings(s, project.user, layer=layer, round=round_)
        if pseudonymize:
            from ..assist.pseudonymize import Pseudonymizer, pseudonymize_codings_csv

            text = pseudonymize_codings_csv(s, text, Pseudonymizer.for_session(s))
    if path:
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text, nl=False)
