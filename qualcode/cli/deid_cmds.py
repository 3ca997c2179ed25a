"""De-identification (`qualcode deidentify ...`): the lead's review list of identifiers found in the
transcripts, and the pseudonyms every export's ``--pseudonymize`` applies (docs/deidentify.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..table import Table
from .common import QualcodeGroup, emit, output_options, pass_project, say

if TYPE_CHECKING:
    from ..project import Project

KIND_CHOICE = click.Choice(["name", "place", "school", "email", "phone", "date", "other"])
ORIGIN_CHOICE = click.Choice(["roster", "list", "rule", "entity"])
kind_option = click.option(
    "--kind", "kind", type=KIND_CHOICE, help="The term's kind, when several kinds share its text."
)


@click.group("deidentify", cls=QualcodeGroup)
def deidentify_group() -> None:
    """Lead: find identifiers in the transcripts, decide on them, set their pseudonyms."""


@deidentify_group.command("scan")
@pass_project
@click.option(
    "--list",
    "list_file",
    type=click.Path(dir_okay=False),
    help="Also these terms: one a line, TERM or 'TERM | KIND' (name, place, school, email, phone, date, other).",
)
@click.option("--no-roster", is_flag=True, help="Leave out speaker labels, case names and case attributes.")
@click.option("--no-entities", is_flag=True, help="Do not use an installed trained spaCy pipeline, only the rules.")
def deid_scan(project: Project, list_file: str | None, no_roster: bool, no_entities: bool) -> None:
    """Find names, places, schools, emails, phones and dates; new findings join the list as pending."""
    from ..assist.deid import read_term_list, scan

    extra = read_term_list(list_file) if list_file else []  # a bad list is refused before any work
    result = scan(project, project.user, extra=extra, roster=not no_roster, entities=not no_entities)
    kinds = ", ".join(f"{n} {k}" for k, n in result.by_kind.items()) or "none new"
    how = f"rules and {result.entity_model}" if result.entity_model else "rules (no trained spaCy pipeline installed)"
    say(
        f"scanned {result.transcripts} transcripts with the roster and {how}: "
        f"{result.added} new terms ({kinds}); {result.known} findings already listed"
    )


@deidentify_group.command("list")
@pass_project
@click.option("--kind", "kind", type=KIND_CHOICE, help="Only this kind.")
@click.option(
    "--decision", "decision", type=click.Choice(["pending", "accepted", "rejected"]), help="Only these decisions."
)
@click.option("--contexts", type=click.IntRange(0, 20), default=2, show_default=True, help="Contexts per term.")
@output_options()
def deid_list(project: Project, kind, decision, contexts, fmt, out) -> None:
    """The review list: each term, its kind, decision, pseudonym, occurrences and a few contexts."""
    from ..assist.deid import list_terms

    terms = list_terms(project, project.user, kind=kind, decision=decision, contexts=contexts)
    table = Table(
        columns=["id", "term", "kind", "origin", "decision", "pseudonym", "occurrences", "contexts"],
        rows=[[t.id, t.text, t.kind, t.origin, t.decision, t.pseudonym, t.count, "\n".join(t.contexts)] for t in terms],
        title="De-identification terms",
        note="Occurrences are counted in the transcripts now; only accepted terms are replaced by --pseudonymize.",
    )
    emit(table, fmt, out, json_data=[_term_json(t) for t in terms])


def _term_json(t) -> dict:
    from dataclasses import asdict

    data = asdict(t)
    data["contexts"] = list(t.contexts)
    return data


def _decide(project: Project, term: str, decision, pseudonym: str | None, kind: str | None) -> None:
    from ..assist.deid import decide

    view = decide(project, project.user, term, decision, pseudonym=pseudonym, kind=kind)
    say(f"#{view.id} {view.text} ({view.kind}): {view.decision}, pseudonym {view.pseudonym}")


@deidentify_group.command("accept")
@pass_project
@click.argument("term")
@click.option("--pseudonym", metavar="TEXT", help="Replace it with TEXT (default: the proposed pseudonym).")
@kind_option
def deid_accept(project: Project, term: str, pseudonym: str | None, kind: str | None) -> None:
    """Accept TERM (its text or #id): exports with --pseudonymize replace it."""
    from ..store.enums import DeidDecision

    _decide(project, term, DeidDecision.ACCEPTED, pseudonym, kind)


@deidentify_group.command("reject")
@pass_project
@click.argument("term")
@kind_option
def deid_reject(project: Project, term: str, kind: str | None) -> None:
    """Reject TERM (its text or #id): not an identifier, left as it is."""
    from ..store.enums import DeidDecision

    _decide(project, term, DeidDecision.REJECTED, None, kind)


@deidentify_group.command("set")
@pass_project
@click.argument("term")
@click.option("--pseudonym", metavar="TEXT", required=True, help="The pseudonym to use for TERM.")
@kind_option
def deid_set(project: Project, term: str, pseudonym: str, kind: str | None) -> None:
    """Set TERM's pseudonym (its decision stays as it is)."""
    _decide(project, term, None, pseudonym, kind)


def _decide_all(project: Project, decision, kind: str | None, origin: str | None, everything: bool) -> None:
    from ..assist.deid import decide_all

    n = decide_all(project, project.user, decision, kind=kind, origin=origin, pending_only=not everything)
    what = " ".join(x for x in (kind, f"from {origin}" if origin else None) if x) or "all"
    say(f"{decision.value} {n} {'' if everything else 'pending '}terms ({what})")


def _all_options(f):
    f = click.option("--all", "everything", is_flag=True, help="Also terms already decided (default: pending only).")(f)
    f = click.option("--origin", "origin", type=ORIGIN_CHOICE, help="Only terms from this source.")(f)
    return click.option("--kind", "kind", type=KIND_CHOICE, help="Only this kind.")(f)


@deidentify_group.command("accept-all")
@pass_project
@_all_options
def deid_accept_all(project: Project, kind: str | None, origin: str | None, everything: bool) -> None:
    """Accept every pending term (of a --kind, from an --origin)."""
    from ..store.enums import DeidDecision

    _decide_all(project, DeidDecision.ACCEPTED, kind, origin, everything)


@deidentify_group.command("reject-all")
@pass_project
@_all_options
def deid_reject_all(project: Project, kind: str | None, origin: str | None, everything: bool) -> None:
    """Reject every pending term (of a --kind, from an --origin)."""
    from ..store.enums import DeidDecision

    _decide_all(project, DeidDecision.REJECTED, kind, origin, everything)


# The commands this module adds to `qualcode` (see main.py).
COMMANDS: tuple[click.Command, ...] = (deidentify_group,)
