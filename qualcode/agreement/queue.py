"""The disagreement queue: segments where the compared coders differ, for the lead to reconcile."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from ..codebook.lookup import CodeResolver, get_codebook
from ..coding.blinding import require_reader
from ..store.ids import require_id
from ..store.models import Case, Coder, ConsensusDecision, Memo, Segment, Transcript
from .data import load


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
        wanted = CodeResolver(session, cb, include_retired=True).resolve(code).id
        differ &= np.array([c.id == wanted for c in data.codes])[None, :]
    units, columns = np.nonzero(differ)
    if len(units) == 0:
        return []
    seg_ids = sorted({int(data.segment_ids[u]) for u in units})
    decisions = {
        (d.segment_id, d.code_id): d
        for d in session.exec(select(ConsensusDecision).where(col(ConsensusDecision.segment_id).in_(seg_ids)))
    }
    segments = {s.id: s for s in session.exec(select(Segment).where(col(Segment.id).in_(seg_ids)))}
    transcripts = {
        t.id: t
        for t in session.exec(
            select(Transcript).where(col(Transcript.id).in_({s.transcript_id for s in segments.values()}))
        )
    }
    cases = {c.id: c.name for c in session.exec(select(Case))}
    coder_names = {c.id: c.name for c in session.exec(select(Coder))}
    memos: dict[int | None, list[dict[str, Any]]] = {}  # by segment id (never None here: the query asks for segments)
    for m in session.exec(
        select(Memo)
        .where(col(Memo.segment_id).in_(seg_ids), col(Memo.kind).in_(("segment", "reconciliation")))
        .order_by(col(Memo.created_at))
    ):
        memos.setdefault(m.segment_id, []).append(
            {
                "kind": m.kind,
                "coder": coder_names.get(m.coder_id),
                "code_id": m.code_id,
                "round": m.round,
                "text": m.text,
            }
        )
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
            decision = decisions.get((sid, require_id(c)))
            if decision is not None and decision.method != "agreed" and not include_decided:
                continue
            disputed.append(
                {
                    "code_id": c.id,
                    "path": data.code_paths[k],
                    "definition": c.definition,
                    "inclusion": c.inclusion,
                    "exclusion": c.exclusion,
                    "applied_by": [
                        data.coders[i] for i in range(len(data.coders)) if data.done[i, u] and data.present[i, u, k]
                    ],
                    "omitted_by": [
                        data.coders[i] for i in range(len(data.coders)) if data.done[i, u] and not data.present[i, u, k]
                    ],
                    "decision": None
                    if decision is None
                    else {"present": decision.present, "method": decision.method, "by": decision.decided_by},
                }
            )
        if not disputed:
            continue
        seg = segments[sid]
        t = transcripts[seg.transcript_id]
        items.append(
            QueueItem(
                segment_id=sid,
                transcript=t.title,
                position=seg.position,
                case=cases.get(t.case_id),
                text=t.text[seg.start : seg.end],
                disputed=disputed,
                codes_by_coder={
                    data.coders[i]: [data.code_paths[k] for k in np.nonzero(data.present[i, u])[0]]
                    for i in range(len(data.coders))
                    if data.done[i, u]
                },
                memos=memos.get(sid, []),
            )
        )
    return sorted(items, key=lambda i: (i.transcript, i.position))
