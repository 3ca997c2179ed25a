"""Which codings make up a layer: the one definition every display and statistic reads.

The consensus layer is the ``ConsensusDecision`` rows with ``present = True``. A coder's
layer is their codings in, per transcript, the latest round in which they coded it or
marked a segment of it done (or in one chosen round). Callers add their own joins to the
returned selectable; blinding is the caller's business (``visible_coder_ids``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, union_all
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from ..store.models import Code, Coder, Coding, ConsensusDecision, Segment, SegmentStatus
from .blinding import find_coder

if TYPE_CHECKING:
    import pandas as pd

CONSENSUS = "consensus"  # the consensus layer's name wherever a layer or coder is named (CLI, reports, exports)
LAYER_COLUMNS = ("segment_id", "code_id", "quote_start", "quote_end")


class LayerKind(StrEnum):
    CONSENSUS = CONSENSUS
    CODER = "coder"


@dataclass(frozen=True)
class Layer:
    """A layer of codings: the consensus, or one coder's (``coder_id`` set)."""

    kind: LayerKind
    name: str
    coder_id: int | None = None

    @classmethod
    def consensus(cls) -> Layer:
        return cls(LayerKind.CONSENSUS, CONSENSUS)

    @classmethod
    def of_coder(cls, coder: Coder) -> Layer:
        return cls(LayerKind.CODER, coder.name, coder.id)

    @property
    def is_consensus(self) -> bool:
        return self.kind is LayerKind.CONSENSUS

    @property
    def description(self) -> str:
        return "consensus coding" if self.is_consensus else f"codings by {self.name}"


def named_layer(session: Session, name: str) -> Layer:
    """The layer called ``name``: "consensus" or a coder's name (no blinding check)."""
    if name == CONSENSUS:
        return Layer.consensus()
    return Layer.of_coder(find_coder(session, name))


def latest_rounds(coder_id: int):
    """(transcript_id, round): per transcript, the latest round the coder coded or marked done."""
    worked = union_all(
        select(col(Segment.transcript_id).label("transcript_id"), col(Coding.round).label("round"))
        .join(Segment, col(Segment.id) == Coding.segment_id)
        .where(Coding.coder_id == coder_id),
        select(col(Segment.transcript_id).label("transcript_id"), col(SegmentStatus.round).label("round"))
        .join(Segment, col(Segment.id) == SegmentStatus.segment_id)
        .where(SegmentStatus.coder_id == coder_id),
    ).subquery("worked")
    return (
        select(worked.c.transcript_id, func.max(worked.c.round).label("round"))
        .group_by(worked.c.transcript_id)
        .subquery("latest")
    )


def layer_select(coder_id: int | None = None, *, round: int | None = None, codebook_id: int | None = None) -> Select:
    """The codings of a layer, as columns segment_id, code_id, quote_start, quote_end.

    ``coder_id`` None is the consensus layer (``round`` does not apply to it). For a coder,
    ``round`` picks that round in every transcript instead of the latest. ``codebook_id``
    keeps the codes of one codebook (a semi-join, which lets the engine scan the codings
    once instead of walking them code by code).
    """
    if coder_id is None:
        code_id = col(ConsensusDecision.code_id)
        stmt = select(
            ConsensusDecision.segment_id,
            ConsensusDecision.code_id,
            ConsensusDecision.quote_start,
            ConsensusDecision.quote_end,
        ).where(ConsensusDecision.present == True)  # noqa: E712
    else:
        code_id = col(Coding.code_id)
        stmt = select(Coding.segment_id, Coding.code_id, Coding.quote_start, Coding.quote_end).where(
            Coding.coder_id == coder_id
        )
        if round is not None:
            stmt = stmt.where(Coding.round == round)
        else:
            latest = latest_rounds(coder_id)
            stmt = stmt.join(Segment, col(Segment.id) == Coding.segment_id).join(
                latest, and_(latest.c.transcript_id == Segment.transcript_id, latest.c.round == Coding.round)
            )
    if codebook_id is not None:
        stmt = stmt.where(code_id.in_(select(Code.id).where(Code.codebook_id == codebook_id)))
    return stmt


def layer_codings(session: Session, layer: str, round: int | None = None) -> pd.DataFrame:
    """One layer's codings as a frame: columns segment_id, code_id, quote_start, quote_end.

    ``layer`` is "consensus" (the decisions with present = True) or a coder's name; for a
    coder, per transcript the latest round they coded or marked done counts, unless ``round``
    is given. Blinding is the caller's business (use ``visible_coder_ids``).
    """
    import pandas as pd

    rows = session.exec(layer_select(named_layer(session, layer).coder_id, round=round)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(LAYER_COLUMNS))
