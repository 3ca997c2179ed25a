"""Accepting a code suggestion in the workbench: a coding like any other, marked as accepted from a suggestion.

Kept apart from ``assist.suggest`` (numpy, scikit-learn, spaCy) so that opening a transcript costs
nothing more than before.
"""

from __future__ import annotations

from ..coding.service import Action, TranscriptWork
from ..store import audit
from ..store.enums import CodingSource
from ..store.models import Coding


class SuggestingWork(TranscriptWork):
    """A coder's transcript work that can also accept a suggestion: the coding is written with
    ``source = "suggestion"`` in the same transaction as its audit event, and undoes like any coding."""

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

    def _insert_suggested(self, segment_id: int, code_id: int) -> None:
        with self.project.transaction() as s:
            self._same_round(s)
            self._still_active(s, code_id)
            if self._own_coding(s, segment_id, code_id) is None:
                row = Coding(
                    segment_id=segment_id,
                    code_id=code_id,
                    coder_id=self.coder_id,
                    round=self.round,
                    source=CodingSource.SUGGESTION.value,
                )
                s.add(row)
                s.flush()
                audit.record(s, self.coder.name, "coding.apply", row)
        self.applied.setdefault(segment_id, set()).add(code_id)
