"""Finding one's work again: retrieval by code (`qualcode retrieve`), the memo browser
(`qualcode memos list`) and code proposals (`qualcode proposals ...`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .common import QualcodeGroup, codebook_option, emit, output_options, pass_project, say, segment_ref, stored_number

if TYPE_CHECKING:
    from ..project import Project

# Retrieval and memo lists are long texts: every format but LaTeX (a table of paragraphs does not fit a page).
FORMATS_BROWSE = ("table", "csv", "json", "md", "docx", "xlsx", "html")


@click.command("retrieve")
@pass_project
@click.argument("code", metavar="CODE")
@click.option(
    "--layer",
    "layer",
    metavar="NAME|consensus",
    help="Whose codings: a coder's or the consensus (default: yours; for the lead, the consensus once there is one).",
)
@codebook_option
@click.option("--case", "case", metavar="NAME", help="Only this case's segments.")
@click.option("--role", "role", metavar="ROLE", help="Only turns of speakers with this role (teacher, coach, ...).")
@click.option(
    "--context",
    "context",
    type=int,
    default=0,
    show_default=True,
    metavar="N",
    help="Neighbouring segments to show before and after each one (0 to 20).",
)
@output_options(FORMATS_BROWSE)
def retrieve_cmd(
    project: Project,
    code: str,
    layer: str | None,
    codebook: str | None,
    case: str | None,
    role: str | None,
    context: int,
    fmt: str,
    out: str | None,
) -> None:
    """Every segment coded with CODE (a name, key or path; codes under it too) in one layer, with its
    case, transcript, speaker and text. While the project is blinded a coder reads only their own
    codings; the lead and auditors read any layer."""
    from ..coding.retrieval import retrieval_json, retrieval_table, retrieve_in

    with project.read() as s:
        result = retrieve_in(
            s, project.user, code, layer=layer, codebook=codebook, case=case, role=role, context=context
        )
    emit(retrieval_table(result), fmt, out, json_data=retrieval_json(result))


@click.group("memos", cls=QualcodeGroup)
def memos_group() -> None:
    """Browse memos: segment, code, reconciliation, cell memos and the rest (as blinding allows)."""


@memos_group.command("list")
@pass_project
@click.option(
    "--kind", "kind", metavar="KIND", help="Only memos of this kind (segment, code, reconciliation, cell, ...)."
)
@click.option("--search", "search", metavar="TEXT", help="Only memos whose text holds TEXT (ignoring case).")
@click.option("--code", "code", metavar="CODE", help="Only memos on CODE (or a code under it).")
@codebook_option
@click.option("--case", "case", metavar="NAME", help="Only memos attached to this case.")
@output_options(FORMATS_BROWSE)
def memos_list(
    project: Project,
    kind: str | None,
    search: str | None,
    code: str | None,
    codebook: str | None,
    case: str | None,
    fmt: str,
    out: str | None,
) -> None:
    """The memos you may read, newest first: while the project is blinded a coder reads only their own;
    the lead and auditors read every memo."""
    from ..coding.memo_queries import memo_json, memo_list_in, memo_table

    with project.read() as s:
        memos = memo_list_in(s, project.user, kind=kind, search=search, code=code, case=case, codebook=codebook)
    emit(memo_table(memos), fmt, out, json_data=memo_json(memos))


@click.group("proposals", cls=QualcodeGroup)
def proposals_group() -> None:
    """Code proposals: a coder proposes a new code; the lead accepts, merges or declines it (audited)."""


@proposals_group.command("add")
@pass_project
@click.argument("name")
@click.option("--description", "description", default="", metavar="TEXT", help="What the code is for.")
@click.option("--parent", "parent", metavar="CODE", help="The code it would go under (default: the top level).")
@click.option(
    "--segment", "segment", type=segment_ref, metavar="REF", help="The segment it came from (#ID or TITLE:N)."
)
@codebook_option
def proposals_add(
    project: Project, name: str, description: str, parent: str | None, segment: str | None, codebook: str | None
) -> None:
    """Propose a new code NAME for the lead to accept, merge or decline."""
    from ..coding.proposals import add_proposal

    with project.transaction() as s:
        proposal = add_proposal(
            s, project.user, name, description=description, parent=parent, segment=segment, codebook=codebook
        )
        number = proposal.id
    say(f"proposal {number}: {name.strip()!r} awaits the lead")


@proposals_group.command("list")
@pass_project
@click.option(
    "--status", "status", type=click.Choice(("open", "accepted", "declined")), help="Only proposals in this state."
)
@output_options(FORMATS_BROWSE)
def proposals_list(project: Project, status: str | None, fmt: str, out: str | None) -> None:
    """The proposals you may see (your own while the project is blinded; every one for the lead)."""
    from ..coding.proposals import proposal_json, proposal_list_in, proposal_table

    with project.read() as s:
        proposals = proposal_list_in(s, project.user, status=status)
    emit(proposal_table(proposals), fmt, out, json_data=proposal_json(proposals))


@proposals_group.command("accept")
@pass_project
@click.argument("proposal_id", metavar="ID", type=stored_number)
@click.option("--parent", "parent", metavar="CODE", help="Put the new code under CODE (default: the proposed parent).")
def proposals_accept(project: Project, proposal_id: int, parent: str | None) -> None:
    """Accept proposal ID (lead): the code joins the codebook as a new version."""
    from ..coding.proposals import accept_proposal

    with project.transaction() as s:
        code = accept_proposal(s, project.user, proposal_id, parent=parent)
        name = code.name
    say(f"proposal {proposal_id} accepted: {name!r} added to the codebook")


@proposals_group.command("merge")
@pass_project
@click.argument("proposal_id", metavar="ID", type=stored_number)
@click.option("--into", "into", metavar="CODE", help="The existing code that covers the proposal (required).")
def proposals_merge(project: Project, proposal_id: int, into: str | None) -> None:
    """Merge proposal ID into an existing code (lead): nothing is added; the coder sees which code to use."""
    from ..coding.proposals import merge_proposal
    from ..errors import InputError

    if not into:
        raise InputError("say which code covers the proposal: --into CODE")

    with project.transaction() as s:
        target = merge_proposal(s, project.user, proposal_id, into)
        name = target.name
    say(f"proposal {proposal_id} merged into {name!r}")


@proposals_group.command("decline")
@pass_project
@click.argument("proposal_id", metavar="ID", type=stored_number)
@click.option("--reason", "reason", default="", metavar="TEXT", help="Why (the coder reads it; required).")
def proposals_decline(project: Project, proposal_id: int, reason: str) -> None:
    """Decline proposal ID with a reason (lead)."""
    from ..coding.proposals import decline_proposal

    with project.transaction() as s:
        decline_proposal(s, project.user, proposal_id, reason)
    say(f"proposal {proposal_id} declined")


COMMANDS: tuple[click.Command, ...] = (retrieve_cmd, memos_group, proposals_group)
