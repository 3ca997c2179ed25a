"""One coder's work on one transcript: apply, remove, undo and redo, done marks, memos,
quote spans and CQR core ideas.

Every action is its own transaction with its audit event, committed before the call
returns: what a screen shows as saved is on disk. State is mirrored in memory so a screen
can repaint without asking the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..errors import QualcodeError
from ..store import audit
from ..store.access import Access
from ..store.ids import require_id, wide_select
from ..store.models import (
    Case,
    Code,
    Codebook,
    Coder,
    Coding,
    Memo,
    Segment,
    SegmentStatus,
    Speaker,
    Transcript,
    utcnow,
)
from .blinding import find_coder
from .rounds import current_round


class InactiveCodeError(QualcodeError):
    """A coding refused because the lead retired or merged its code after the screen loaded the codebook:
    the screen reloads the codebook (:meth:`TranscriptWork.reload_codes`) and shows the one line."""


def inactive_code_message(session: Session, code: Code) -> str:
    """Why ``code`` can no longer be applied, in one line."""
    if code.merged_into_id is not None:
        target = session.get(Code, code.merged_into_id)
        into = f" into {target.name!r}" if target is not None else ""
        return f"code {code.name!r} was merged{into} by the lead: pick another"
    return f"code {code.name!r} was retired by the lead: pick another"


@dataclass(frozen=True)
class SegmentRow:
    id: int
    position: int
    start: int
    end: int
    speaker: str
    role: str
    time_start: float | None


Step = tuple[str, tuple]  # a TranscriptWork method's name and its arguments


@dataclass
class Action:
    """An undoable step: ``redo`` does it again, ``undo`` takes it back.

    Steps name a method rather than hold a closure, so a history outlives the object that
    made it: reopening a transcript in the same session picks its history up again.
    """

    label: str
    redo: Step
    undo: Step


@dataclass
class UndoHistory:
    """A transcript's undo and redo stacks, for ``TranscriptWork.adopt``."""

    key: tuple[int, int, int | None, int | None, int]  # coder, transcript, codebook and its version, round
    undo: list[Action]
    redo: list[Action]


class TranscriptWork:
    """A coder's view of one transcript in its current round."""

    def __init__(self, project: Access, coder: str, transcript_id: int, codebook: str | None = None):
        self.project = project
        with project.read() as s:
            self.coder: Coder = find_coder(s, coder)
            self.coder_id = require_id(self.coder)
            transcript = s.get(Transcript, transcript_id)
            if transcript is None:
                raise QualcodeError(f"unknown transcript id {transcript_id}")
            self.transcript: Transcript = transcript
            self.transcript_id = transcript_id
            self.case_name = s.get_one(Case, transcript.case_id).name if transcript.case_id else ""
            self.round = current_round(s, transcript_id)
            if codebook:
                self.codebook = s.exec(select(Codebook).where(Codebook.name == codebook)).first()
            else:
                self.codebook = s.exec(select(Codebook).where(Codebook.active == True)).first()  # noqa: E712
            self.codes: list[Code] = self._active_codes(s)
            rows = s.exec(
                wide_select(
                    col(Segment.id),
                    col(Segment.position),
                    col(Segment.start),
                    col(Segment.end),
                    col(Speaker.label),
                    col(Speaker.role),
                    col(Speaker.pseudonym),
                    col(Segment.time_start),
                )
                .outerjoin(Speaker, col(Speaker.id) == Segment.speaker_id)
                .where(Segment.transcript_id == transcript_id)
                .order_by(col(Segment.position))
            ).all()
            self.segments = [
                SegmentRow(sid, pos, a, b, (pseud or label or ""), role or "", ts)
                for sid, pos, a, b, label, role, pseud, ts in rows
            ]
            seg_ids = [r.id for r in self.segments]
            self.applied: dict[int, set[int]] = {sid: set() for sid in seg_ids}
            self.quotes: dict[tuple[int, int], tuple[int, int]] = {}
            for sid, cid, qs, qe in s.exec(
                select(Coding.segment_id, Coding.code_id, Coding.quote_start, Coding.quote_end)
                .join(Segment, col(Segment.id) == Coding.segment_id)
                .where(
                    Segment.transcript_id == transcript_id, Coding.coder_id == self.coder_id, Coding.round == self.round
                )
            ).all():
                self.applied.setdefault(sid, set()).add(cid)
                if qs is not None and qe is not None:  # a quote has both ends or none
                    self.quotes[(sid, cid)] = (qs, qe)
            self.done: set[int] = set(
                s.exec(
                    select(SegmentStatus.segment_id)
                    .join(Segment, col(Segment.id) == SegmentStatus.segment_id)
                    .where(
                        Segment.transcript_id == transcript_id,
                        SegmentStatus.coder_id == self.coder_id,
                        SegmentStatus.round == self.round,
                    )
                )
            )
            # (kind, code id for a code memo, else segment id) -> text
            self.memos: dict[tuple[str, int | None], str] = {}
            # Segment memos and core ideas belong to a round (a recode starts clean); code memos do not.
            for kind, memo_segment_id, memo_code_id, text in s.exec(
                select(Memo.kind, Memo.segment_id, Memo.code_id, Memo.text).where(
                    Memo.coder_id == self.coder_id,
                    col(Memo.kind).in_(("segment", "core_idea", "code")),
                    ((col(Memo.transcript_id) == transcript_id) & (col(Memo.round) == self.round))
                    | (col(Memo.kind) == "code"),
                )
            ).all():
                self.memos[(kind, memo_code_id if kind == "code" else memo_segment_id)] = text
        self.code_by_id: dict[int | None, Code] = {c.id: c for c in self.codes}
        self.index_of = {seg.id: i for i, seg in enumerate(self.segments)}
        self._undo: list[Action] = []
        self._redo: list[Action] = []

    def _active_codes(self, session: Session) -> list[Code]:
        if self.codebook is None:
            return []
        return list(
            session.exec(
                select(Code)
                .where(Code.codebook_id == self.codebook.id, Code.status == "active")
                .order_by(col(Code.position), col(Code.id))
            )
        )

    def reload_codes(self) -> list[Code]:
        """The codebook's active codes read again (the lead may have merged, retired or added codes
        since this transcript opened); ``codes`` and ``code_by_id`` follow. Returns the new list."""
        with self.project.read() as s:
            codes = self._active_codes(s)
        self.codes = codes
        self.code_by_id = {c.id: c for c in codes}
        return codes

    # -- reading ----------------------------------------------------------------------------
    @property
    def text(self) -> str:
        return self.transcript.text

    def segment_text(self, seg: SegmentRow) -> str:
        return self.transcript.text[seg.start : seg.end]

    def codes_on(self, segment_id: int) -> list[Code]:
        ids = self.applied.get(segment_id, set())
        return [c for c in self.codes if c.id in ids]

    def next_uncoded(self, after: int) -> int | None:
        """Index of the next segment (after index ``after``, wrapping) not marked done."""
        n = len(self.segments)
        for step in range(1, n + 1):
            i = (after + step) % n
            if self.segments[i].id not in self.done:
                return i
        return None

    def search(self, query: str, after: int, backwards: bool = False) -> int | None:
        """Index of the next segment whose text or speaker contains ``query`` (case-insensitive)."""
        q = query.casefold()
        if not q or not self.segments:
            return None
        n = len(self.segments)
        for step in range(1, n + 1):
            i = (after - step) % n if backwards else (after + step) % n
            seg = self.segments[i]
            if q in self.segment_text(seg).casefold() or q in seg.speaker.casefold():
                return i
        return None

    def progress(self) -> tuple[int, int]:
        return len(self.done), len(self.segments)

    # -- undo / redo --------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def history(self) -> UndoHistory:
        """The undo and redo stacks, to hand to the next ``TranscriptWork`` on this transcript."""
        codebook = self.codebook
        key = (
            self.coder_id,
            self.transcript_id,
            codebook.id if codebook else None,
            codebook.version if codebook else None,
            self.round,
        )
        return UndoHistory(key, self._undo, self._redo)

    def adopt(self, history: UndoHistory | None) -> bool:
        """Take over an earlier view's stacks when it was the same coder, transcript, codebook
        version and round (a new round, or a changed codebook, starts a fresh history);
        returns whether it did."""
        if history is None or history.key != self.history.key:
            return False
        self._undo, self._redo = history.undo, history.redo
        return True

    def _run(self, step: Step) -> None:
        name, args = step
        getattr(self, name)(*args)

    def _do(self, action: Action) -> None:
        self._run(action.redo)
        self._undo.append(action)
        self._redo.clear()

    def undo(self) -> str | None:
        if not self._undo:
            return None
        action = self._undo.pop()
        self._run(action.undo)
        self._redo.append(action)
        return action.label

    def redo(self) -> str | None:
        if not self._redo:
            return None
        action = self._redo.pop()
        self._run(action.redo)
        self._undo.append(action)
        return action.label

    # -- primitive writes (each one transaction with its audit event) -----------------------
    def _check(self, segment_id: int, code_id: int | None = None) -> None:
        if self.coder.role == "auditor":
            raise QualcodeError(f"{self.coder.name} is an auditor: auditors review the coding, they do not code")
        if segment_id not in self.index_of:
            raise QualcodeError(f"segment {segment_id} is not in {self.transcript.title!r}")
        if code_id is not None:
            code = self.code_by_id.get(code_id)
            if code is None:
                raise QualcodeError(f"code {code_id} is not in the active codebook")
            if not code.applicable:
                raise QualcodeError(f"{code.name!r} is a grouping; apply one of its codes")

    def _same_round(self, session: Session) -> None:
        """Refuse to write into a round the lead has since moved this transcript past."""
        now = current_round(session, self.transcript_id)
        if now != self.round:
            raise QualcodeError(
                f"the lead opened round {now} for {self.transcript.title!r}: reopen it to code "
                f"round {now} (round {self.round} is kept as it was)"
            )

    def _own_coding(self, session: Session, segment_id: int, code_id: int) -> Coding | None:
        """This coder's coding of ``code_id`` on the segment in this round, if any."""
        return session.exec(
            select(Coding).where(
                Coding.segment_id == segment_id,
                Coding.code_id == code_id,
                Coding.coder_id == self.coder_id,
                Coding.round == self.round,
            )
        ).first()

    def _still_active(self, session: Session, code_id: int) -> None:
        """Refuse a code the lead has retired or merged since the codebook was loaded (checked inside the
        write transaction, so a coding never lands on a code that left the codebook)."""
        # FOR SHARE on PostgreSQL: a merge or retirement committing meanwhile waits for this coding, then
        # moves it along with the rest (SQLite's write lock already serializes the two).
        code = session.get(Code, code_id, with_for_update={"read": True}, populate_existing=True)
        if code is None:
            raise InactiveCodeError(f"code {code_id} was deleted by the lead: pick another")
        if code.status != "active":
            raise InactiveCodeError(inactive_code_message(session, code))

    def _insert_coding(self, segment_id: int, code_id: int, quote: tuple[int, int] | None = None) -> None:
        with self.project.transaction() as s:
            self._same_round(s)
            self._still_active(s, code_id)
            existing = self._own_coding(s, segment_id, code_id)
            if existing is None:
                row = Coding(
                    segment_id=segment_id,
                    code_id=code_id,
                    coder_id=self.coder_id,
                    round=self.round,
                    quote_start=quote[0] if quote else None,
                    quote_end=quote[1] if quote else None,
                )
                s.add(row)
                try:
                    s.flush()
                except IntegrityError:  # the same coder applied it from another window just now
                    s.rollback()
                else:
                    audit.record(s, self.coder.name, "coding.apply", row)
        self.applied.setdefault(segment_id, set()).add(code_id)
        if quote:
            self.quotes[(segment_id, code_id)] = quote

    def _delete_coding(self, segment_id: int, code_id: int) -> None:
        with self.project.transaction() as s:
            self._same_round(s)
            row = self._own_coding(s, segment_id, code_id)
            if row is not None:
                audit.record(s, self.coder.name, "coding.remove", row, before=row)
                s.delete(row)
        self.applied.get(segment_id, set()).discard(code_id)
        self.quotes.pop((segment_id, code_id), None)

    def _set_quote_row(self, segment_id: int, code_id: int, quote: tuple[int, int] | None) -> None:
        with self.project.transaction() as s:
            self._same_round(s)
            row = self._own_coding(s, segment_id, code_id)
            if row is None:
                raise QualcodeError("apply the code before narrowing it to a quote")
            before = audit.row_dict(row)
            row.quote_start, row.quote_end = quote if quote else (None, None)
            s.add(row)
            audit.record(s, self.coder.name, "coding.quote", row, before=before, after=audit.row_dict(row))
        if quote:
            self.quotes[(segment_id, code_id)] = quote
        else:
            self.quotes.pop((segment_id, code_id), None)

    def _set_done_row(self, segment_id: int, done: bool) -> None:
        with self.project.transaction() as s:
            self._same_round(s)
            row = s.exec(
                select(SegmentStatus).where(
                    SegmentStatus.segment_id == segment_id,
                    SegmentStatus.coder_id == self.coder_id,
                    SegmentStatus.round == self.round,
                )
            ).first()
            if done and row is None:
                row = SegmentStatus(segment_id=segment_id, coder_id=self.coder_id, round=self.round)
                s.add(row)
                s.flush()
                audit.record(s, self.coder.name, "segment.done", row)
            elif not done and row is not None:
                audit.record(s, self.coder.name, "segment.undone", row, before=row)
                s.delete(row)
        (self.done.add if done else self.done.discard)(segment_id)

    def _write_memo(self, kind: str, segment_id: int | None, code_id: int | None, text: str) -> None:
        with self.project.transaction() as s:
            if kind != "code":
                self._same_round(s)
            stmt = select(Memo).where(Memo.kind == kind, Memo.coder_id == self.coder_id)
            if kind == "code":
                stmt = stmt.where(Memo.code_id == code_id)
            else:
                stmt = stmt.where(Memo.segment_id == segment_id, Memo.round == self.round)
            row = s.exec(stmt).first()
            if not text.strip():
                if row is not None:
                    audit.record(s, self.coder.name, "memo.delete", row, before=row)
                    s.delete(row)
            else:
                before = audit.row_dict(row)
                if row is None:
                    row = Memo(
                        kind=kind,
                        coder_id=self.coder_id,
                        segment_id=segment_id,
                        code_id=code_id,
                        case_id=self.transcript.case_id,
                        transcript_id=self.transcript_id if kind != "code" else None,
                        round=self.round,
                    )
                row.text = text
                row.updated_at = utcnow()
                s.add(row)
                s.flush()
                audit.record(s, self.coder.name, "memo.write", row, before=before, after=audit.row_dict(row))
        key = (kind, code_id if kind == "code" else segment_id)
        if text.strip():
            self.memos[key] = text
        else:
            self.memos.pop(key, None)

    # -- undoable actions ---------------------------------------------------------------------
    def toggle(self, segment_id: int, code_id: int) -> bool:
        """Apply the code if absent, remove it if present; returns whether it is now applied."""
        self._check(segment_id, code_id)
        if code_id in self.applied.get(segment_id, set()):
            quote = self.quotes.get((segment_id, code_id))
            self._do(
                Action(
                    f"remove {self.code_by_id[code_id].name}",
                    redo=("_delete_coding", (segment_id, code_id)),
                    undo=("_insert_coding", (segment_id, code_id, quote)),
                )
            )
            return False
        self._do(
            Action(
                f"apply {self.code_by_id[code_id].name}",
                redo=("_insert_coding", (segment_id, code_id)),
                undo=("_delete_coding", (segment_id, code_id)),
            )
        )
        return True

    def apply(self, segment_id: int, code_id: int) -> None:
        if code_id not in self.applied.get(segment_id, set()):
            self.toggle(segment_id, code_id)

    def remove(self, segment_id: int, code_id: int) -> None:
        if code_id in self.applied.get(segment_id, set()):
            self.toggle(segment_id, code_id)

    def set_done(self, segment_id: int, done: bool = True) -> None:
        self._check(segment_id)
        if (segment_id in self.done) == done:
            return
        self._do(
            Action(
                "mark done" if done else "mark not done",
                redo=("_set_done_row", (segment_id, done)),
                undo=("_set_done_row", (segment_id, not done)),
            )
        )

    def toggle_done(self, segment_id: int) -> bool:
        self.set_done(segment_id, segment_id not in self.done)
        return segment_id in self.done

    def set_quote(self, segment_id: int, code_id: int, start: int, end: int) -> None:
        """Narrow a coding to ``text[start:end]`` (absolute offsets inside the segment)."""
        self._check(segment_id, code_id)
        seg = self.segments[self.index_of[segment_id]]
        if not (seg.start <= start < end <= seg.end):
            raise QualcodeError(f"quote {start}-{end} is not inside segment {seg.position} ({seg.start}-{seg.end})")
        applied_before = code_id in self.applied.get(segment_id, set())
        old = self.quotes.get((segment_id, code_id))
        if applied_before and old == (start, end):
            return  # the same span again: nothing to save, nothing to undo

        self._do(
            Action(
                f"quote for {self.code_by_id[code_id].name}",
                redo=("_quote", (segment_id, code_id, (start, end))),
                undo=("_unquote", (segment_id, code_id, applied_before, old)),
            )
        )

    def _quote(self, segment_id: int, code_id: int, span: tuple[int, int]) -> None:
        if code_id not in self.applied.get(segment_id, set()):
            self._insert_coding(segment_id, code_id, span)
        else:
            self._set_quote_row(segment_id, code_id, span)

    def _unquote(self, segment_id: int, code_id: int, applied_before: bool, old: tuple[int, int] | None) -> None:
        if not applied_before:
            self._delete_coding(segment_id, code_id)
        else:
            self._set_quote_row(segment_id, code_id, old)

    def memo(self, segment_id: int) -> str:
        return self.memos.get(("segment", segment_id), "")

    def core_idea(self, segment_id: int) -> str:
        return self.memos.get(("core_idea", segment_id), "")

    def code_memo(self, code_id: int) -> str:
        return self.memos.get(("code", code_id), "")

    def _memo_action(self, kind: str, segment_id: int | None, code_id: int | None, text: str, label: str) -> None:
        old = self.memos.get((kind, code_id if kind == "code" else segment_id), "")
        if old == text:
            return
        self._do(
            Action(
                label,
                redo=("_write_memo", (kind, segment_id, code_id, text)),
                undo=("_write_memo", (kind, segment_id, code_id, old)),
            )
        )

    def set_memo(self, segment_id: int, text: str) -> None:
        self._check(segment_id)
        self._memo_action("segment", segment_id, None, text, "segment memo")

    def set_core_idea(self, segment_id: int, text: str) -> None:
        """CQR: the block's core idea (a short abstract in the coder's words)."""
        self._check(segment_id)
        self._memo_action("core_idea", segment_id, None, text, "core idea")

    def set_code_memo(self, code_id: int, text: str) -> None:
        if code_id not in self.code_by_id:
            raise QualcodeError(f"code {code_id} is not in the active codebook")
        self._memo_action("code", None, code_id, text, "code memo")
