"""Merging coders' separate copies (`qualcode merge`) and coders' hand-outs (`qualcode handout`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import QualcodeError
from .common import emit, pass_project, say

if TYPE_CHECKING:
    from ..exchange.merge import MergeResult
    from ..project import Project

# Exit status when the copy needs the lead's decision (differences or conflicts): nothing was merged.
NEEDS_DECISION_EXIT = 3


@click.command("handout")
@click.argument("coder")
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The copy to write (a new SQLite project file; it must not exist).",
)
@pass_project
def handout_cmd(project: Project, coder: str, out: str) -> None:
    """Make CODER's copy of the study to code on their own laptop (lead only).

    The copy holds the transcripts, segments, speakers, cases and their attributes, the codebook
    (with its GUIDs), the rounds, CODER and the lead; of the work, only CODER's own codings, done
    marks and memos. No other coder's work, no consensus, no lead's memos are in it, not even in
    the file's free pages (it is VACUUMed). The coder opens it with `qualcode -p FILE --as CODER
    code`; the lead brings the work back with `qualcode merge FILE`.
    """
    from ..exchange.handout import make_handout

    summary = make_handout(project, project.user, coder, out)
    say(
        f"wrote {summary.path}: {coder}'s copy with {summary.transcripts} transcripts, {summary.segments} segments, "
        f"{summary.codes} codes; {coder}'s own work: {summary.codings} codings, {summary.done_marks} done marks, "
        f"{summary.memos} memos"
    )
    say(
        f"left out (blinding): {summary.left_out_coders} other coders and auditors, their "
        f"{summary.left_out_codings} codings, {summary.left_out_memos} memos of others and the lead, "
        f"{summary.left_out_consensus} consensus decisions"
    )
    say(f"sha256 {summary.sha256}")


@click.command("merge")
@click.argument("others", metavar="OTHER...", nargs=-1, required=True)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="OLD_GUID=NEW_GUID",
    help="The copy's code OLD_GUID is this project's code NEW_GUID (repeatable).",
)
@click.option(
    "--map-file",
    type=click.Path(dir_okay=False),
    help="A file of OLD_GUID=NEW_GUID lines (or OLD_GUID,NEW_GUID; # starts a comment).",
)
@click.option(
    "--add-missing-codes",
    is_flag=True,
    help="Add the copy's codes this project lacks to the codebook of the same name, GUIDs kept.",
)
@click.option(
    "--prefer",
    type=click.Choice(["theirs", "ours"]),
    help="Settle conflicts: the copy's state of each conflicting segment (theirs) or this project's (ours).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be merged; change nothing.")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="The summary as a table, or as JSON (one document; a list of them for several copies).",
)
@pass_project
def merge_cmd(
    project: Project,
    others: tuple[str, ...],
    maps: tuple[str, ...],
    map_file: str | None,
    add_missing_codes: bool,
    prefer: str | None,
    dry_run: bool,
    fmt: str,
) -> None:
    """Merge coders' separate copies OTHER... back into this project (lead only).

    OTHER is a qualcode project file (a hand-out, see `qualcode handout`) or a .qdpx exported by
    qualcode. Transcripts are matched by content hash, codes by GUID, coders by name (and GUID):
    never by position or title alone. A copy whose transcripts or codebook differ is reported and
    nothing of it is merged unless you say how (--map, --map-file, --add-missing-codes). Conflicts
    (the same coder's work on one segment and round differs in both places) are listed and nothing
    of that copy is merged unless --prefer says whose wins. Several copies are read and checked
    first (a bad file changes nothing), then merged one after the other, each in a transaction of
    its own. Exit status 3 when a copy was not merged for either reason. Merging the same copy again
    changes nothing. Every merged row is in the audit trail with the copy's path and SHA-256.
    """
    from ..exchange.merge import (
        Outcome,
        Prefer,
        check_code_map,
        merge_prepared,
        parse_map_items,
        prepare_copy,
        read_map_file,
        result_json,
    )

    code_map = read_map_file(map_file) if map_file else {}
    for old, new in parse_map_items(maps).items():
        if code_map.get(old, new) != new:
            raise QualcodeError(f"--map {old}={new}: the map file maps {old} to {code_map[old]}")
        code_map[old] = new
    prepared = [prepare_copy(project, project.user, other) for other in others]  # bad input: before any write
    check_code_map(project, code_map, prepared)
    results = []
    for copy in prepared:
        result = merge_prepared(
            project,
            project.user,
            copy,
            code_map=code_map,
            add_missing_codes=add_missing_codes,
            prefer=Prefer(prefer) if prefer else None,
            dry_run=dry_run,
        )
        results.append(result)
        if fmt != "json":
            show(result)
    if fmt == "json":
        documents = [result_json(r) for r in results]
        emit_json(documents[0] if len(documents) == 1 else documents)
    undecided = [r for r in results if r.needs_decision]
    if undecided:
        messages = []
        for r in undecided:
            if r.outcome is Outcome.DIFFERENCES:
                messages.append(
                    f"{r.source}: nothing merged: {len(r.blocking)} differences from this project "
                    "(settle them with --map, --map-file or --add-missing-codes)"
                )
            else:
                messages.append(
                    f"{r.source}: nothing merged: {len(r.conflicts)} conflicts (choose with --prefer theirs|ours)"
                )
        raise QualcodeError("; ".join(messages), exit_code=NEEDS_DECISION_EXIT)


def emit_json(data: object) -> None:
    from ..export.machine import json_text

    click.echo(json_text(data, default=str))


def show(result: MergeResult) -> None:
    from ..exchange.merge import MAX_LISTED, Outcome
    from ..table import Table

    blocking = result.blocking
    if blocking:
        say(f"The copy differs from this project ({len(blocking)}):")
        for d in blocking[:MAX_LISTED]:
            say(f"  {d.what}: {d.message}")
        if len(blocking) > MAX_LISTED:
            say(f"  ... and {len(blocking) - MAX_LISTED} more (--format json lists them all)")
    if result.conflicts:
        settled = {None: "not settled", "theirs": "the copy's kept", "ours": "this project's kept"}
        say(f"Conflicts ({len(result.conflicts)}; {settled[result.prefer.value if result.prefer else None]}):")
        for c in result.conflicts[:MAX_LISTED]:
            say(f"  {c.line()}")
        if len(result.conflicts) > MAX_LISTED:
            say(f"  ... and {len(result.conflicts) - MAX_LISTED} more (--format json lists them all)")
    for added in result.codes_added:
        say(f"code added: {added}")
    for note in result.notes:
        say(f"note: {note}")
    if result.tallies:
        rows = [
            [
                t.coder,
                t.codings_merged,
                t.codings_present,
                t.codings_removed,
                t.done_merged,
                t.done_present,
                t.memos_merged,
                t.memos_present,
                t.conflicts,
            ]
            for t in result.tallies
        ]
        columns = [
            "coder",
            "codings merged",
            "already here",
            "removed",
            "done merged",
            "already done",
            "memos merged",
            "memos here",
            "conflicts",
        ]
        title = {
            Outcome.MERGED: "Merged",
            Outcome.DRY_RUN: "Would merge (dry run: nothing changed)",
            Outcome.NOTHING: "Nothing to merge: all of it is here already",
            Outcome.CONFLICTS: "Would merge once the conflicts are settled (nothing changed)",
        }.get(result.outcome, "")
        emit(Table(columns, rows, title=f"{title} from {result.source}"), "table", None)
    say(f"copy sha256 {result.sha256}")


COMMANDS: tuple[click.Command, ...] = (handout_cmd, merge_cmd)
