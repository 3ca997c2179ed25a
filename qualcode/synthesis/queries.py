"""Reads the user interfaces ask of the synthesis package: the layers a display can count, the
CQR table and the memo matrix with the choices around them, a cell memo, and the evidence rows.

Each takes the project (anything with ``read()``: ``qualcode.store.access.Access``) and reads
in one session of its own; results are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session, col, select

from ..codebook.queries import codebook_names_in, default_codebook_in
from ..coding.blinding import find_coder
from ..coding.layers import CONSENSUS
from ..coding.queries import coder_names_in
from ..coding.segments import transcripts_of
from ..store.access import Access
from ..store.enums import MemoKind
from ..store.models import ConsensusDecision, Memo
from .cqr import CqrTable, cqr_table
from .evidence import segment_details
from .matrix import MemoMatrix, memo_matrix
from .units import case_attribute_names, case_attribute_values, speaker_attribute_names

# Case units every project has; each case attribute is one more.
CASE_UNITS = ("transcript", "case", "speaker")


def _layers(session: Session) -> list[str]:
    has_consensus = session.exec(
        select(ConsensusDecision.id).where(col(ConsensusDecision.present).is_(True)).limit(1)
    ).first()
    return ([CONSENSUS] if has_consensus is not None else []) + coder_names_in(session)


def available_layers(project: Access) -> list[str]:
    """The layers a display can count: the consensus once a decision says a code is present, then each coder."""
    with project.read() as s:
        return _layers(s)


@dataclass(frozen=True)
class CqrView:
    """The CQR table as chosen (its codebook and layer filled in when the choice left them open),
    and what else could be chosen."""

    table: CqrTable
    codebook: str
    layer: str | None
    codebooks: list[str]
    layers: list[str]
    units: list[str]  # case units: the built-in ones, then case attributes
    groups: list[str]  # speaker and case attributes a column can split by


def cqr_view(
    project: Access,
    viewer: str,
    *,
    codebook: str | None = None,
    layer: str | None = None,
    case_unit: str = "transcript",
    groups: str | None = None,
    order: str = "codebook",
) -> CqrView:
    """``codebook`` None: a CQR codebook if there is one; ``layer`` None: the first available layer."""
    with project.read() as s:
        layers = _layers(s)
        layer = layer or (layers[0] if layers else None)
        table = cqr_table(
            s,
            codebook=codebook or default_codebook_in(s),
            layer=layer,
            case_unit=case_unit,
            groups=groups,
            order=order,
            viewer=viewer,
        )
        case_attributes = case_attribute_names(s)
        return CqrView(
            table,
            table.data.codebook.name,
            layer,
            codebook_names_in(s),
            layers,
            list(CASE_UNITS) + case_attributes,
            speaker_attribute_names(s) + case_attributes,
        )


@dataclass(frozen=True)
class MatrixView:
    """The memo matrix as chosen (its layer filled in), and what else could be chosen."""

    matrix: MemoMatrix
    layer: str | None
    layers: list[str]
    attributes: list[str]  # case attributes the cases can be ordered by
    case_attributes: dict[int, list[tuple[str, str]]]  # case id -> (attribute, value), for a detail pane


def matrix_view(
    project: Access,
    viewer: str,
    *,
    layer: str | None = None,
    order_by: str | None = None,
    cell: tuple[str, ...] = ("count", "memo", "quotes"),
) -> MatrixView:
    """``layer`` None: the first available layer."""
    with project.read() as s:
        layers = _layers(s)
        layer = layer or (layers[0] if layers else None)
        matrix = memo_matrix(s, layer=layer, cell=cell, order_by=order_by, viewer=viewer)
        names = case_attribute_names(s)
        case_attributes: dict[int, list[tuple[str, str]]] = {}
        for name in names:
            for case_id, value in case_attribute_values(s, name).items():
                case_attributes.setdefault(case_id, []).append((name, value))
        return MatrixView(matrix, layer, layers, names, case_attributes)


def own_cell_memo(project: Access, viewer: str, code_id: int, case_id: int) -> str:
    """The viewer's own memo on a matrix cell (what they may edit; other authors' memos are shown, not edited)."""
    with project.read() as s:
        me = find_coder(s, viewer)
        memo = s.exec(
            select(Memo).where(
                Memo.kind == MemoKind.CELL, Memo.code_id == code_id, Memo.case_id == case_id, Memo.coder_id == me.id
            )
        ).first()
        return memo.text if memo else ""


@dataclass(frozen=True)
class EvidenceRow:
    """One segment behind a number: where it is, who spoke, what was said."""

    segment_id: int
    transcript_id: int
    case: str
    transcript: str
    position: int
    speaker: str
    text: str


def evidence_rows(project: Access, segment_ids: list[int]) -> list[EvidenceRow]:
    """The segments, in transcript order (case, transcript, position)."""
    with project.read() as s:
        details = segment_details(s, segment_ids)
        transcript_of = transcripts_of(s, [int(x) for x in details["segment_id"]])
    return [
        EvidenceRow(
            int(r.segment_id),
            transcript_of[int(r.segment_id)],
            "" if pd.isna(r.case) else r.case,
            r.transcript,
            int(r.position),
            "" if pd.isna(r.speaker) else r.speaker,
            r.text,
        )
        for r in details.itertuples(index=False)
    ]
