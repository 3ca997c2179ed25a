"""The memo browser: every memo the viewer may read, where it is attached, searchable.

Memos of every kind (``MemoKind``): a coder's segment and code memos and core ideas, the lead's
reconciliation memos, revision flags, matrix cell memos and pattern judgements, and memos on
cases, transcripts or the whole project (from an exchange file). Blinding: while the project is
blinded a coder reads only the memos they wrote; the lead and auditors (and everyone once the lead
has unblinded) read every memo. Results are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from ..codebook.lookup import CodeResolver, code_paths, get_codebook
from ..errors import InputError
from ..store.access import Access
from ..store.enums import MemoKind
from ..store.ids import require_id, wide_select
from ..store.models import Case, Code, Coder, Memo, Segment, Speaker, Transcript
from ..table import Table
from .blinding import visible_coder_ids

EXCERPT = 80


@dataclass(frozen=True)
class MemoEntry:
    id: int
    kind: str
    author: str  # the coder who wrote it ("" for a memo from an exchange file with no author)
    case: str
    transcript: str
    transcript_id: int | None
    segment_id: int | None
    position: int | None  # the segment's position in its transcript
    speaker: str
    code: str  # the code's path ("" when the memo is on no code)
    round: int
    label: str  # a pattern judgement, a revision flag's state, ...
    text: str
    updated_at: datetime

    @property
    def where(self) -> str:
        """Where the memo is attached, in words: ``Lee interview #3``, ``SV × Northside``, ..."""
        parts = []
        if self.position is not None:
            parts.append(f"{self.transcript} #{self.position}")
        elif self.transcript:
            parts.append(self.transcript)
        if self.code:
            parts.append(self.code)
        if self.case and self.position is None and not self.transcript:
            parts.append(self.case)
        return " · ".join(parts) or "the project"


@dataclass(frozen=True)
class MemoList:
    memos: tuple[MemoEntry, ...]
    kind: str | None
    search: str | None
    code: str | None
    case: str | None
    hidden_by_blinding: bool  # True when the viewer reads only their own memos

    @property
    def count(self) -> int:
        return len(self.memos)


def _kind(kind: str | None) -> str | None:
    if kind is None:
        return None
    if kind not in {k.value for k in MemoKind}:
        raise InputError(f"unknown memo kind {kind!r} (kinds: {', '.join(k.value for k in MemoKind)})")
    return kind


def memo_list_in(
    session: Session,
    viewer: str | None,
    *,
    kind: str | None = None,
    search: str | None = None,
    code: str | None = None,
    case: str | None = None,
    codebook: str | None = None,
) -> MemoList:
    """The memos ``viewer`` may read, newest first; ``search`` matches the memo's text (and label)
    ignoring case; ``code`` keeps memos on that code or a code under it; ``case`` keeps memos
    attached to that case (directly, or through their transcript or segment)."""
    kind = _kind(kind)
    visible = visible_coder_ids(session, viewer)
    stmt = select(Memo)
    if visible is not None:
        stmt = stmt.where(col(Memo.coder_id).in_(sorted(visible)))
    if kind is not None:
        stmt = stmt.where(Memo.kind == kind)
    if code is not None:
        resolver = CodeResolver(session, get_codebook(session, codebook), include_retired=True)
        found = resolver.resolve(code)
        wanted = {require_id(found)}
        grew = True
        while grew:
            more = {require_id(c) for c in resolver.codes if c.parent_id in wanted} - wanted
            wanted |= more
            grew = bool(more)
        stmt = stmt.where(col(Memo.code_id).in_(sorted(wanted)))
    case_id: int | None = None
    if case is not None:
        case_id = session.exec(select(Case.id).where(Case.name == case)).first()
        if case_id is None:
            raise InputError(f"unknown case {case!r} (see `qualcode cases`)")
    memos = list(session.exec(stmt.order_by(col(Memo.updated_at).desc(), col(Memo.id).desc())).all())
    needle = search.casefold() if search else None
    if needle:
        memos = [m for m in memos if needle in m.text.casefold() or needle in (m.label or "").casefold()]
    authors = dict(session.exec(select(Coder.id, Coder.name)).all())
    code_ids = {m.code_id for m in memos if m.code_id is not None}
    paths: dict[int, str] = {}
    if code_ids:
        books = set(session.exec(select(Code.codebook_id).where(col(Code.id).in_(sorted(code_ids)))).all())
        for book in books:
            paths.update(code_paths(list(session.exec(select(Code).where(Code.codebook_id == book)))))
    segment_ids = sorted({m.segment_id for m in memos if m.segment_id is not None})
    segments: dict[int, tuple[int, int, str]] = {}  # segment id -> (transcript id, position, speaker)
    for start in range(0, len(segment_ids), 500):
        for sid, tid, pos, label, pseud in session.exec(
            wide_select(
                col(Segment.id),
                col(Segment.transcript_id),
                col(Segment.position),
                col(Speaker.label),
                col(Speaker.pseudonym),
            )
            .outerjoin(Speaker, col(Speaker.id) == Segment.speaker_id)
            .where(col(Segment.id).in_(segment_ids[start : start + 500]))
        ).all():
            segments[sid] = (tid, pos, pseud or label or "")
    transcripts = {
        require_id(t): (title, cid)
        for t, title, cid in session.exec(select(Transcript.id, Transcript.title, Transcript.case_id)).all()
    }
    cases = dict(session.exec(select(Case.id, Case.name)).all())
    entries: list[MemoEntry] = []
    for m in memos:
        tid = m.transcript_id
        position = speaker = None
        if m.segment_id is not None and m.segment_id in segments:
            tid, position, speaker = segments[m.segment_id]
        title, transcript_case = transcripts.get(tid, ("", None)) if tid is not None else ("", None)
        memo_case = m.case_id if m.case_id is not None else transcript_case
        if case_id is not None and memo_case != case_id and transcript_case != case_id:
            continue
        entries.append(
            MemoEntry(
                id=require_id(m),
                kind=m.kind,
                author=authors.get(m.coder_id, "") if m.coder_id is not None else "",
                case=cases.get(memo_case, "") if memo_case is not None else "",
                transcript=title,
                transcript_id=tid,
                segment_id=m.segment_id,
                position=position,
                speaker=speaker or "",
                code=paths.get(m.code_id, "") if m.code_id is not None else "",
                round=m.round,
                label=m.label or "",
                text=m.text,
                updated_at=m.updated_at,
            )
        )
    return MemoList(
        memos=tuple(entries), kind=kind, search=search, code=code, case=case, hidden_by_blinding=visible is not None
    )


def memo_list(
    project: Access,
    viewer: str | None,
    *,
    kind: str | None = None,
    search: str | None = None,
    code: str | None = None,
    case: str | None = None,
    codebook: str | None = None,
) -> MemoList:
    """``memo_list_in`` in a read session of its own (for the workbench)."""
    with project.read() as s:
        return memo_list_in(s, viewer, kind=kind, search=search, code=code, case=case, codebook=codebook)


MEMO_COLUMNS = ["id", "kind", "author", "case", "transcript", "segment", "code", "round", "label", "updated", "text"]


def memo_table(memos: MemoList) -> Table:
    rows = [
        [
            m.id,
            m.kind,
            m.author,
            m.case,
            m.transcript,
            m.position if m.position is not None else "",
            m.code,
            m.round,
            m.label,
            m.updated_at.strftime("%Y-%m-%d %H:%M"),
            m.text,
        ]
        for m in memos.memos
    ]
    n = memos.count
    note = "Blinded: only your own memos are listed." if memos.hidden_by_blinding else ""
    return Table(columns=list(MEMO_COLUMNS), rows=rows, title=f"Memos: {n} memo{'s' * (n != 1)}", note=note)


def memo_json(memos: MemoList) -> list[dict[str, object]]:
    return [
        {
            "id": m.id,
            "kind": m.kind,
            "author": m.author,
            "case": m.case,
            "transcript": m.transcript,
            "segment": m.position,
            "speaker": m.speaker,
            "code": m.code,
            "round": m.round,
            "label": m.label,
            "updated_at": m.updated_at.isoformat(),
            "text": m.text,
        }
        for m in memos.memos
    ]
