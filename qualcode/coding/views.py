"""Read-only views the coding screens need beyond one coder's own work.

Blinding applies to everything here: a coder gets nothing of anyone else's.
"""

from __future__ import annotations

from sqlmodel import col, select

from ..store.access import Access
from ..store.models import Coder, Coding, Segment
from .blinding import visible_coder_ids


def others_by_segment(project: Access, viewer: str, transcript_id: int, round: int) -> dict[int, dict[str, set[int]]]:
    """``{segment_id: {coder name: code ids}}`` for every coder but ``viewer`` in ``round``.

    Empty while the project is blinded for ``viewer`` (one query for the whole transcript,
    for the lead's side-by-side view).
    """
    with project.read() as s:
        if visible_coder_ids(s, viewer) is not None:
            return {}
        rows = s.exec(
            select(Coding.segment_id, Coder.name, Coding.code_id)
            .join(Coder, col(Coder.id) == Coding.coder_id)
            .join(Segment, col(Segment.id) == Coding.segment_id)
            .where(Segment.transcript_id == transcript_id, Coding.round == round, Coder.name != viewer)
        ).all()
    out: dict[int, dict[str, set[int]]] = {}
    for segment_id, name, code_id in rows:
        out.setdefault(segment_id, {}).setdefault(name, set()).add(code_id)
    return out
