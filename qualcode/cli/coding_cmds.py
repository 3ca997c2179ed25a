"""``qualcode code`` (the workbench), ``unblind``/``blind`` and ``rounds`` (lead actions)."""

from __future__ import annotations

import click
from sqlalchemy import select

from ..table import Table
from .common import as_option, emit, fail, open_project_for, output_options, project_option, _from_root


def resolve_transcripts(session, names: tuple[str, ...]) -> list[int]:
    """Transcript ids for titles (or ``Case/Title`` where a title repeats across cases)."""
    from ..store.models import Case, Transcript

    ids = []
    for name in names:
        case, _, title = name.rpartition("/")
        stmt = select(Transcript.id, Case.name).outerjoin(Case, Case.id == Transcript.case_id).where(Transcript.title == title.strip())
        if case:
            stmt = stmt.where(Case.name == case.strip())
        rows = session.exec(stmt).all()
        if not rows:
            fail(f"unknown transcript {name!r} (see `qualcode transcripts`)")
        if len(rows) > 1:
            fail(f"transcript title {name!r} is in several cases ({', '.join(sorted(c or '' for _, c in rows))}): "
                 f"write CASE/TITLE")
        ids.append(rows[0][0])
    return ids


def register(cli: click.Group) -> None:
    @cli.command("code")
    @project_option
    @click.option("--coder", "coder", default=_from_root("viewer", "QUALCODE_USER", None), metavar="NAME",
                  help="Who is coding (or the top-level --as, or $QUALCODE_USER); a coder sees only their own codings.")
    @click.option("--transcript", "transcript", metavar="TITLE", help="Open this transcript (or CASE/TITLE) at once.")
    @click.option("--all-coders", "side_by_side", is_flag=True, default=None,
                  help="Lead: start with every coder's codes shown beside each segment.")
    def code(project_target: str, coder: str | None, transcript: str | None, side_by_side: bool | None) -> None:
        """Open the coding workbench (keys: press ? inside; see docs/workbench.md)."""
        if not coder:
            fail("say who is coding with --coder NAME (or qualcode --as NAME code, or $QUALCODE_USER)")
        from ..tui.app import create_app

        project = open_project_for(project_target, coder)
        transcript_id = None
        if transcript:
            with project.read() as s:
                transcript_id = resolve_transcripts(s, (transcript,))[0]
        app = create_app(project, coder, transcript_id=transcript_id, side_by_side=side_by_side)
        try:
            app.run()
        finally:
            project.close()

    def set_blinding(project_target: str, viewer: str | None, blinded: bool) -> None:
        from ..coding.blinding import set_blinded

        project = open_project_for(project_target, viewer)
        with project.transaction() as s:
            set_blinded(s, viewer, blinded)
        project.close()
        click.echo("project blinded: coders see only their own codings" if blinded
                   else "project unblinded: every coder sees everyone's codings")

    @cli.command("unblind")
    @project_option
    @as_option
    def unblind(project_target: str, viewer: str | None) -> None:
        """Lead: let every coder see everyone's codings (recorded in the audit trail)."""
        set_blinding(project_target, viewer, False)

    @cli.command("blind")
    @project_option
    @as_option
    def blind(project_target: str, viewer: str | None) -> None:
        """Lead: hide each coder's codings from the other coders again (audited)."""
        set_blinding(project_target, viewer, True)

    @cli.group("rounds")
    def rounds() -> None:
        """Coding rounds: round 1 covers everything; the lead opens later rounds."""

    @rounds.command("list")
    @project_option
    @output_options()
    def rounds_list(project_target: str, fmt: str, out: str | None) -> None:
        """Rounds opened so far, with their transcripts."""
        from ..store.models import Case, Round, RoundTranscript, Transcript

        project = open_project_for(project_target)
        with project.read() as s:
            opened = list(s.exec(select(Round).order_by(Round.number)).scalars())
            links = s.exec(
                select(RoundTranscript.round, Transcript.title, Case.name)
                .join(Transcript, Transcript.id == RoundTranscript.transcript_id)
                .outerjoin(Case, Case.id == Transcript.case_id)
                .order_by(RoundTranscript.round, Case.name, Transcript.title)
            ).all()
        project.close()
        titles: dict[int, list[str]] = {}
        for number, title, case in links:
            titles.setdefault(number, []).append(f"{case}/{title}" if case else title)
        rows = [[1, "", "", "every transcript", ""]]
        rows += [[r.number, r.opened_by, r.opened_at.date().isoformat() if r.opened_at else "",
                  "; ".join(titles.get(r.number, [])), r.note] for r in opened]
        table = Table(columns=["round", "opened_by", "opened", "transcripts", "note"], rows=rows, title="Coding rounds")
        emit(table, fmt, out, json_data=[
            {"round": row[0], "opened_by": row[1], "opened": row[2],
             "transcripts": titles.get(row[0], []) if row[0] > 1 else "all", "note": row[4]} for row in rows
        ])

    @rounds.command("open")
    @project_option
    @as_option
    @click.argument("transcripts", nargs=-1, required=True, metavar="TRANSCRIPT...")
    @click.option("--note", default="", help="Why these transcripts are recoded (shown in `rounds list`).")
    @click.option("--round", "number", type=int, help="Round number (default: one past the transcripts' current round).")
    def rounds_open(project_target: str, viewer: str | None, transcripts: tuple[str, ...], note: str, number: int | None) -> None:
        """Lead: send TRANSCRIPT... (titles or CASE/TITLE) to a new round; coders recode them blind."""
        from ..coding.rounds import open_round

        project = open_project_for(project_target, viewer)
        with project.transaction() as s:
            ids = resolve_transcripts(s, transcripts)
            opened = open_round(s, viewer, ids, note, number)
        project.close()
        click.echo(f"round {opened} opened for {len(ids)} transcript{'s' if len(ids) != 1 else ''}")
