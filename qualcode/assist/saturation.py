"""Saturation: new codes (and, for a CQR codebook, new categories) per transcript in coding order,
and their cumulative count, per coder and for the consensus.

- A coder's order is the order of their first done-mark in each transcript (the earliest
  ``qc_segment_status.done_at`` of that coder there); a transcript they coded but never marked
  done follows, by their first coding in it. Their codes are their layer (per transcript, the
  latest round they coded or marked done: ``coding.layers.layer_select``).
- The consensus order is the order of the lead's first decision in each transcript
  (``qc_consensus.decided_at``); its codes are the decisions with ``present``.
- A code is new in a transcript when the series applied it there and in no transcript before.
  A category is a code one level under a domain (top-level code); a deeper code counts for its
  category, a domain-level coding for none. Categories are counted only for a CQR codebook.
- Blinding: while the project is blinded a coder sees only their own curve; a lead or an
  auditor (or anyone after unblinding) sees every coder's and the consensus.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from ..codebook.lookup import get_codebook
from ..coding.blinding import visible_coder_ids
from ..coding.layers import layer_select
from ..store.access import Access
from ..store.enums import CodebookKind
from ..store.ids import require_id
from ..store.models import Case, Code, Coder, Coding, ConsensusDecision, Segment, SegmentStatus, Transcript
from ..table import Table

CONSENSUS = "consensus"


@dataclass(frozen=True, slots=True)
class SaturationPoint:
    order: int  # 1-based position in the series' coding order
    transcript_id: int
    transcript: str
    case: str
    new_codes: int
    cumulative_codes: int
    new_categories: int | None  # None when the codebook is not a CQR codebook
    cumulative_categories: int | None
    new_code_names: tuple[str, ...]  # the codes first applied here, in codebook order


@dataclass(frozen=True, slots=True)
class SaturationCurve:
    series: str  # a coder's name, or "consensus"
    points: tuple[SaturationPoint, ...]


@dataclass(frozen=True, slots=True)
class Saturation:
    codebook: str
    categories: bool  # True for a CQR codebook: the points carry new categories
    curves: tuple[SaturationCurve, ...]

    COLUMNS = (
        "series",
        "order",
        "transcript",
        "case",
        "new_codes",
        "cumulative_codes",
        "new_categories",
        "cumulative_categories",
        "new_code_names",
    )

    def table(self) -> Table:
        columns = [c for c in self.COLUMNS if self.categories or "categories" not in c]
        rows = []
        for curve in self.curves:
            for p in curve.points:
                row = [curve.series, p.order, p.transcript, p.case, p.new_codes, p.cumulative_codes]
                if self.categories:
                    row += [p.new_categories, p.cumulative_categories]
                rows.append([*row, "; ".join(p.new_code_names)])
        return Table(
            columns=columns,
            rows=rows,
            title=f"Saturation: new codes per transcript in coding order ({self.codebook})",
            note="Coders' order: first done-mark per transcript; the consensus: the lead's first decision.",
        )


def _category_of(codes: list[Code]) -> dict[int, int | None]:
    """Each code's category: the ancestor one level under its domain (None for a domain)."""
    parent = {require_id(c): c.parent_id for c in codes}
    out: dict[int, int | None] = {}
    for code_id in parent:
        chain = [code_id]
        while parent.get(chain[-1]) is not None and len(chain) <= len(parent):
            chain.append(parent[chain[-1]])  # type: ignore[arg-type]
        out[code_id] = chain[-2] if len(chain) >= 2 else None
    return out


def _curve(
    series: str,
    order: list[int],
    applied: dict[int, set[int]],
    titles: dict[int, tuple[str, str]],
    codes: list[Code],
    categories: dict[int, int | None] | None,
) -> SaturationCurve:
    rank = {require_id(c): i for i, c in enumerate(codes)}
    names = {require_id(c): c.name for c in codes}
    seen: set[int] = set()
    seen_categories: set[int] = set()
    points = []
    for i, tid in enumerate(order, 1):
        here = applied.get(tid, set())
        new = sorted(here - seen, key=lambda c: rank.get(c, 0))
        seen |= here
        new_cat = cum_cat = None
        if categories is not None:
            cats = {cat for c in here if (cat := categories.get(c)) is not None}
            new_cat = len(cats - seen_categories)
            seen_categories |= cats
            cum_cat = len(seen_categories)
        title, case = titles[tid]
        points.append(
            SaturationPoint(i, tid, title, case, len(new), len(seen), new_cat, cum_cat, tuple(names[c] for c in new))
        )
    return SaturationCurve(series, tuple(points))


def _ordered(first: dict[int, datetime], fallback: dict[int, datetime]) -> list[int]:
    marked = sorted(first, key=lambda t: (first[t], t))
    rest = sorted((t for t in fallback if t not in first), key=lambda t: (fallback[t], t))
    return marked + rest


def saturation_session(session: Session, viewer: str | None, *, codebook: str | None = None) -> Saturation:
    """The saturation curves ``viewer`` may see (see the module doc)."""
    book = get_codebook(session, codebook)
    book_id = require_id(book)
    visible = visible_coder_ids(session, viewer)
    codes = list(
        session.exec(
            select(Code).where(Code.codebook_id == book_id).order_by(col(Code.parent_id), col(Code.position))
        ).all()
    )
    code_ids = {require_id(c) for c in codes}
    # Codebook order: depth first, siblings by position.
    children: dict[int | None, list[Code]] = defaultdict(list)
    for c in sorted(codes, key=lambda c: (c.position, require_id(c))):
        children[c.parent_id].append(c)
    ordered_codes: list[Code] = []

    def walk(parent: int | None) -> None:
        for c in children.get(parent, []):
            ordered_codes.append(c)
            walk(require_id(c))

    walk(None)
    categories = _category_of(codes) if book.kind == CodebookKind.CQR.value else None
    cases = {require_id(c): c.name for c in session.exec(select(Case))}
    titles = {
        tid: (title, cases.get(case_id, "") if case_id is not None else "")
        for tid, title, case_id in session.exec(select(Transcript.id, Transcript.title, Transcript.case_id))
        if tid is not None
    }
    coders = [
        c for c in session.exec(select(Coder).order_by(col(Coder.name))) if visible is None or require_id(c) in visible
    ]
    curves = []
    for coder in coders:
        cid = require_id(coder)
        first_done = dict(
            session.exec(
                select(Segment.transcript_id, func.min(SegmentStatus.done_at))
                .join(Segment, col(Segment.id) == SegmentStatus.segment_id)
                .where(SegmentStatus.coder_id == cid)
                .group_by(col(Segment.transcript_id))
            ).all()
        )
        first_coding = dict(
            session.exec(
                select(Segment.transcript_id, func.min(Coding.created_at))
                .join(Segment, col(Segment.id) == Coding.segment_id)
                .where(Coding.coder_id == cid, col(Coding.code_id).in_(code_ids))
                .group_by(col(Segment.transcript_id))
            ).all()
        )
        if not first_done and not first_coding:
            continue
        layer = layer_select(cid, codebook_id=book_id).subquery()
        applied: dict[int, set[int]] = defaultdict(set)
        for tid, code_id in session.exec(
            select(Segment.transcript_id, layer.c.code_id).join(layer, layer.c.segment_id == Segment.id)
        ).all():
            applied[tid].add(code_id)
        curves.append(
            _curve(coder.name, _ordered(first_done, first_coding), applied, titles, ordered_codes, categories)
        )
    if visible is None:
        first_decision = dict(
            session.exec(
                select(Segment.transcript_id, func.min(ConsensusDecision.decided_at))
                .join(Segment, col(Segment.id) == ConsensusDecision.segment_id)
                .where(col(ConsensusDecision.code_id).in_(code_ids))
                .group_by(col(Segment.transcript_id))
            ).all()
        )
        if first_decision:
            layer = layer_select(None, codebook_id=book_id).subquery()
            applied = defaultdict(set)
            for tid, code_id in session.exec(
                select(Segment.transcript_id, layer.c.code_id).join(layer, layer.c.segment_id == Segment.id)
            ).all():
                applied[tid].add(code_id)
            curves.append(_curve(CONSENSUS, _ordered(first_decision, {}), applied, titles, ordered_codes, categories))
    return Saturation(book.name, categories is not None, tuple(curves))


def saturation(access: Access, viewer: str | None, *, codebook: str | None = None) -> Saturation:
    with access.read() as s:
        return saturation_session(s, viewer, codebook=codebook)
