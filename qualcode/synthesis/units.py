"""Case units: what counts as one "case" when a display counts cases.

A unit maps each coded segment to a label through one id column of the layer's
codings (transcript, speaker or case) and knows the whole set of units in the study,
whose size is the N of the CQR frequency labels.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, col, select

from ..errors import QualcodeError
from ..store.ids import wide_select
from ..store.models import Case, CaseAttribute, Speaker, Transcript
from .arrays import IdMap
from .tree import Rolled

BUILT_IN_UNITS = ("transcript", "speaker", "participant", "case", "site")
# Interviewers and moderators ask the questions: they are never a case or a group.
NON_PARTICIPANT_ROLES = ("interviewer", "moderator")


@dataclass
class CaseUnit:
    name: str  # as the user asked: transcript, speaker, case or an attribute name
    key: str  # the Codings column it maps: transcript_id | speaker_id | case_id
    # id -> unit label (ids without a unit are absent); keyed as SQLModel types an id column, though never None
    labels: dict[int | None, str]
    universe: list[str]  # every unit in the study, in display order

    @property
    def n(self) -> int:
        return len(self.universe)

    def positions(self, rolled: Rolled) -> np.ndarray:
        """Each rolled-up entry's unit as its position in ``universe`` (-1 where it has no unit)."""
        position = {label: i for i, label in enumerate(self.universe)}
        ids = IdMap.of(((uid, position[label]) for uid, label in self.labels.items()), missing=-1)
        return ids.lookup(rolled.column(self.key))


def _transcript_labels(session: Session) -> dict[int | None, str]:
    rows = session.exec(
        select(col(Transcript.id), Transcript.title, Case.name).outerjoin(Case, col(Case.id) == Transcript.case_id)
    ).all()
    repeats = Counter(title for _, title, _ in rows)
    # Titles are unique per case only; qualify the ones that repeat across cases.
    return {tid: (f"{case} / {title}" if repeats[title] > 1 and case else title) for tid, title, case in rows}


def _participants(session: Session) -> list[tuple[int | None, str, str, dict]]:
    """(speaker id, display label, role, attributes) of every speaker who is not an interviewer."""
    titles = _transcript_labels(session)
    rows = session.exec(
        wide_select(
            col(Speaker.id),
            col(Speaker.transcript_id),
            col(Speaker.label),
            col(Speaker.pseudonym),
            col(Speaker.role),
            col(Speaker.attributes),
        )
    ).all()
    return [
        (sid, f"{pseudonym or label} ({titles[tid]})", role, attrs or {})
        for sid, tid, label, pseudonym, role, attrs in rows
        if role not in NON_PARTICIPANT_ROLES
    ]


def _sorted_values(values) -> list[str]:
    return sorted({v for v in values if v not in (None, "")}, key=str.casefold)


def case_attribute_names(session: Session) -> list[str]:
    return _sorted_values(session.exec(select(CaseAttribute.name).distinct()))


def speaker_attribute_names(session: Session) -> list[str]:
    keys = {"role"}
    for attrs in session.exec(select(Speaker.attributes)):
        keys.update((attrs or {}).keys())
    return sorted(keys)


def case_attribute_values(session: Session, name: str) -> dict[int, str]:
    rows = session.exec(select(CaseAttribute.case_id, CaseAttribute.value).where(CaseAttribute.name == name)).all()
    return {cid: value for cid, value in rows if value not in (None, "")}


def resolve_case_unit(session: Session, name: str = "transcript") -> CaseUnit:
    """transcript | speaker (participant) | case (site) | a case attribute | a speaker attribute."""
    unit = name.strip()
    lowered = unit.casefold()
    if lowered == "transcript":
        labels = _transcript_labels(session)
        return CaseUnit(unit, "transcript_id", labels, sorted(labels.values(), key=str.casefold))
    if lowered in ("speaker", "participant"):
        people = _participants(session)
        labels = {sid: label for sid, label, _, _ in people}
        return CaseUnit(unit, "speaker_id", labels, sorted(labels.values(), key=str.casefold))
    if lowered in ("case", "site"):
        labels = dict(session.exec(select(col(Case.id), Case.name)).all())
        return CaseUnit(unit, "case_id", labels, sorted(labels.values(), key=str.casefold))
    if unit in case_attribute_names(session):
        labels = {case_id: value for case_id, value in case_attribute_values(session, unit).items()}  # widened key
        return CaseUnit(unit, "case_id", labels, _sorted_values(labels.values()))
    if unit in speaker_attribute_names(session):
        people = _participants(session)
        labels = {sid: str(role if unit == "role" else attrs.get(unit, "")) for sid, _, role, attrs in people}
        labels = {sid: v for sid, v in labels.items() if v not in ("", "None")}
        return CaseUnit(unit, "speaker_id", labels, _sorted_values(labels.values()))
    choices = ", ".join(
        ["transcript", "speaker", "case"] + case_attribute_names(session) + speaker_attribute_names(session)
    )
    raise QualcodeError(f"unknown case unit {name!r}: choose one of {choices}")
