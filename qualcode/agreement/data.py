"""Read coders' decisions from the store into numpy arrays (bulk reads: ``reading``).

Units are segments. ``done[c, u]`` is True when coder ``c`` marked unit ``u`` done in
the round that counts. The decisions are kept sparse, as the coded (unit, code) cells:
``cell_units``, ``cell_codes`` (sorted by unit, then code; each cell once) and
``cell_marks[cell, c]``, True when coder ``c`` applied that code to that unit. A cell
no coder applied is not stored, so memory and the report's time follow the codings,
not units x codes. ``present[c, u, k]`` is the same as a dense array, built on demand
for the callers that walk units one by one (the queue, accept-agreed, the bootstrap).
Decisions on segments a coder has not marked done do not count (they have no cell).

The round that counts, per transcript, is the latest round in which every compared
coder who worked on that transcript coded or marked anything there, unless a round is
given: a coder who has started round 2 is still compared on round 1 until the others
start round 2 too (``round_that_counts``). Work in any codebook counts as having worked
in a round. Coders who share no round on a transcript each count their own latest.
The layer named ``consensus`` is the reconciled one (decisions with
present = True), compared like a coder; it counts as done on every segment that has a decision or that
every project coder (role "coder") with any done mark finished.

By default the compared coders are the project coders who marked at least one
segment done (in ``round``, if given): a coder added later, with no work yet, would
otherwise leave no unit every coder finished. ``AgreementData.coders_without_work``
names those left out; an explicit list of coders is compared as given.

``between`` (a ``[from, until)`` pair of datetimes, either end open) keeps only the
codings created, done marks made and consensus decisions taken in that window: the
codebook-version slices of the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np
from sqlmodel import Session, col, select

from ..codebook.lookup import CodeResolver
from ..coding.layers import CONSENSUS, Layer
from ..errors import QualcodeError
from ..store.enums import CoderRole
from ..store.ids import require_id
from ..store.models import Code, Codebook, Coder, Coding, ConsensusDecision, Segment, SegmentStatus, Transcript
from .reading import int_groups, max_id, packed, unpack

LEVELS = ("code", "domain", "category")


@dataclass
class AgreementData:
    coders: list[str]
    codes: list[Code]  # one per code column
    code_paths: list[str]
    segment_ids: np.ndarray  # (units,)
    transcript_ids: np.ndarray  # (units,)
    case_ids: np.ndarray  # (units,), -1 where no case
    done: np.ndarray  # bool (coders, units)
    cell_units: np.ndarray  # int64 (cells,): the unit of each coded cell, ascending
    cell_codes: np.ndarray  # int64 (cells,): its code column, ascending within a unit
    cell_marks: np.ndarray  # bool (cells, coders): who applied the code there (at least one)
    level: str = "code"
    extra: dict = field(default_factory=dict)
    coders_without_work: list[str] = field(default_factory=list)  # project coders left out by default

    @cached_property
    def present(self) -> np.ndarray:
        """Dense bool (coders, units, codes): coder c applied code k to unit u (built on first use)."""
        out = np.zeros((len(self.coders), len(self.segment_ids), len(self.codes)), dtype=bool)
        cells, coders = np.nonzero(self.cell_marks)
        out[coders, self.cell_units[cells], self.cell_codes[cells]] = True
        return out

    def subset(self, unit_mask: np.ndarray) -> AgreementData:
        new_unit = np.cumsum(unit_mask) - 1  # units keep their order, so cells stay sorted
        kept = unit_mask[self.cell_units]
        return AgreementData(
            self.coders,
            self.codes,
            self.code_paths,
            self.segment_ids[unit_mask],
            self.transcript_ids[unit_mask],
            self.case_ids[unit_mask],
            self.done[:, unit_mask],
            new_unit[self.cell_units[kept]],
            self.cell_codes[kept],
            self.cell_marks[kept],
            self.level,
            self.extra,
            self.coders_without_work,
        )


def coded_cells(
    decisions: list[tuple[int, np.ndarray, np.ndarray]], n_coders: int, n_columns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(coder, units, columns)`` decisions (repeats allowed) as sorted distinct cells and who applied each.

    One sort of ``(unit * n_columns + column) * n_coders + coder``: linear in the codings
    up to the sort, with no units x codes array.
    """
    keys = np.concatenate(
        [np.empty(0, dtype=np.int64)] + [(u.astype(np.int64) * n_columns + k) * n_coders + c for c, u, k in decisions]
    )
    keys.sort()
    cell, coder = np.divmod(keys, max(n_coders, 1))
    first = np.ones(len(cell), dtype=bool)
    first[1:] = cell[1:] != cell[:-1]
    distinct = cell[first]
    marks = np.zeros((len(distinct), n_coders), dtype=bool)
    marks[np.cumsum(first) - 1, coder] = True
    cell_units, cell_codes = np.divmod(distinct, max(n_columns, 1))
    return cell_units, cell_codes, marks


def distinct_mask(ids: np.ndarray, size: int) -> np.ndarray:
    """A bool mask over ``0 .. size - 1``, True at each of ``ids`` (non-negative; repeats allowed)."""
    mask = np.zeros(size, dtype=bool)
    mask[ids] = True
    return mask


def coders_with_work(session: Session, round: int | None = None) -> set[int]:
    """Ids of the coders who marked at least one segment done (in ``round``, if given)."""
    stmt = select(SegmentStatus.coder_id).distinct()
    if round is not None:
        stmt = stmt.where(SegmentStatus.round == round)
    return set(session.exec(stmt).all())


def coder_rows(
    session: Session, names: list[str] | None, round: int | None = None, *, at_least: int = 2
) -> tuple[list[Layer], list[str]]:
    """The compared layers (coders, and ``consensus`` when named) and the project coders left out for having no work.

    By default: every coder with role "coder" who marked a segment done (in ``round``); when
    fewer than two have, every coder with role "coder" (there is nothing to compare yet).
    Fewer than ``at_least`` compared coders is an error.
    """
    all_coders = list(session.exec(select(Coder).order_by(Coder.name)))
    left_out: list[str] = []
    if not names:
        chosen = [Layer.of_coder(c) for c in all_coders if c.role == CoderRole.CODER]
        working = coders_with_work(session, round)
        if sum(c.coder_id in working for c in chosen) >= 2:
            left_out = [c.name for c in chosen if c.coder_id not in working]
            chosen = [c for c in chosen if c.coder_id in working]
    else:
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise QualcodeError(f"{', '.join(repeated)} named twice: a coder cannot be compared with herself")
        by_name = {c.name: c for c in all_coders}
        chosen = []
        for name in names:
            if name == CONSENSUS:
                chosen.append(Layer.consensus())
            elif name in by_name:
                chosen.append(Layer.of_coder(by_name[name]))
            else:
                raise QualcodeError(f"unknown coder {name!r}")
    if len(chosen) < at_least:
        raise QualcodeError("agreement needs at least two coders (name them with --coders A,B)")
    return chosen, left_out


def report_codes(session: Session, codebook: Codebook, used_code_ids: set[int]) -> tuple[list[Code], dict[int, str]]:
    """Codes of the codebook in tree order; retired codes only where codings exist."""
    resolver = CodeResolver(session, codebook, include_retired=True)
    codes = [c for c in resolver.codes if c.status == "active" or c.id in used_code_ids]
    children: dict[int | None, list[Code]] = {}
    for c in codes:
        children.setdefault(c.parent_id if c.parent_id in resolver.by_id else None, []).append(c)
    ordered: list[Code] = []

    def walk(parent: int | None) -> None:
        for c in sorted(children.get(parent, []), key=lambda c: (c.position, c.name)):
            ordered.append(c)
            walk(c.id)

    walk(None)
    return ordered, resolver.paths


def _level_columns(codes: list[Code], level: str) -> tuple[list[Code], np.ndarray]:
    """The columns at ``level`` and a codes x columns 0/1 map (a domain holds itself and its categories)."""
    ids = [c.id for c in codes]
    if level == "code":
        return codes, np.eye(len(codes), dtype=bool)
    by_id = {c.id: c for c in codes}

    def top(c: Code) -> Code:
        while c.parent_id in by_id:
            c = by_id[c.parent_id]
        return c

    if level == "domain":
        columns = [c for c in codes if c.parent_id not in by_id]
        index = {c.id: i for i, c in enumerate(columns)}
        mapping = np.zeros((len(codes), len(columns)), dtype=bool)
        for row, c in enumerate(codes):
            mapping[row, index[top(c).id]] = True
        return columns, mapping
    columns = [c for c in codes if c.parent_id in by_id]
    index = {c.id: i for i, c in enumerate(columns)}
    mapping = np.zeros((len(codes), len(columns)), dtype=bool)
    for row, cid in enumerate(ids):
        if cid in index:
            mapping[row, index[cid]] = True
    return columns, mapping


Window = tuple[datetime | None, datetime | None]


@dataclass
class Decisions:
    """One coder's rows of one round: segment ids and, for codings, the code of each."""

    coder_id: int
    round: int
    segment_ids: np.ndarray
    code_ids: np.ndarray | None = None

    @property
    def codes(self) -> np.ndarray:
        """The code of each row: codings only (done marks carry none)."""
        if self.code_ids is None:
            raise AssertionError("done marks have no codes")
        return self.code_ids

    def keep(self, mask: np.ndarray) -> Decisions:
        return Decisions(
            self.coder_id, self.round, self.segment_ids[mask], None if self.code_ids is None else self.code_ids[mask]
        )


def _in_window(column, between: Window | None) -> list:
    low, high = between or (None, None)
    return [*([column >= low] if low is not None else []), *([column < high] if high is not None else [])]


def _segment_map(session: Session) -> tuple[np.ndarray, np.ndarray]:
    """``transcript_of[segment_id]`` and ``case_of[transcript_id]`` (-1 where none)."""
    base = max_id(session, Transcript.id) + 1
    [(values,)] = int_groups(session, packed(Segment.id, Segment.transcript_id, base))
    segment_ids, transcript_ids = unpack(values, base)
    transcript_of = np.full(max_id(session, Segment.id) + 1, -1, dtype=np.int64)
    transcript_of[segment_ids] = transcript_ids
    case_of = np.full(base, -1, dtype=np.int64)
    for tid, case_id in session.exec(select(Transcript.id, Transcript.case_id)).all():
        case_of[tid] = -1 if case_id is None else case_id
    return transcript_of, case_of


def _read_codings(
    session: Session, coder_ids: list[int], round: int | None, between: Window | None, code_base: int
) -> list[Decisions]:
    where = [col(Coding.coder_id).in_(coder_ids), *_in_window(Coding.created_at, between)]
    if round is not None:
        where.append(Coding.round == round)
    groups = int_groups(
        session, packed(Coding.segment_id, Coding.code_id, code_base), Coding.coder_id, Coding.round, where=where
    )
    return [Decisions(coder, rnd, *unpack(values, code_base)) for coder, rnd, values in groups]


def _read_statuses(
    session: Session, coder_ids: list[int], round: int | None, between: Window | None
) -> list[Decisions]:
    where = [col(SegmentStatus.coder_id).in_(coder_ids), *_in_window(SegmentStatus.done_at, between)]
    if round is not None:
        where.append(SegmentStatus.round == round)
    groups = int_groups(session, SegmentStatus.segment_id, SegmentStatus.coder_id, SegmentStatus.round, where=where)
    return [Decisions(coder, rnd, segments) for coder, rnd, segments in groups]


def counting_rounds(groups: list[Decisions], transcript_of: np.ndarray, n_transcripts: int) -> list[Decisions]:
    """Keep, per transcript, the rows of the round that counts (see ``round_that_counts``)."""
    coders = sorted({g.coder_id for g in groups})
    rounds = sorted({g.round for g in groups})
    if len(rounds) <= 1:  # one round: it counts wherever anyone worked, so every row is kept
        return list(groups)
    none = np.zeros(n_transcripts, dtype=bool)
    touched: dict[tuple[int, int], np.ndarray] = {}  # (coder, round) -> transcripts the coder worked on in that round
    for g in groups:
        mask = touched.setdefault((g.coder_id, g.round), np.zeros(n_transcripts, dtype=bool))
        mask[transcript_of[g.segment_ids]] = True
    worked = {c: np.zeros(n_transcripts, dtype=bool) for c in coders}  # transcripts each coder worked on at all
    for (c, _), mask in touched.items():
        worked[c] |= mask
    unset = np.iinfo(np.int64).min
    shared = np.full(n_transcripts, unset)
    latest = {c: np.full(n_transcripts, unset) for c in coders}
    for r in rounds:  # ascending, so the last write is the latest round
        everyone = np.zeros(n_transcripts, dtype=bool)
        for c in coders:
            here = touched.get((c, r), none)
            latest[c][here] = r
            everyone |= here
        for c in coders:
            everyone &= touched.get((c, r), none) | ~worked[c]
        shared[everyone] = r
    counts = {c: np.where(shared != unset, shared, latest[c]) for c in coders}
    return [g.keep(counts[g.coder_id][transcript_of[g.segment_ids]] == g.round) for g in groups]


def round_that_counts(worked: dict[int, set[int]]) -> dict[int, int]:
    """``{coder: rounds they coded or marked anything in, on one transcript}`` -> the round that counts for each.

    The latest round every one of them worked in, so that coders are compared round with
    round: once a second round opens, the first still counts until every compared coder
    has started the second. Coders who share no round each count their own latest.
    """
    worked = {c: rounds for c, rounds in worked.items() if rounds}
    shared = set.intersection(*worked.values()) if worked else set()
    return {c: max(shared) if shared else max(rounds) for c, rounds in worked.items()}


def _consensus(
    session: Session, code_base: int, between: Window | None, ours: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The consensus layer on the codes where ``ours`` is True.

    Returns the segment ids it counts as done, the present segment ids and their codes.
    """
    decided, present_segments, present_codes = (
        [np.empty(0, dtype=np.int64)],
        [np.empty(0, dtype=np.int64)],
        [np.empty(0, dtype=np.int64)],
    )
    for is_present, values in int_groups(
        session,
        packed(ConsensusDecision.segment_id, ConsensusDecision.code_id, code_base),
        ConsensusDecision.present,
        where=_in_window(ConsensusDecision.decided_at, between),
    ):
        segments, codes = unpack(values, code_base)
        segments, codes = segments[ours[codes]], codes[ours[codes]]
        decided.append(segments)
        if is_present:
            present_segments.append(segments)
            present_codes.append(codes)
    working = coders_with_work(session)
    everyone = [c.id for c in session.exec(select(Coder).where(Coder.role == CoderRole.CODER)) if c.id in working]
    finished_by_all = np.empty(0, dtype=np.int64)
    if everyone:
        counts = np.zeros(max_id(session, Segment.id) + 1, dtype=np.int64)
        for _, segs in int_groups(
            session,
            SegmentStatus.segment_id,
            SegmentStatus.coder_id,
            where=[col(SegmentStatus.coder_id).in_(everyone), *_in_window(SegmentStatus.done_at, between)],
        ):
            counts += distinct_mask(segs, len(counts))
        finished_by_all = np.flatnonzero(counts == len(everyone))
    n_ids = max_id(session, Segment.id) + 1
    return (
        np.flatnonzero(distinct_mask(finished_by_all, n_ids) | distinct_mask(np.concatenate(decided), n_ids)),
        np.concatenate(present_segments),
        np.concatenate(present_codes),
    )


def load(
    session: Session,
    codebook: Codebook,
    coders: list[str] | None = None,
    round: int | None = None,
    level: str | None = None,
    between: Window | None = None,
) -> AgreementData:
    """Every compared coder's decisions on every segment any of them finished."""
    chosen, left_out = coder_rows(session, coders, round)
    level = level or ("category" if codebook.kind == "cqr" else "code")
    if level not in LEVELS:
        raise QualcodeError(f"level must be one of {', '.join(LEVELS)}")
    position = {c.coder_id: i for i, c in enumerate(chosen) if c.coder_id is not None}  # every layer but consensus
    consensus_at = next((i for i, c in enumerate(chosen) if c.is_consensus), None)
    transcript_of, case_of = _segment_map(session)
    code_base = max_id(session, Code.id) + 1

    codebook_codes = np.zeros(code_base, dtype=bool)
    in_codebook = session.exec(select(Code.id).where(Code.codebook_id == codebook.id)).all()
    codebook_codes[np.array(in_codebook, dtype=np.int64)] = True
    codings = _read_codings(session, list(position), round, between, code_base)
    statuses = _read_statuses(session, list(position), round, between)
    if round is None:  # which round counts depends on all the coders' work there, in any codebook
        kept = counting_rounds(codings + statuses, transcript_of, len(case_of))
        codings, statuses = kept[: len(codings)], kept[len(codings) :]
    codings = [g.keep(codebook_codes[g.codes]) for g in codings]

    used = np.zeros(code_base, dtype=bool)
    for g in codings:
        used[g.codes] = True

    consensus_done = consensus_segments = consensus_codes = np.empty(0, dtype=np.int64)
    if consensus_at is not None:
        consensus_done, consensus_segments, consensus_codes = _consensus(session, code_base, between, codebook_codes)
        used[consensus_codes] = True

    codes, paths = report_codes(session, codebook, set(np.flatnonzero(used).tolist()))
    column_of = np.full(code_base, -1, dtype=np.int64)
    column_of[[require_id(c) for c in codes]] = np.arange(len(codes))

    # sorted distinct ids through a mask over the id range (np.unique hashes in numpy 2.4: slow on millions)
    segment_ids = np.flatnonzero(
        distinct_mask(np.concatenate([consensus_done, *(g.segment_ids for g in statuses)]), len(transcript_of))
    )
    unit_of = np.full(len(transcript_of), -1, dtype=np.int64)
    unit_of[segment_ids] = np.arange(len(segment_ids))
    n_coders, n_units = len(chosen), len(segment_ids)
    done = np.zeros((n_coders, n_units), dtype=bool)
    for g in statuses:
        done[position[g.coder_id], unit_of[g.segment_ids]] = True
    if consensus_at is not None:
        done[consensus_at] = distinct_mask(consensus_done, len(transcript_of))[segment_ids]

    columns, mapping = _level_columns(codes, level)
    # The level's column of each code (-1 for none: a domain at the category level); each code has at most one.
    level_of = np.where(mapping.any(axis=1), mapping.argmax(axis=1), -1) if len(codes) else np.empty(0, np.int64)
    column_of[column_of >= 0] = level_of[column_of[column_of >= 0]]
    decided: list[tuple[int, np.ndarray, np.ndarray]] = []

    def mark(coder: int, seg: np.ndarray, code: np.ndarray) -> None:
        unit, column = unit_of[seg], column_of[code]
        counted = (unit >= 0) & (column >= 0)
        counted[counted] = done[coder, unit[counted]]  # only finished segments count
        decided.append((coder, unit[counted], column[counted]))

    for g in codings:
        mark(position[g.coder_id], g.segment_ids, g.codes)
    if consensus_at is not None:
        mark(consensus_at, consensus_segments, consensus_codes)
    units, cell_codes, marks = coded_cells(decided, n_coders, len(columns))
    transcript_ids = transcript_of[segment_ids]
    return AgreementData(
        coders=[c.name for c in chosen],
        codes=columns,
        code_paths=[paths[require_id(c)] for c in columns],
        segment_ids=segment_ids,
        transcript_ids=transcript_ids,
        case_ids=case_of[transcript_ids],
        done=done,
        cell_units=units,
        cell_codes=cell_codes,
        cell_marks=marks,
        level=level,
        coders_without_work=left_out,
    )
