"""Which codings a synthesis display counts: the consensus layer or one coder's layer.

One SQL query per layer returns every coding of one codebook with the segment's
transcript, speaker and case, ready for vectorised aggregation in pandas.
(``qualcode.coding.consensus.layer_codings`` answers the same question for the
agreement screens; the two should share one function once both have settled.)
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select, text
from sqlmodel import Session

from ..codebook.lookup import get_codebook
from ..coding.blinding import find_coder, visible_coder_ids
from ..errors import BlindingError, QualcodeError
from ..store.models import Codebook, ConsensusDecision
from .tree import CodeTree

CONSENSUS = "consensus"
LAYER_COLUMNS = ["segment_id", "code_id", "quote_start", "quote_end", "transcript_id", "speaker_id", "case_id"]

_SELECT = """
SELECT c.segment_id, c.code_id, c.quote_start, c.quote_end, s.transcript_id, s.speaker_id, t.case_id
FROM {table} c
JOIN qc_segment s ON s.id = c.segment_id
JOIN qc_transcript t ON t.id = s.transcript_id
JOIN qc_code k ON k.id = c.code_id
"""

CONSENSUS_SQL = _SELECT.format(table="qc_consensus") + "WHERE c.present = :present AND k.codebook_id = :codebook_id"

# A coder's layer is, per transcript, the latest round in which that coder coded it.
CODER_SQL = _SELECT.format(table="qc_coding") + """
JOIN (
    SELECT s2.transcript_id AS transcript_id, MAX(c2.round) AS round
    FROM qc_coding c2 JOIN qc_segment s2 ON s2.id = c2.segment_id
    WHERE c2.coder_id = :coder_id
    GROUP BY s2.transcript_id
) latest ON latest.transcript_id = s.transcript_id AND latest.round = c.round
WHERE c.coder_id = :coder_id AND k.codebook_id = :codebook_id
"""


@dataclass(frozen=True)
class Layer:
    """``kind`` is "consensus" or "coder"; ``coder_id`` is set for a coder's layer."""

    kind: str
    name: str
    coder_id: int | None = None

    @property
    def description(self) -> str:
        return "consensus coding" if self.kind == CONSENSUS else f"codings by {self.name}"


def resolve_layer(session: Session, layer: str | None, viewer: str | None = None) -> Layer:
    """The layer called ``layer`` (default: consensus once it exists), checked against blinding."""
    if layer is None or layer.casefold() == CONSENSUS:
        has_consensus = session.exec(
            select(ConsensusDecision.id).where(ConsensusDecision.present == True).limit(1)  # noqa: E712
        ).first()
        if has_consensus is None:
            if layer is None:
                raise QualcodeError("no consensus coding yet: choose a coder's layer with --layer CODER")
            raise QualcodeError("the consensus layer is empty: reconcile first, or choose --layer CODER")
        return Layer(CONSENSUS, CONSENSUS)
    coder = find_coder(session, layer)
    visible = visible_coder_ids(session, viewer)
    if visible is not None and coder.id not in visible:
        raise BlindingError(f"the project is blinded: {viewer} may not see the codings of {coder.name}")
    return Layer("coder", coder.name, coder.id)


def layer_frame(session: Session, layer: Layer, codebook_id: int) -> pd.DataFrame:
    """Every coding of the layer in one codebook, one row per (segment, code) by the schema's unique keys."""
    if layer.kind == CONSENSUS:
        sql, params = CONSENSUS_SQL, {"present": True, "codebook_id": codebook_id}
    else:
        sql, params = CODER_SQL, {"coder_id": layer.coder_id, "codebook_id": codebook_id}
    result = session.connection().execute(text(sql), params)
    # Plain DBAPI tuples: SQLAlchemy Row objects cost more than the query on a million rows.
    rows = result.cursor.fetchall()
    result.close()
    frame = pd.DataFrame(rows, columns=LAYER_COLUMNS)
    # Nullable columns stay floats with NaN; ids that are never null become plain ints.
    for col in ("segment_id", "code_id", "transcript_id"):
        frame[col] = frame[col].astype("int64")
    return frame


@dataclass
class CodedData:
    """One layer's codings of one codebook, with the codebook tree to roll them up."""

    codebook: Codebook
    tree: CodeTree
    layer: Layer
    frame: pd.DataFrame


def load_coded(session: Session, *, codebook: str | None = None, layer: str | None = None,
               viewer: str | None = None) -> CodedData:
    """The codings a display counts: ``layer`` of ``codebook`` (the active one by default)."""
    book = get_codebook(session, codebook)
    chosen = resolve_layer(session, layer, viewer)
    return CodedData(book, CodeTree(session, book), chosen, layer_frame(session, chosen, book.id))
