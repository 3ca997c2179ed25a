"""Corpus search, keyword in context and auto-coding from a search (`qualcode search`).

``qualcode search QUERY`` is short for ``qualcode search query QUERY``; ``qualcode search undo``
takes back the acting coder's last auto-coding. (To search for the word "undo", write
``qualcode search query undo``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..table import Table
from .common import QualcodeGroup, codebook_option, emit, output_options, pass_project, say

if TYPE_CHECKING:
    from ..assist.search import ApplyPlan, SearchResult
    from ..project import Project

DEFAULT_COMMAND = "query"


class SearchGroup(QualcodeGroup):
    """``search QUERY ...`` runs the ``query`` command; ``search undo`` the undo command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [DEFAULT_COMMAND, *args]
        elif not args:
            args = [DEFAULT_COMMAND]
        return super().parse_args(ctx, args)


@click.group("search", cls=SearchGroup)
def search_group() -> None:
    """Search the transcripts (words, "phrases", --lemma, --regex) with keyword in context; auto-code
    the hits (--apply CODE); `qualcode search undo` takes the last auto-coding back.

    `qualcode search QUERY [OPTIONS]` is short for `qualcode search query QUERY [OPTIONS]`.
    """


@search_group.command("query")
@pass_project
@click.argument("query", metavar="QUERY")
@click.option("--lemma", is_flag=True, help="Match every form of each word (teach finds teaching, taught).")
@click.option("--regex", "is_regex", is_flag=True, help="QUERY is a regular expression (case-insensitive).")
@click.option("--case", "case", metavar="NAME", help="Only this case's transcripts.")
@click.option("--transcript", "transcript", metavar="TITLE", help="Only this transcript (or CASE/TITLE).")
@click.option("--role", "role", metavar="ROLE", help="Only turns of speakers with this role (teacher, coach, ...).")
@click.option(
    "--code",
    "code",
    metavar="CODE",
    help="Only segments coded with CODE (or a code under it): your own codings, the consensus for a lead.",
)
@click.option("--layer", "layer", metavar="NAME", help="With --code: 'consensus' or a coder (as blinding allows).")
@codebook_option
@click.option("--counts", is_flag=True, help="Show hits counted by case and by speaker role instead of the lines.")
@click.option(
    "--context",
    "context",
    type=click.IntRange(5, 500),
    help="Terminal cells of context on each side of a hit (default: what fits the terminal; 40 in a file).",
)
@click.option("--apply", "apply_code", metavar="CODE", help="Code the hits' segments with CODE as your own codings.")
@click.option("--only", "only", metavar="N,N-M", help="With --apply: only these hit numbers (e.g. 1,3,7 or 2-5).")
@click.option("--preview", is_flag=True, help="With --apply: show the segments that would be coded; write nothing.")
@output_options()
def search_query(
    project: Project,
    query: str,
    lemma: bool,
    is_regex: bool,
    case: str | None,
    transcript: str | None,
    role: str | None,
    code: str | None,
    layer: str | None,
    codebook: str | None,
    counts: bool,
    context: int | None,
    apply_code: str | None,
    only: str | None,
    preview: bool,
    fmt: str,
    out: str | None,
) -> None:
    """Keyword-in-context lines for QUERY: words (every occurrence of any), "quoted phrases", word* for
    any ending; with --lemma every form of a word; with --regex a regular expression."""
    from ..assist.search import Scope, SearchQuery, parse_only, search_session
    from ..errors import InputError

    if (only or preview) and not apply_code:
        raise InputError("--only and --preview go with --apply CODE")
    if counts and apply_code:
        raise InputError("--counts lists numbers: leave it out with --apply")
    chosen = parse_only(only)
    wanted = SearchQuery(query, lemma=lemma, regex=is_regex)
    scope = Scope(case=case, transcript=transcript, role=role, code=code, layer=layer, codebook=codebook)
    with project.read() as s:
        result = search_session(s, project.user, wanted, scope)
        if apply_code:
            from ..assist.search import plan_apply

            plan = plan_apply(s, project.user, result, apply_code, chosen, codebook)
    if apply_code:
        if preview:
            _show_plan(result, plan, context, fmt, out)
            return
        _apply(project, result, apply_code, chosen, codebook)
        return
    if counts:
        _show_counts(result, fmt, out)
    else:
        _show_hits(result, context, fmt, out)


HIT_COLUMNS = ["hit", "case", "transcript", "segment", "speaker", "role", "start", "end", "left", "match", "right"]


def _hit_table(result: SearchResult) -> Table:
    return Table(
        columns=HIT_COLUMNS,
        rows=[
            [h.number, h.case, h.transcript, h.position, h.speaker, h.role, h.start, h.end, h.left, h.match, h.right]
            for h in result.hits
        ],
        title=f"Search: {result.query.describe()}",
    )


def _summary(result: SearchResult) -> str:
    segments = len(result.segment_ids)
    line = (
        f"{len(result.hits)} hit{'s' * (len(result.hits) != 1)} in {segments} segment{'s' * (segments != 1)} "
        f"({result.segments_searched} segments of {result.transcripts_searched} transcripts searched)"
    )
    if result.lemmatizer:
        line += f"; lemmas: {result.lemmatizer}"
    return line


def _write_text(lines: list[str], out: str | None) -> None:
    if out:
        from ..export.writers import output_path

        output_path(out).write_text("\n".join(lines) + "\n" if lines else "", encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    else:
        for line in lines:
            click.echo(line)  # already made terminal-safe (kwic_lines)


def _lines(hits: list, context: int | None, out: str | None) -> list[str]:
    import shutil

    from ..assist.search import kwic_lines

    if context is None and out:
        context = 40
    return kwic_lines(hits, context, width=shutil.get_terminal_size((100, 24)).columns)


def _show_hits(result: SearchResult, context: int | None, fmt: str, out: str | None) -> None:
    if fmt == "table":
        _write_text(_lines(result.hits, context, out), out)
        say(_summary(result), err=True)
        return
    emit(_hit_table(result), fmt, out, json_data=[dict(zip(HIT_COLUMNS, row)) for row in _hit_table(result).rows])


def _show_counts(result: SearchResult, fmt: str, out: str | None) -> None:
    columns = ["by", "name", "hits", "segments", "transcripts"]
    rows: list[list[Any]] = [["case", r.name, r.hits, r.segments, r.transcripts] for r in result.by_case]
    rows += [["role", r.name, r.hits, r.segments, r.transcripts] for r in result.by_role]
    table = Table(columns=columns, rows=rows, title=f"Hits of {result.query.describe()} by case and by speaker role")
    json_data = {
        "query": result.query.text,
        "hits": len(result.hits),
        "by_case": [dict(zip(columns[1:], row[1:])) for row in rows if row[0] == "case"],
        "by_role": [dict(zip(columns[1:], row[1:])) for row in rows if row[0] == "role"],
    }
    emit(table, fmt, out, json_data=json_data)
    if fmt == "table" and not out:
        say(_summary(result), err=True)


def _show_plan(result: SearchResult, plan: ApplyPlan, context: int | None, fmt: str, out: str | None) -> None:
    numbers = {n for p in plan.codings for n in p.hits}
    hits = [h for h in result.hits if h.number in numbers]
    new = len(plan.new)
    already = len(plan.codings) - new
    line = (
        f"preview: would code {new} segment{'s' * (new != 1)} with {plan.code} as {plan.coder}"
        + (f" ({already} already coded, left as they are)" if already else "")
        + "; nothing written"
    )
    if fmt == "table":
        _write_text(_lines(hits, context, out), out)
        say(line, err=True)
        return
    columns = ["case", "transcript", "segment", "speaker", "round", "hits", "already_coded"]
    rows = [
        [p.case, p.transcript, p.position, p.speaker, p.round, ",".join(map(str, p.hits)), p.already]
        for p in plan.codings
    ]
    table = Table(columns=columns, rows=rows, title=f"Would code with {plan.code}")
    emit(table, fmt, out, json_data=[dict(zip(columns, row)) for row in rows])


def _apply(project: Project, result: SearchResult, code: str, only: list[int] | None, codebook: str | None) -> None:
    from ..assist.search import apply_search

    outcome = apply_search(project, project.user, result, code, only, codebook)
    new = len(outcome.coding_ids)
    already = len(outcome.plan.codings) - len(outcome.plan.new)
    say(
        f"coded {new} segment{'s' * (new != 1)} with {outcome.plan.code} as {outcome.plan.coder}"
        + (f" ({already} already coded)" if already else "")
        + (f"; undo with `qualcode search undo --as {outcome.plan.coder}`" if new else "")
    )


@search_group.command("undo")
@pass_project
def search_undo(project: Project) -> None:
    """Take back your last auto-coding from a search (every coding it made, in one step; audited)."""
    from ..assist.search import undo_last_batch

    outcome = undo_last_batch(project, project.user)
    gone = f" ({outcome.gone} had been removed already)" if outcome.gone else ""
    say(f"undid the auto-coding with {outcome.code} from {outcome.query!r}: removed {outcome.removed} codings{gone}")


# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = (search_group,)
