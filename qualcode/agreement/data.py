"""Read coders' decisions from the store into dense numpy arrays, with one SQL query per table.

Units are segments. ``present[c, u, k]`` is True when coder ``c`` applied code
``k`` to unit ``u`` in the round that counts, and ``done[c, u]`` when the coder
marked the unit done in that round. Decisions on segments a coder has not marked
done do not count (``present`` is cleared there).

The round that counts, per coder and transcript, is the latest round in which
the coder coded or marked anything in that transcript, unless a round is given.
The pseudo-coder ``consensus`` is the reconciled layer (decisions with
present = True); it counts as done on every segment that has a decision or that
every project coder (role "coder") finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from ..codebook.lookup import CodeResolver
from ..errors import QualcodeError
from ..store.models import Code, Codebook, Coder, Coding, ConsensusDecision, Segment, SegmentStatus, Transcript

CONSENSUS = "consensus"
LEVELS = ("code", "domain", "category")


@dataclass
class AgreementData:
    coders: list[str]
    codes: list[Code]  # one per column of ``present``
    code_paths: list[str]
    segment_ids: np.ndarray  # (units,)
    transcript_ids: np.ndarray  # (units,)
    case_ids: np.ndarray  # (units,), -1 where no case
    done: np.ndarray  # bool (coders, units)
    present: np.ndarray  # bool (coders, units, codes)
    level: str = "code"
    extra: dict = field(default_factory=dict)

    def subset(self, unit_mask: np.ndarray) -> "AgreementData":
        return AgreementData(
            self.coders, self.codes, self.code_paths, self.segment_ids[unit_mask], self.transcript_ids[unit_mask],
            self.case_ids[unit_mask], self.done[:, unit_mask], self.present[:, unit_mask], self.level, self.extra,
        )


def fetch_rows(session: Session, stmt) -> tuple[list[tuple], list[str]]:
    """Run a SELECT through the driver's own cursor: plain tuples, several times faster than ORM rows for millions."""
    connection = session.connection()
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params = tuple(compiled.params[k] for k in compiled.positiontup) if compiled.positional else compiled.params
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return cursor.fetchall(), [d[0] for d in cursor.description]
    finally:
        cursor.close()


def _frame(session: Session, stmt) -> pd.DataFrame:
    rows, columns = fetch_rows(session, stmt)
    return pd.DataFrame.from_records(rows, columns=columns)


def coder_rows(session: Session, names: list[str] | None) -> list[Coder | str]:
    """The compared coders (``consensus`` allowed); by default every coder with role "coder"."""
    all_coders = list(session.exec(select(Coder).order_by(Coder.name)).scalars())
    if not names:
        chosen: list[Coder | str] = [c for c in all_coders if c.role == "coder"]
    else:
        by_name = {c.name: c for c in all_coders}
        chosen = []
        for name in names:
            if name == CONSENSUS:
                chosen.append(CONSENSUS)
            elif name in by_name:
                chosen.append(by_name[name])
            else:
                raise QualcodeError(f"unknown coder {name!r}")
    if len(chosen) < 2:
        raise QualcodeError("agreement needs at least two coders (name them with --coders A,B)")
    return chosen


def selected_rounds(codings: pd.DataFrame, statuses: pd.DataFrame, round: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep, per coder and transcript, the rows of the round that counts."""
    if round is not None:
        return codings[codings["round"] == round], statuses[statuses["round"] == round]
    both = pd.concat([codings[["coder_id", "transcript_id", "round"]], statuses[["coder_id", "transcript_id", "round"]]])
    latest = both.groupby(["coder_id", "transcript_id"], as_index=False)["round"].max().rename(columns={"round": "latest"})

    def keep(df: pd.DataFrame) -> pd.DataFrame:
        merged = df.merge(latest, on=["coder_id", "transcript_id"], how="left")
        return merged[merged["round"] == merged["latest"]].drop(columns=["latest"])

    return keep(codings), keep(statuses)


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


def load(
    session: Session,
    codebook: Codebook,
    coders: list[str] | None = None,
    round: int | None = None,
    level: str | None = None,
) -> AgreementData:
    """Every compared coder's decisions on every segment any of them finished."""
    chosen = coder_rows(session, coders)
    level = level or ("category" if codebook.kind == "cqr" else "code")
    if level not in LEVELS:
        raise QualcodeError(f"level must be one of {', '.join(LEVELS)}")
    real = [c for c in chosen if c != CONSENSUS]
    real_ids = [c.id for c in real]
    code_ids_stmt = select(Code.id).where(Code.codebook_id == codebook.id)

    codings = _frame(session, select(Coding.segment_id, Coding.code_id, Coding.coder_id, Coding.round, Segment.transcript_id)
                     .join(Segment, Segment.id == Coding.segment_id)
                     .where(Coding.coder_id.in_(real_ids), Coding.code_id.in_(code_ids_stmt)))
    statuses = _frame(session, select(SegmentStatus.segment_id, SegmentStatus.coder_id, SegmentStatus.round, Segment.transcript_id)
                      .join(Segment, Segment.id == SegmentStatus.segment_id)
                      .where(SegmentStatus.coder_id.in_(real_ids)))
    codings, statuses = selected_rounds(codings, statuses, round)

    consensus = None
    if CONSENSUS in chosen:
        consensus = _frame(session, select(ConsensusDecision.segment_id, ConsensusDecision.code_id, ConsensusDecision.present)
                           .where(ConsensusDecision.code_id.in_(code_ids_stmt)))
        everyone = [c.id for c in session.exec(select(Coder).where(Coder.role == "coder")).scalars()]
        all_status = _frame(session, select(SegmentStatus.segment_id, SegmentStatus.coder_id))
        finished_by = all_status[all_status["coder_id"].isin(everyone)].groupby("segment_id")["coder_id"].nunique()
        consensus_done = set(finished_by[finished_by == len(everyone)].index.tolist()) if everyone else set()
        consensus_done |= set(consensus["segment_id"].tolist())
    else:
        consensus_done = set()

    unit_set = np.union1d(statuses["segment_id"].to_numpy(dtype=np.int64), np.fromiter(consensus_done, dtype=np.int64))
    segs = _frame(session, select(Segment.id, Segment.transcript_id, Transcript.case_id)
                  .join(Transcript, Transcript.id == Segment.transcript_id).order_by(Segment.id))
    segs = segs[segs["id"].isin(unit_set)]
    segment_ids = segs["id"].to_numpy(dtype=np.int64)

    used = set(codings["code_id"].unique().tolist())
    if consensus is not None:
        used |= set(consensus["code_id"].unique().tolist())
    codes, paths = report_codes(session, codebook, used)
    column_of = np.full(max([c.id for c in codes], default=0) + 1, -1, dtype=np.int64)
    column_of[[c.id for c in codes]] = np.arange(len(codes))

    coder_index = {c.id: i for i, c in enumerate(real)}
    n_coders, n_units = len(chosen), len(segment_ids)
    done = np.zeros((n_coders, n_units), dtype=bool)
    present = np.zeros((n_coders, n_units, len(codes)), dtype=bool)
    real_pos = [i for i, c in enumerate(chosen) if c != CONSENSUS]

    st_unit = np.searchsorted(segment_ids, statuses["segment_id"].to_numpy(dtype=np.int64))
    st_coder = np.array([real_pos[coder_index[c]] for c in statuses["coder_id"].tolist()], dtype=np.int64)
    done[st_coder, st_unit] = True

    seg_col = codings["segment_id"].to_numpy(dtype=np.int64)
    known = np.isin(seg_col, segment_ids)
    cod_unit = np.searchsorted(segment_ids, seg_col[known])
    cod_code = column_of[np.minimum(codings["code_id"].to_numpy(dtype=np.int64)[known], len(column_of) - 1)]
    cod_coder = np.array([real_pos[coder_index[c]] for c in codings["coder_id"].to_numpy()[known].tolist()], dtype=np.int64)
    ok = cod_code >= 0
    present[cod_coder[ok], cod_unit[ok], cod_code[ok]] = True

    if consensus is not None:
        ci = chosen.index(CONSENSUS)
        done[ci] = np.isin(segment_ids, np.fromiter(consensus_done, dtype=np.int64))
        rows = consensus[consensus["present"].astype(bool)]
        u = np.searchsorted(segment_ids, rows["segment_id"].to_numpy(dtype=np.int64))
        k = column_of[rows["code_id"].to_numpy(dtype=np.int64)]
        present[ci, u[k >= 0], k[k >= 0]] = True

    present &= done[:, :, None]  # only finished segments count
    columns, mapping = _level_columns(codes, level)
    if level != "code":
        present = (present.reshape(-1, len(codes)).astype(np.uint8) @ mapping.astype(np.uint8) > 0).reshape(n_coders, n_units, len(columns))
    return AgreementData(
        coders=[c if c == CONSENSUS else c.name for c in chosen],
        codes=columns,
        code_paths=[paths[c.id] for c in columns],
        segment_ids=segment_ids,
        transcript_ids=segs["transcript_id"].to_numpy(dtype=np.int64),
        case_ids=segs["case_id"].fillna(-1).to_numpy(dtype=np.int64),
        done=done,
        present=present,
        level=level,
    )
