"""Accepting a code suggestion in the workbench: a coding like any other, marked as accepted from a suggestion.

Kept apart from ``assist.suggest`` (numpy, scikit-learn, spaCy) so that opening a transcript costs
nothing more than before.
"""

from __future__ import annotations

from sqlmodel import col, select

from ..coding.service import Action, TranscriptWork
from ..store import audit
from ..store.access import Access
from ..store.enums import CodingSource
from ..store.models import Coding, Segment


class SuggestingWork(TranscriptWork):
    """A coder's transcript work that can also accept a suggestion: the coding is written with
    ``source = "suggestion"`` in the same transaction as its audit event, and undoes like any coding
    (removing it and undoing the removal brings it back as accepted from the suggestion, quote and all)."""

    def __init__(self, project: Access, coder: str, transcript_id: int, codebook: str | None = None):
        super().__init__(project, coder, transcript_id, codebook)
        with project.read() as s:
            self.accepted: set[tuple[int, int]] = {
                (seg, code)
                for seg, code in s.exec(
                    select(Coding.segment_id, Coding.code_id)
                    .join(Segment, col(Segment.id) == Coding.segment_id)
                    .where(
                        Segment.transcript_id == transcript_id,
                        Coding.coder_id == self.coder_id,
                        Coding.round == self.round,
                        Coding.source == CodingSource.SUGGESTION.value,
                    )
                ).all()
            }

    def accept(self, segment_id: int, code_id: int) -> bool:
        """Apply ``code_id`` as accepted from a suggestion; False (nothing done) when it is already applied."""
        self._check(segment_id, code_id)
        if code_id in self.applied.get(segment_id, set()):
            return False
        self._do(
            Action(
                f"accept suggestion {self.code_by_id[code_id].name}",
                redo=("_insert_suggested", (segment_id, code_id)),
                undo=("_delete_coding", (segment_id, code_id)),
            )
        )
        return True

    def toggle(self, segment_id: int, code_id: int) -> bool:
        """As ``TranscriptWork.toggle``; removing an accepted suggestion undoes back to an accepted suggestion."""
        key = (segment_id, code_id)
        if key not in self.accepted or code_id not in self.applied.get(segment_id, set()):
            return super().toggle(segment_id, code_id)
        self._check(segment_id, code_id)
        self._do(
            Action(
                f"remove {self.code_by_id[code_id].name}",
                redo=("_delete_coding", key),
                undo=("_insert_suggested", (*key, self.quotes.get(key))),
            )
        )
        return False

    def _insert_suggested(self, segment_id: int, code_id: int, quote: tuple[int, int] | None = None) -> None:
        with self.project.transaction() as s:
            self._same_round(s)
            self._still_active(s, code_id)
            if self._own_coding(s, segment_id, code_id) is None:
                row = Coding(
                    segment_id=segment_id,
                    code_id=code_id,
                    coder_id=self.coder_id,
                    round=self.round,
                    quote_start=quote[0] if quote else None,
                    quote_end=quote[1] if quote else None,
                    source=CodingSource.SUGGESTION.value,
                )
                s.add(row)
                s.flush()
                audit.record(s, self.coder.name, "coding.apply", row)
        self.applied.setdefault(segment_id, set()).add(code_id)
        self.accepted.add((segment_id, code_id))
        if quote:
            self.quotes[(segment_id, code_id)] = quote

    def _delete_coding(self, segment_id: int, code_id: int) -> None:
        super()._delete_coding(segment_id, code_id)
        self.accepted.discard((segment_id, code_id))
