"""The consensus layer and the lead analyst's reconciliation decisions.

The consensus layer is the ``ConsensusDecision`` rows with ``present = True``.
Coders' own codings are never changed; every decision, memo, flag and round is
audited in the same transaction. Decisions on a (segment, code) overwrite an
earlier one; ``accept_agreed`` never overwrites a decision that is not "agreed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from ..agreement.data import CONSENSUS, coder_rows, load, round_that_counts
from ..agreement.report import require_reader
from ..codebook.lookup import get_codebook
from ..errors import QualcodeError
from ..store import audit
from ..store.models import (
    Case, Code, Coder, Coding, ConsensusDecision, Memo, Segment, SegmentStatus, Transcript, utcnow,
)
from .blinding import find_coder, require_lead

METHODS = ("take", "union", "intersection", "manual", "agreed", "import")


# -- reading a layer ---------------------------------------------------------------------------

def layer_codings(session: Session, layer: str, round: int | None = None) -> pd.DataFrame:
    """One layer's codings: columns segment_id, code_id, quote_start, quote_end.

    ``layer`` is "consensus" (the decisions with present = True) or a coder's name; for a
    coder, per transcript the latest round they coded or marked done counts, unless ``round``
    is given. Blinding is the caller's business (use ``visible_coder_ids``).
    The definition lives in ``qualcode.coding.layers.layer_select``.
    """
    from .layers import LAYER_COLUMNS, layer_select

    coder_id = None if layer == CONSENSUS else find_coder(session, layer).id
    rows = session.exec(layer_select(coder_id, round=round)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(LAYER_COLUMNS))


# -- the disagreement queue ---------------------------------------------------------------------

@dataclass
class QueueItem:
    """One segment on which the compared coders differ about at least one code."""

    segment_id: int
    transcript: str
    position: int
    case: str | None
    text: str
    disputed: list[dict[str, Any]]  # per code: code_id, path, definition, applied_by, omitted_by, decision
    codes_by_coder: dict[str, list[str]]  # every coder's codes on the segment (paths)
    memos: list[dict[str, Any]] = field(default_factory=list)  # coders' segment memos and reconciliation memos

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def disagreement_queue(
    session: Session,
    viewer: str | None,
    *,
    codebook: str | None = None,
    coders: list[str] | None = None,
    round: int | None = None,
    code: str | None = None,
    include_decided: bool = False,
) -> list[QueueItem]:
    """Segments where coders who finished them differ, in transcript order (lead or auditor only while blinded)."""
    require_reader(session, viewer)
    cb = get_codebook(session, codebook)
    data = load(session, cb, coders, round, "code")
    finished = data.done.sum(axis=0)
    applied = data.present.sum(axis=0)
    differ = (applied > 0) & (applied < finished[:, None]) & (finished[:, None] >= 2)
    if code is not None:
        from ..codebook.lookup import CodeResolver

        wanted = CodeResolver(session, cb, include_retired=True).resolve(code).id
        differ &= np.array([c.id == wanted for c in data.codes])[None, :]
    units, columns = np.nonzero(differ)
    if len(units) == 0:
        return []
    seg_ids = sorted({int(data.segment_ids[u]) for u in units})
    decisions = {(d.segment_id, d.code_id): d for d in session.exec(
        select(ConsensusDecision).where(ConsensusDecision.segment_id.in_(seg_ids))).scalars()}
    segments = {s.id: s for s in session.exec(select(Segment).where(Segment.id.in_(seg_ids))).scalars()}
    transcripts = {t.id: t for t in session.exec(select(Transcript).where(Transcript.id.in_({s.transcript_id for s in segments.values()}))).scalars()}
    cases = {c.id: c.name for c in session.exec(select(Case)).scalars()}
    coder_names = {c.id: c.name for c in session.exec(select(Coder)).scalars()}
    memos = {}
    for m in session.exec(select(Memo).where(Memo.segment_id.in_(seg_ids), Memo.kind.in_(("segment", "reconciliation")))
                          .order_by(Memo.created_at)).scalars():
        memos.setdefault(m.segment_id, []).append({"kind": m.kind, "coder": coder_names.get(m.coder_id), "code_id": m.code_id,
                                                    "round": m.round, "text": m.text})
    by_segment: dict[int, list[int]] = {}
    unit_of: dict[int, int] = {}
    for u, k in zip(units.tolist(), columns.tolist()):
        sid = int(data.segment_ids[u])
        unit_of[sid] = u
        by_segment.setdefault(sid, []).append(k)
    items = []
    for sid in seg_ids:
        u = unit_of[sid]
        disputed = []
        for k in by_segment[sid]:
            c = data.codes[k]
            decision = decisions.get((sid, c.id))
            if decision is not None and decision.method != "agreed" and not include_decided:
                continue
            disputed.append({
                "code_id": c.id, "path": data.code_paths[k], "definition": c.definition, "inclusion": c.inclusion,
                "exclusion": c.exclusion,
                "applied_by": [data.coders[i] for i in range(len(data.coders)) if data.done[i, u] and data.present[i, u, k]],
                "omitted_by": [data.coders[i] for i in range(len(data.coders)) if data.done[i, u] and not data.present[i, u, k]],
                "decision": None if decision is None else {"present": decision.present, "method": decision.method, "by": decision.decided_by},
            })
        if not disputed:
            continue
        seg = segments[sid]
        t = transcripts[seg.transcript_id]
        items.append(QueueItem(
            segment_id=sid, transcript=t.title, position=seg.position, case=cases.get(t.case_id), text=t.text[seg.start:seg.end],
            disputed=disputed,
            codes_by_coder={data.coders[i]: [data.code_paths[k] for k in np.nonzero(data.present[i, u])[0]]
                            for i in range(len(data.coders)) if data.done[i, u]},
            memos=memos.get(sid, []),
        ))
    return sorted(items, key=lambda i: (i.transcript, i.position))


# -- decisions -----------------------------------------------------------------------------------

def _worked_rounds(session: Session, transcript_id: int, coder_ids: list[int]) -> dict[int, set[int]]:
    """``{coder id: rounds they coded or marked anything in}`` on one transcript."""
    worked: dict[int, set[int]] = {c: set() for c in coder_ids}
    for table in (Coding, SegmentStatus):
        for coder_id, rnd in session.exec(select(table.coder_id, table.round).distinct()
                                          .join(Segment, Segment.id == table.segment_id)
                                          .where(table.coder_id.in_(coder_ids), Segment.transcript_id == transcript_id)).all():
            worked[coder_id].add(rnd)
    return worked


def _compared(session: Session, coders: list[str] | None, round: int | None) -> list[Coder]:
    """The coders the queue compares for ``coders`` (its own default when none are named), without
    the consensus layer: they decide which round counts."""
    chosen, _ = coder_rows(session, coders or None, round, at_least=0)
    return [c for c in chosen if c != CONSENSUS]


def _coder_applied(session: Session, coder: Coder, segment: Segment, code_id: int, round: int | None,
                   compared: list[Coder]) -> Coding | None:
    """The coder's coding of ``code_id`` on the segment in the round that counts (or None).

    Without ``round``, the round that counts is the one the queue and the agreement report
    compare among ``compared`` (``agreement.data.round_that_counts``).
    """
    if round is None:
        ids = sorted({c.id for c in compared} | {coder.id})
        round = round_that_counts(_worked_rounds(session, segment.transcript_id, ids)).get(coder.id)
        if round is None:
            raise QualcodeError(f"{coder.name} has not coded this transcript")
    finished = session.exec(select(SegmentStatus).where(SegmentStatus.segment_id == segment.id, SegmentStatus.coder_id == coder.id,
                                                        SegmentStatus.round == round)).scalars().first()
    if finished is None:
        raise QualcodeError(f"{coder.name} has not finished this segment in round {round}")
    return session.exec(select(Coding).where(Coding.segment_id == segment.id, Coding.coder_id == coder.id,
                                             Coding.code_id == code_id, Coding.round == round)).scalars().first()


def write_decision(session: Session, actor: str, segment_id: int, code_id: int, present: bool, method: str, round: int,
           quote: tuple[int | None, int | None] = (None, None)) -> ConsensusDecision:
    row = session.exec(select(ConsensusDecision).where(ConsensusDecision.segment_id == segment_id,
                                                       ConsensusDecision.code_id == code_id)).scalars().first()
    before = audit.row_dict(row)
    if row is None:
        row = ConsensusDecision(segment_id=segment_id, code_id=code_id)
        session.add(row)
    row.present, row.method, row.round, row.decided_by, row.decided_at = present, method, round, actor, utcnow()
    row.quote_start, row.quote_end = quote
    session.flush()
    audit.record(session, actor, "consensus.decide", row, before=before, after=audit.row_dict(row))
    return row


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
        hit = _coder_applied(session, find_coder(session, coder), segment, code_id, round, _compared(session, coders, round))
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


def accept_agreed(session: Session, actor: str, *, codebook: str | None = None, coders: list[str] | None = None,
                  round: int | None = None) -> int:
    """Write "agreed" decisions for every (segment, code) all compared coders finished and applied.

    Agreement on absence needs no row (the layer is the present rows). Existing decisions
    other than "agreed" are left alone. Returns how many rows were written.
    """
    require_lead(session, actor, "accepting agreed codes")
    cb = get_codebook(session, codebook)
    data = load(session, cb, coders, round, "code")
    all_done = data.done.all(axis=0)
    agreed = data.present.all(axis=0) & all_done[:, None]
    units, columns = np.nonzero(agreed)
    existing = {(d.segment_id, d.code_id): d for d in session.exec(select(ConsensusDecision)).scalars()}
    written = 0
    for u, k in zip(units.tolist(), columns.tolist()):
        key = (int(data.segment_ids[u]), data.codes[k].id)
        if key in existing and (existing[key].method != "agreed" or existing[key].present):
            continue
        write_decision(session, actor, key[0], key[1], True, "agreed", round or 1)
        written += 1
    return written


# -- memos and flags (rounds: qualcode.coding.rounds.open_round) -------------------------------------------------------------------------

def _memo(session: Session, actor: str, kind: str, text: str, *, segment: Segment | None = None, code_id: int | None = None,
          label: str | None = None) -> Memo:
    lead = find_coder(session, actor)
    transcript = session.get(Transcript, segment.transcript_id) if segment else None
    memo = Memo(kind=kind, coder_id=lead.id, segment_id=segment.id if segment else None, code_id=code_id,
                case_id=transcript.case_id if transcript else None, transcript_id=transcript.id if transcript else None,
                label=label, text=text)
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
