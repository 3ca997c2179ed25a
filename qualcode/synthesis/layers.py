"""Which codings a synthesis display counts: the consensus layer or one coder's layer.

The codings come from ``qualcode.coding.layers.layer_select`` (the one definition of a
layer), joined to their segment, as numpy arrays: a narrow fetch plus vectorised counting
beats both pandas frames and SQLite's own GROUP BY on a million codings (see
docs/synthesis.md, "Why it is fast").
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Text, cast, func
from sqlmodel import Session, col, select

from ..agreement.reading import joined, max_id, packed, parse_ints, unpack
from ..codebook.lookup import get_codebook
from ..coding.blinding import find_coder, may_see_all, visible_coder_ids
from ..coding.layers import CONSENSUS, Layer, layer_select
from ..errors import BlindingError, QualcodeError
from ..store.ids import require_id
from ..store.models import Code, Codebook, ConsensusDecision, Segment, Speaker, Transcript
from .arrays import NO_ID, Codings, IdMap
from .tree import CodeTree


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
        # The consensus is made from every coder's work: while blinded it is the analysts' alone.
        if not may_see_all(session, viewer):
            who = f"{viewer} may not" if viewer else "say who you are with --as NAME: only the lead or an auditor may"
            raise BlindingError(f"the project is blinded: {who} see the consensus (or use --layer YOUR-NAME)")
        return Layer.consensus()
    coder = find_coder(session, layer)
    visible = visible_coder_ids(session, viewer)
    if visible is not None and coder.id not in visible:
        raise BlindingError(f"the project is blinded: {viewer} may not see the codings of {coder.name}")
    return Layer.of_coder(coder)


def load_codings(session: Session, layer: Layer, codebook_id: int) -> Codings:
    """Every coding of the layer in one codebook, with its segment's transcript, speaker and case.

    Read in bulk as the agreement reader does (``agreement/reading.py``): one comma-joined string
    parsed by numpy, instead of a Python tuple per coding. Each coding adds two numbers to the one
    string, its packed (segment, code) and its packed (transcript, speaker), so they stay paired
    whatever order the database aggregates in; no GROUP BY, so no sort.
    """
    codings = layer_select(layer.coder_id, codebook_id=codebook_id).subquery("layer")
    code_base = max_id(session, Code.id) + 1
    speaker_base = max_id(session, Speaker.id) + 1
    segment_code = packed(codings.c.segment_id, codings.c.code_id, code_base)
    transcript_speaker = packed(Segment.transcript_id, func.coalesce(Segment.speaker_id, NO_ID), speaker_base)
    pair = cast(segment_code, Text).concat(",").concat(cast(transcript_speaker, Text))
    text = session.exec(select(joined(session, pair)).where(col(Segment.id) == codings.c.segment_id)).one()
    pairs = parse_ints(text).reshape(-1, 2)
    segment_ids, code_ids = unpack(pairs[:, 0], code_base)
    transcript_ids, speaker_ids = unpack(pairs[:, 1], speaker_base)
    return Codings(
        segment_ids,
        code_ids,
        transcript_ids,
        speaker_ids,
        IdMap.of(session.exec(select(Transcript.id, Transcript.case_id)).all()).lookup(transcript_ids),
    )


@dataclass
class CodedData:
    """One layer's codings of one codebook, with the codebook tree to roll them up."""

    codebook: Codebook
    tree: CodeTree
    layer: Layer
    codings: Codings


def load_coded(
    session: Session, *, codebook: str | None = None, layer: str | None = None, viewer: str | None = None
) -> CodedData:
    """The codings a display counts: ``layer`` of ``codebook`` (the active one by default)."""
    book = get_codebook(session, codebook)
    chosen = resolve_layer(session, layer, viewer)
    return CodedData(book, CodeTree(session, book), chosen, load_codings(session, chosen, require_id(book)))
