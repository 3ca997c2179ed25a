"""What the lead analyst writes into the matrix: cell memos, row pattern judgements, exemplar quotes.

Each write is one transaction with its audit event. These are analysis of everyone's
work, so only a lead may write them (``require_lead``); coders write segment memos instead.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from ..coding.blinding import require_lead
from ..coding.refs import find_segment  # noqa: F401  (re-exported: `matrix exemplar` resolves SEGMENT with it)
from ..errors import QualcodeError
from ..store import audit
from ..store.models import PATTERN_LABELS, Case, Exemplar, Memo, Segment, Transcript, utcnow


def _upsert_memo(
    session: Session, actor: str, kind: str, code_id: int, case_id: int | None, text: str, label: str | None = None
) -> Memo | None:
    """One memo per author, kind, code and case: replaced on rewrite, deleted when ``text`` and ``label`` are empty."""
    author = require_lead(session, actor or None, f"writing {kind} memos in the matrix")
    stmt = select(Memo).where(Memo.kind == kind, Memo.code_id == code_id, Memo.coder_id == author.id)
    stmt = stmt.where(col(Memo.case_id).is_(None) if case_id is None else Memo.case_id == case_id)
    memo = session.exec(stmt).first()
    before = audit.row_dict(memo)
    if not text.strip() and not label:
        if memo is None:
            return None
        session.delete(memo)
        audit.record(session, actor, f"memo.{kind}.delete", entity="qc_memo", entity_id=memo.id, before=before)
        return None
    if memo is None:
        memo = Memo(kind=kind, coder_id=author.id, code_id=code_id, case_id=case_id)
        session.add(memo)
    memo.text, memo.label, memo.updated_at = text.strip(), label, utcnow()
    session.flush()
    audit.record(session, actor, f"memo.{kind}.write", memo, before=before, after=audit.row_dict(memo))
    return memo


def set_cell_memo(session: Session, actor: str, code_id: int, case_id: int, text: str) -> Memo | None:
    """Write (or, with empty text, delete) ``actor``'s memo on one matrix cell."""
    return _upsert_memo(session, actor, "cell", code_id, case_id, text)


def set_pattern(session: Session, actor: str, code_id: int, label: str | None, note: str = "") -> Memo | None:
    """Judge a matrix row: convergence, divergence or contradiction, with a note (empty both: delete)."""
    if label is not None:
        label = label.strip().casefold() or None
    if label is not None and label not in PATTERN_LABELS:
        raise QualcodeError(f"unknown pattern {label!r}: choose {', '.join(PATTERN_LABELS)}")
    return _upsert_memo(session, actor, "pattern", code_id, None, note, label)


def add_exemplar(
    session: Session, actor: str, code_id: int, segment_id: int, start: int | None = None, end: int | None = None
) -> Exemplar:
    """Pick a quote (the whole segment, or ``start:end`` inside it) for the code at the segment's case."""
    require_lead(session, actor or None, "choosing exemplars")
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise QualcodeError(f"unknown segment {segment_id}")
    start = segment.start if start is None else start
    end = segment.end if end is None else end
    if not segment.start <= start < end <= segment.end:
        raise QualcodeError(f"quote {start}:{end} is not inside segment {segment_id} ({segment.start}:{segment.end})")
    case_id = session.get_one(Transcript, segment.transcript_id).case_id
    exemplar = Exemplar(code_id=code_id, case_id=case_id, segment_id=segment_id, start=start, end=end, chosen_by=actor)
    session.add(exemplar)
    session.flush()
    audit.record(session, actor, "exemplar.add", exemplar)
    return exemplar


def remove_exemplar(session: Session, actor: str, exemplar_id: int) -> None:
    require_lead(session, actor or None, "removing exemplars")
    exemplar = session.get(Exemplar, exemplar_id)
    if exemplar is None:
        raise QualcodeError(f"unknown exemplar {exemplar_id}")
    before = audit.row_dict(exemplar)
    session.delete(exemplar)
    audit.record(session, actor, "exemplar.remove", entity="qc_exemplar", entity_id=exemplar_id, before=before)


def find_case(session: Session, name: str) -> Case:
    case = session.exec(select(Case).where(Case.name == name)).first()
    if case is None:
        known = ", ".join(sorted(session.exec(select(Case.name)))) or "none yet"
        raise QualcodeError(f"unknown case {name!r} (cases: {known})")
    return case
