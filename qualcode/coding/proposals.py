"""Code proposals: a coder proposes a new code while coding; the lead accepts, merges or declines.

A proposal names the code, describes it, may suggest a parent and may point at the segment the
coder was on. The lead then

- **accepts** it: the code is added to the proposal's codebook through ``codebook.changes.add_code``
  (a new codebook version, audited as ``codebook.add``), its description as the definition;
- **merges** it into an existing code: the idea is covered by that code, so nothing is added;
- **declines** it, with a reason.

Every step is one transaction with its audit event (``proposal.add``, ``proposal.accept``,
``proposal.merge``, ``proposal.decline``). The decision in words (the code created, the code
merged into, the reason) is kept on the row (``outcome``, which a proposer may read on a team
server) and in the audit event (read for rows decided before schema 6). Blinding: while the
project is blinded a coder sees only their own proposals; the lead and auditors see all. Only
the lead decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from ..codebook import changes
from ..codebook.lookup import CodeResolver, get_codebook
from ..errors import BlindingError, InputError, QualcodeError
from ..store import audit
from ..store.access import Access
from ..store.enums import CoderRole, ProposalStatus
from ..store.ids import require_id
from ..store.models import AuditEvent, Case, Code, Codebook, CodeProposal, Coder, Segment, Transcript
from ..table import Table
from .blinding import find_coder, require_lead, visible_coder_ids
from .refs import SegmentRefs, find_segment

ENTITY = "qc_code_proposal"
MAX_NAME = 300


@dataclass(frozen=True)
class Proposal:
    id: int
    name: str
    description: str
    parent: str  # the suggested parent's path ("" for the top level)
    codebook: str
    coder: str
    segment_id: int | None
    transcript_id: int | None
    transcript: str
    case: str
    position: int | None
    segment_ref: str  # ``TITLE:POSITION`` (``CASE/TITLE:POSITION`` where the title repeats), or ""
    status: str  # open | accepted | declined
    outcome: str  # "added Parent > Name", "merged into X", "declined: reason", or "" while open
    decided_by: str
    created_at: datetime

    @property
    def merged(self) -> bool:
        return self.outcome.startswith("merged into")


@dataclass(frozen=True)
class ProposalList:
    proposals: tuple[Proposal, ...]
    hidden_by_blinding: bool  # only the viewer's own


def _acting_coder(session: Session, viewer: str | None) -> Coder:
    if not viewer:
        raise BlindingError("say who is proposing with --as NAME")
    coder = find_coder(session, viewer)
    if coder.role == CoderRole.AUDITOR:
        raise QualcodeError(f"{coder.name} is an auditor: auditors review the coding, they do not propose codes")
    return coder


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InputError("a proposed code needs a name")
    if len(name) > MAX_NAME:
        raise InputError(f"a code name has at most {MAX_NAME} characters ({len(name)} given)")
    if any(ord(ch) < 32 for ch in name):
        raise InputError(f"code name {name!r}: no line breaks or control characters")
    return name


def add_proposal(
    session: Session,
    viewer: str | None,
    name: str,
    *,
    description: str = "",
    parent: str | None = None,
    segment: str | int | None = None,
    codebook: str | None = None,
) -> CodeProposal:
    """``viewer`` proposes the code ``name`` for the codebook (the active one unless named);
    ``segment`` is a reference (``#ID``, ``TITLE:POSITION``) or an id."""
    coder = _acting_coder(session, viewer)
    name = _check_name(name)
    book = get_codebook(session, codebook)
    resolver = CodeResolver(session, book)
    parent_code = resolver.resolve(parent) if parent else None
    path = f"{resolver.path(parent_code)} > {name}" if parent_code is not None else name
    existing = resolver.find(path)
    if existing is not None and existing.status == "active":
        raise InputError(f"{path!r} is already a code of {book.name}")
    same = session.exec(
        select(CodeProposal.id).where(
            CodeProposal.codebook_id == book.id,
            CodeProposal.coder_id == coder.id,
            CodeProposal.status == ProposalStatus.OPEN,
            CodeProposal.name == name,
        )
    ).first()
    if same is not None:
        raise InputError(f"you already proposed {name!r} (proposal {same}, still open)")
    segment_id: int | None = None
    if isinstance(segment, int):
        if session.get(Segment, segment) is None:
            raise InputError(f"no segment with id {segment}")
        segment_id = segment
    elif segment:
        segment_id = require_id(find_segment(session, segment))
    proposal = CodeProposal(
        codebook_id=require_id(book),
        coder_id=require_id(coder),
        segment_id=segment_id,
        parent_id=parent_code.id if parent_code is not None else None,
        name=name,
        description=description.strip(),
        status=ProposalStatus.OPEN,
    )
    session.add(proposal)
    session.flush()
    audit.record(session, coder.name, "proposal.add", proposal)
    return proposal


def _require_lead(session: Session, viewer: str | None, what: str) -> str:
    """Only the lead decides; the lead's name (for the audit trail)."""
    if viewer:
        coder = find_coder(session, viewer)
        if coder.role == CoderRole.AUDITOR:
            raise BlindingError(f"{what} is for the lead analyst; {viewer} is an auditor")
    return require_lead(session, viewer, what).name


def _open_proposal(session: Session, proposal_id: int) -> CodeProposal:
    proposal = session.get(CodeProposal, proposal_id)
    if proposal is None:
        raise InputError(f"no proposal {proposal_id} (see `qualcode proposals list`)")
    if proposal.status != ProposalStatus.OPEN:
        raise InputError(f"proposal {proposal_id} ({proposal.name!r}) was already {proposal.status}")
    return proposal


def accept_proposal(session: Session, lead: str | None, proposal_id: int, *, parent: str | None = None) -> Code:
    """Add the proposed code to its codebook (under ``parent`` if given, else the proposed parent):
    a new codebook version and a ``codebook.add`` event, then ``proposal.accept``."""
    lead = _require_lead(session, lead, "accepting a code proposal")
    proposal = _open_proposal(session, proposal_id)
    book = session.get(Codebook, proposal.codebook_id)
    assert book is not None
    resolver = CodeResolver(session, book)
    if parent is not None:
        parent_code: Code | None = resolver.resolve(parent)
    else:
        parent_code = session.get(Code, proposal.parent_id) if proposal.parent_id else None
        if parent_code is not None and parent_code.status != "active":
            raise InputError(
                f"the proposed parent {resolver.path(parent_code)!r} is retired: accept with --parent CODE"
            )
    fields: dict[str, Any] = {"definition": proposal.description} if proposal.description else {}
    before = audit.row_dict(proposal)
    code = changes.add_code(session, book, lead, proposal.name, parent_code, None, **fields)
    proposal.status = ProposalStatus.ACCEPTED
    proposal.decided_by = lead
    proposal.parent_id = parent_code.id if parent_code is not None else None
    session.flush()
    path = CodeResolver(session, book).path(code)
    proposal.outcome = f"added {path}"
    session.add(proposal)
    session.flush()
    audit.record(
        session,
        lead,
        "proposal.accept",
        proposal,
        before=before,
        after={**audit.row_dict(proposal), "code_id": code.id, "code": path, "version": book.version},
    )
    return code


def merge_proposal(session: Session, lead: str | None, proposal_id: int, into: str) -> Code:
    """The proposed code is covered by ``into`` (an active code of the proposal's codebook): nothing
    is added; the proposal is closed as accepted, merged into that code (``proposal.merge``)."""
    lead = _require_lead(session, lead, "merging a code proposal")
    proposal = _open_proposal(session, proposal_id)
    book = session.get(Codebook, proposal.codebook_id)
    assert book is not None
    resolver = CodeResolver(session, book)
    target = resolver.resolve(into)
    before = audit.row_dict(proposal)
    proposal.status = ProposalStatus.ACCEPTED
    proposal.decided_by = lead
    proposal.outcome = f"merged into {resolver.path(target)}"
    session.add(proposal)
    session.flush()
    audit.record(
        session,
        lead,
        "proposal.merge",
        proposal,
        before=before,
        after={**audit.row_dict(proposal), "merged_into_id": target.id, "merged_into": resolver.path(target)},
    )
    return target


def decline_proposal(session: Session, lead: str | None, proposal_id: int, reason: str) -> CodeProposal:
    """Decline with a reason (kept in the ``proposal.decline`` event)."""
    lead = _require_lead(session, lead, "declining a code proposal")
    reason = reason.strip()
    if not reason:
        raise InputError("say why the proposal is declined: --reason TEXT")
    proposal = _open_proposal(session, proposal_id)
    before = audit.row_dict(proposal)
    proposal.status = ProposalStatus.DECLINED
    proposal.decided_by = lead
    proposal.outcome = f"declined: {reason}"
    session.add(proposal)
    session.flush()
    audit.record(
        session, lead, "proposal.decline", proposal, before=before, after={**audit.row_dict(proposal), "reason": reason}
    )
    return proposal


def _outcomes(session: Session, ids: list[int]) -> dict[int, str]:
    """Each decided proposal's outcome, from its decision's audit event."""
    out: dict[int, str] = {}
    if not ids:
        return out
    for start in range(0, len(ids), 500):
        events = session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.entity == ENTITY,
                col(AuditEvent.entity_id).in_(ids[start : start + 500]),
                col(AuditEvent.action).in_(("proposal.accept", "proposal.merge", "proposal.decline")),
            )
            .order_by(col(AuditEvent.id))
        ).all()
        for event in events:
            after = event.after or {}
            if event.entity_id is None:
                continue
            if event.action == "proposal.accept":
                out[event.entity_id] = f"added {after.get('code', '')}"
            elif event.action == "proposal.merge":
                out[event.entity_id] = f"merged into {after.get('merged_into', '')}"
            else:
                out[event.entity_id] = f"declined: {after.get('reason', '')}"
    return out


def proposal_list_in(session: Session, viewer: str | None, *, status: str | None = None) -> ProposalList:
    """The proposals ``viewer`` may see (their own while blinded), oldest first."""
    if status is not None and status not in {s.value for s in ProposalStatus}:
        raise InputError(f"unknown status {status!r} (statuses: {', '.join(s.value for s in ProposalStatus)})")
    visible = visible_coder_ids(session, viewer)
    stmt = select(CodeProposal)
    if visible is not None:
        stmt = stmt.where(col(CodeProposal.coder_id).in_(sorted(visible)))
    if status is not None:
        stmt = stmt.where(CodeProposal.status == status)
    rows = list(session.exec(stmt.order_by(col(CodeProposal.id))).all())
    coders = dict(session.exec(select(Coder.id, Coder.name)).all())
    books = {require_id(b): b for b in session.exec(select(Codebook)).all()}
    resolvers: dict[int, CodeResolver] = {}
    outcomes = _outcomes(session, [require_id(r) for r in rows if r.status != ProposalStatus.OPEN and not r.outcome])
    cases = dict(session.exec(select(Case.id, Case.name)).all())
    refs = SegmentRefs(session) if any(r.segment_id is not None for r in rows) else None
    out: list[Proposal] = []
    for r in rows:
        book = books[r.codebook_id]
        resolver = resolvers.get(r.codebook_id) or resolvers.setdefault(r.codebook_id, CodeResolver(session, book))
        transcript_id = position = None
        title = case = ""
        if r.segment_id is not None:
            segment = session.get(Segment, r.segment_id)
            if segment is not None:
                transcript = session.get(Transcript, segment.transcript_id)
                transcript_id, position = segment.transcript_id, segment.position
                if transcript is not None:
                    title = transcript.title
                    case = cases.get(transcript.case_id, "") if transcript.case_id is not None else ""
        outcome = r.outcome or outcomes.get(require_id(r), "")  # rows decided before v6 kept it in the audit only
        if not outcome and r.status != ProposalStatus.OPEN:
            outcome = r.status
        out.append(
            Proposal(
                id=require_id(r),
                name=r.name,
                description=r.description,
                parent=resolver.path(r.parent_id) if r.parent_id is not None and r.parent_id in resolver.by_id else "",
                codebook=book.name,
                coder=coders.get(r.coder_id, ""),
                segment_id=r.segment_id,
                transcript_id=transcript_id,
                transcript=title,
                case=case,
                position=position,
                segment_ref=refs.ref(r.segment_id)
                if refs is not None and r.segment_id is not None and position
                else "",
                status=r.status,
                outcome=outcome,
                decided_by=r.decided_by,
                created_at=r.created_at,
            )
        )
    return ProposalList(tuple(out), hidden_by_blinding=visible is not None)


def proposal_list(project: Access, viewer: str | None, *, status: str | None = None) -> ProposalList:
    with project.read() as s:
        return proposal_list_in(s, viewer, status=status)


def propose(
    project: Access,
    viewer: str,
    name: str,
    *,
    description: str = "",
    parent: str | None = None,
    segment_id: int | None = None,
    codebook: str | None = None,
) -> int:
    """``add_proposal`` in one transaction of its own (for the workbench's writer); the new id."""
    with project.transaction() as s:
        return require_id(
            add_proposal(s, viewer, name, description=description, parent=parent, segment=segment_id, codebook=codebook)
        )


PROPOSAL_COLUMNS = ["id", "name", "parent", "description", "coder", "segment", "status", "outcome", "decided by"]


def proposal_table(proposals: ProposalList) -> Table:
    rows = [
        [
            p.id,
            p.name,
            p.parent,
            p.description,
            p.coder,
            p.segment_ref,
            p.status,
            p.outcome,
            p.decided_by,
        ]
        for p in proposals.proposals
    ]
    n = len(rows)
    note = "Blinded: only your own proposals are listed." if proposals.hidden_by_blinding else ""
    return Table(columns=list(PROPOSAL_COLUMNS), rows=rows, title=f"Code proposals: {n}", note=note)


def proposal_json(proposals: ProposalList) -> list[dict[str, object]]:
    return [
        {
            "id": p.id,
            "name": p.name,
            "description": p.description,
            "parent": p.parent,
            "codebook": p.codebook,
            "coder": p.coder,
            "case": p.case,
            "transcript": p.transcript,
            "segment": p.position,
            "status": p.status,
            "outcome": p.outcome,
            "decided_by": p.decided_by,
            "created_at": p.created_at.isoformat(),
        }
        for p in proposals.proposals
    ]
