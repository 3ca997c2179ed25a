"""Traceability: the segments behind any number in a synthesis display."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from ..store.ids import wide_select
from ..store.models import Case, Segment, Speaker, Transcript

if TYPE_CHECKING:
    import pandas as pd

EVIDENCE_COLUMNS = ["segment_id", "case", "transcript", "position", "speaker", "role", "start", "end", "text"]


def transcript_texts(session: Session, transcript_ids: Iterable[int]) -> dict[int | None, str]:
    """Texts by transcript id (keyed as SQLModel types an id column; a stored id is never None)."""
    ids = sorted({int(t) for t in transcript_ids})
    if not ids:
        return {}
    return dict(session.exec(select(col(Transcript.id), Transcript.text).where(col(Transcript.id).in_(ids))).all())


def segment_details(session: Session, segment_ids: Iterable[int]) -> pd.DataFrame:
    """One row per segment, in transcript order, with where it is, who spoke and what was said."""
    import pandas as pd

    ids = sorted({int(s) for s in segment_ids})
    if not ids:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    rows: list[Any] = []
    for start in range(0, len(ids), 500):  # keep IN lists short for every engine
        chunk = ids[start : start + 500]
        rows += session.exec(
            wide_select(
                col(Segment.id),
                col(Case.name),
                col(Transcript.title),
                col(Segment.position),
                col(Speaker.label),
                col(Speaker.role),
                col(Segment.start),
                col(Segment.end),
                col(Segment.transcript_id),
            )
            .join(Transcript, col(Transcript.id) == Segment.transcript_id)
            .outerjoin(Case, col(Case.id) == Transcript.case_id)
            .outerjoin(Speaker, col(Speaker.id) == Segment.speaker_id)
            .where(col(Segment.id).in_(chunk))
        ).all()
    frame = pd.DataFrame.from_records(rows, columns=EVIDENCE_COLUMNS[:-1] + ["transcript_id"])
    texts = transcript_texts(session, frame["transcript_id"])
    frame["text"] = [texts[t][a:b] for t, a, b in zip(frame["transcript_id"], frame["start"], frame["end"])]
    frame = frame.sort_values(["case", "transcript", "position"], na_position="last", ignore_index=True)
    return frame[EVIDENCE_COLUMNS]


def evidence_frame(session: Session, rows: pd.DataFrame, code_paths: dict[int, str]) -> pd.DataFrame:
    """Expand (row_code_id, segment_id[, unit][, group]) rows into readable evidence, one line per pair."""
    details = segment_details(session, rows["segment_id"])
    keep = ["row_code_id", "segment_id"] + [c for c in ("unit", "group") if c in rows.columns]
    merged = rows[keep].drop_duplicates().merge(details, on="segment_id", how="left")
    merged.insert(0, "code", merged["row_code_id"].map(code_paths))
    order = {cid: i for i, cid in enumerate(code_paths)}
    merged = merged.assign(_order=merged["row_code_id"].map(order))
    merged = merged.sort_values(["_order", "case", "transcript", "position"], na_position="last", ignore_index=True)
    return merged.drop(columns=["_order", "row_code_id"])
