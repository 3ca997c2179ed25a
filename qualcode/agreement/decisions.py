"""The lead's reconciliation: consensus decisions, accepting agreed codes, memos and revision flags.

Coders' own codings are never changed; every decision, memo and flag is audited in the
same transaction. Decisions on a (segment, code) overwrite an earlier one; ``accept_agreed``
never overwrites a decision that is not "agreed".
"""

from __future__ import annotations

import numpy as np
from sqlmodel import Session, col, select

from ..codebook.lookup import get_codebook
from ..coding.blinding import find_coder, require_lead
from ..coding.bulk import (
    DecisionState,
    NewDecision,
    prepare_decisions,
    write_decisions,
    write_in_chunks,
    write_prepared_decisions,
)
from ..coding.consensus import write_decision
from ..coding.layers import Layer
from ..errors import QualcodeError
from ..store import audit
from ..store.access import Access
from ..store.ids import require_id
from ..store.models import Code, Coding, ConsensusDecision, Memo, Segment, SegmentStatus, Transcript
from .data import coder_rows, load, round_that_counts


def _worked_rounds(session: Session, transcript_id: int, coder_ids: list[int]) -> dict[int, set[int]]:
    """``{coder id: rounds they coded or marked anything in}`` on one transcript."""
    worked: dict[int, set[int]] = {c: set() for c in coder_ids}
    for table in (Coding, SegmentStatus):
        for coder_id, rnd in session.exec(
            select(table.coder_id, table.round)
            .distinct()
            .join(Segment, col(Segment.id) == table.segment_id)
            .where(col(table.coder_id).in_(coder_ids), Segment.transcript_id == transcript_id)
        ).all():
            worked[coder_id].add(rnd)
    return worked


def _compared(session: Session, coders: list[str] | None, round: int | None) -> list[Layer]:
    """The coders the queue compares for ``coders`` (its own default when none are named), without
    the consensus layer: they decide which round counts."""
    chosen, _ = coder_rows(session, coders or None, round, at_least=0)
    return [c for c in chosen if not c.is_consensus]


def _coder_applied(
    session: Session, coder: Layer, segment: Segment, code_id: int, round: int | None, compared: list[Layer]
) -> Coding | None:
    """The coder's coding of ``code_id`` on the segment in the round that counts (or None).

    Without ``round``, the round that counts is the one the queue and the agreement report
    compare among ``compared`` (``agreement.data.round_that_counts``).
    """
    if coder.coder_id is None:
        raise AssertionError("the consensus layer has no codings of its own; pass a coder's layer")
    if round is None:
        ids = sorted({c.coder_id for c in compared if c.coder_id is not None} | {coder.coder_id})
        round = round_that_counts(_worked_rounds(session, segment.transcript_id, ids)).get(coder.coder_id)
        if round is None:
            raise QualcodeError(f"{coder.name} has not coded this transcript")
    finished = session.exec(
        select(SegmentStatus).where(
            SegmentStatus.segment_id == segment.id,
            SegmentStatus.coder_id == coder.coder_id,
            SegmentStatus.round == round,
        )
    ).first()
    if finished is None:
        raise QualcodeError(f"{coder.name} has not finished this segment in round {round}")
    return session.exec(
        select(Coding).where(
            Coding.segment_id == segment.id,
            Coding.coder_id == coder.coder_id,
            Coding.code_id == code_id,
            Coding.round == round,
        )
    ).first()


def decide(
    session: Session,
    actor: str,
    segment_id: int,
    code_id: int,
    method: str,
    *,
    coder: str | None = None,
    coders: list[str] | None = None,
    present: bool | None = None,
    round: int | None = None,
) -> ConsensusDecision:
    """Set the consensus for one code on one segment.

    ``method``: "take" (``coder``'s decision), "union" (any of ``coders`` applied it),
    "intersection" (all of them did), or "manual" (``present`` as given).
    """
    require_lead(session, actor, "reconciliation")
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise QualcodeError(f"no segment with id {segment_id}")
    if session.get(Code, code_id) is None:
        raise QualcodeError(f"no code with id {code_id}")
    quote: tuple[int | None, int | None] = (None, None)
    if method == "manual":
        if present is None:
            raise QualcodeError("a manual decision needs --present yes or --present no")
        label = "manual"
    elif method == "take":
        if not coder:
            raise QualcodeError("say whose codes to take (--take CODER)")
        hit = _coder_applied(
            session,
            Layer.of_coder(find_coder(session, coder)),
            segment,
            code_id,
            round,
            _compared(session, coders, round),
        )
        present, label = hit is not None, f"take:{coder}"
        if hit is not None:
            quote = (hit.quote_start, hit.quote_end)
    elif method in ("union", "intersection"):
        votes = []
        compared = _compared(session, coders, round)
        for voter in compared:
            try:
                votes.append(_coder_applied(session, voter, segment, code_id, round, compared) is not None)
            except QualcodeError:
                continue  # a coder who did not finish the segment has no vote
        if not votes:
            raise QualcodeError("no compared coder finished this segment")
        present, label = (any(votes) if method == "union" else all(votes)), method
    else:
        raise QualcodeError(f"unknown method {method!r} (take, union, intersection, manual)")
    return write_decision(session, actor, segment_id, code_id, bool(present), label, round or 1, quote)


def accept_agreed(
    session: Session,
    actor: str,
    *,
    codebook: str | None = None,
    coders: list[str] | None = None,
    round: int | None = None,
) -> int:
    """Write "agreed" decisions for every (segment, code) all compared coders finished and applied.

    Agreement on absence needs no row (the layer is the present rows). Existing decisions
    other than "agreed" are left alone. Returns how many rows were written.
    """
    return write_decisions(session, actor, agreed_decisions(session, actor, codebook, coders, round), keep=_keep)


def accept_agreed_in_chunks(
    access: Access,
    actor: str,
    *,
    codebook: str | None = None,
    coders: list[str] | None = None,
    round: int | None = None,
) -> int:
    """``accept_agreed`` for a project: the agreed codes are found by reading (no lock), then written
    in short transactions (``bulk.write_in_chunks``: each about ``TARGET_CHUNK_S`` of work under the
    lock, its rows and audit JSON prepared before it), each checking under its lock which decisions
    it may not overwrite. A run stopped midway is completed by running it again."""
    with access.read() as session:
        wanted = agreed_decisions(session, actor, codebook, coders, round)
    return write_in_chunks(
        access,
        wanted,
        lambda s, prepared: write_prepared_decisions(s, prepared, keep=_keep),
        prepare=lambda part: prepare_decisions(actor, part),
    )


def _keep(stored: DecisionState) -> bool:
    """A stored decision ``accept_agreed`` leaves alone: any but an "agreed" absence."""
    return stored.method != "agreed" or stored.present


def agreed_decisions(
    session: Session, actor: str, codebook: str | None, coders: list[str] | None, round: int | None
) -> list[NewDecision]:
    """The "agreed" decisions for every (segment, code) all compared coders finished and applied."""
    require_lead(session, actor, "accepting agreed codes")
    cb = get_codebook(session, codebook)
    data = load(session, cb, coders, round, "code")
    all_done = np.all(data.done, axis=0)  # not data.done.all(): numpy types that as maybe a scalar
    agreed = data.present.all(axis=0) & all_done[:, None]
    units, columns = np.nonzero(agreed)
    return [
        NewDecision(int(data.segment_ids[u]), require_id(data.codes[k]), True, "agreed", round or 1)
        for u, k in zip(units.tolist(), columns.tolist())
    ]


# -- memos and flags (rounds: qualcode.coding.rounds.open_round) ----------------------------------


def _memo(
    session: Session,
    actor: str,
    kind: str,
    text: str,
    *,
    segment: Segment | None = None,
    code_id: int | None = None,
    label: str | None = None,
) -> Memo:
    lead = find_coder(session, actor)
    transcript = session.get(Transcript, segment.transcript_id) if segment else None
    memo = Memo(
        kind=kind,
        coder_id=lead.id,
        segment_id=segment.id if segment else None,
        code_id=code_id,
        case_id=transcript.case_id if transcript else None,
        transcript_id=transcript.id if transcript else None,
        label=label,
        text=text,
    )
    session.add(memo)
    session.flush()
    audit.record(session, actor, f"memo.{kind}", memo)
    return memo


def reconciliation_memo(session: Session, actor: str, segment_id: int, text: str, code_id: int | None = None) -> Memo:
    """The lead's memo on a disagreement, linked to the segment, the code and the case."""
    require_lead(session, actor, "reconciliation memos")
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise QualcodeError(f"no segment with id {segment_id}")
    return _memo(session, actor, "reconciliation", text, segment=segment, code_id=code_id)


def flag_for_revision(session: Session, actor: str, code_id: int, text: str, segment_id: int | None = None) -> Memo:
    """Flag a code for revision in the codebook (an open ``revision_flag`` memo)."""
    require_lead(session, actor, "flagging codes")
    segment = session.get(Segment, segment_id) if segment_id else None
    return _memo(session, actor, "revision_flag", text, segment=segment, code_id=code_id, label="open")
