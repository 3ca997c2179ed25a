"""Segment and transcript references typed on the command line, and printed back.

A segment is ``#ID`` (or a bare id), ``TITLE:POSITION`` when only one transcript has
that title, or ``CASE/TITLE:POSITION``; a transcript is ``TITLE`` or ``CASE/TITLE``.
Titles and case names match ignoring letter case. A reference that fits more than one
transcript is an error naming the cases, never a silent pick; ``SegmentRefs.ref`` prints
the shortest reference that reads back to exactly one segment.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from ..errors import QualcodeError
from ..store.ids import require_id
from ..store.models import Case, Segment, Transcript

FORMS = "#ID, TRANSCRIPT:POSITION or CASE/TRANSCRIPT:POSITION"


@dataclass(frozen=True)
class _Entry:
    transcript_id: int
    title: str
    case: str | None


class SegmentRefs:
    """Reads and writes references against the project's transcripts (loaded once, without their text)."""

    def __init__(self, session: Session):
        self.session = session
        cases = {cid: name for cid, name in session.exec(select(Case.id, Case.name)).all()}
        self.entries = [
            _Entry(require_id(tid), title, cases.get(case_id))
            for tid, title, case_id in session.exec(select(Transcript.id, Transcript.title, Transcript.case_id)).all()
        ]
        self.by_id = {e.transcript_id: e for e in self.entries}

    def _matches(self, name: str) -> list[_Entry]:
        """Transcripts ``name`` may mean: its title, or its case and title joined by '/' (either may hold a '/')."""
        wanted = name.strip().casefold()
        found = {e.transcript_id: e for e in self.entries if e.title.casefold() == wanted}
        for e in self.entries:
            if e.case is not None and f"{e.case}/{e.title}".casefold() == wanted:
                found[e.transcript_id] = e
        return list(found.values())

    def transcript(self, name: str) -> int:
        """The id of the one transcript ``TITLE`` or ``CASE/TITLE`` names."""
        found = self._matches(name)
        if not found:
            raise QualcodeError(f"unknown transcript {name.strip()!r}")
        if len(found) > 1:
            cases = ", ".join(sorted(e.case or "(no case)" for e in found))
            example = next((e for e in found if e.case is not None), None)
            hint = f" (e.g. '{example.case}/{example.title}')" if example else ""
            raise QualcodeError(
                f"ambiguous transcript {name.strip()!r}: it is in cases {cases}; write CASE/TITLE{hint}"
            )
        return found[0].transcript_id

    def find(self, ref: str) -> Segment:
        """The segment ``ref`` names (see the module docstring); raises QualcodeError otherwise."""
        ref = ref.strip()
        digits = ref[1:] if ref.startswith("#") else ref
        if digits.isdigit():
            segment = self.session.get(Segment, int(digits))
            if segment is None:
                raise QualcodeError(f"unknown segment {ref!r}")
            return segment
        name, _, position = ref.rpartition(":")
        if not name.strip() or not position.strip().isdigit():
            raise QualcodeError(f"segment {ref!r}: write {FORMS} (e.g. 'Principal interview:12')")
        try:
            transcript_id = self.transcript(name)
        except QualcodeError as exc:
            raise QualcodeError(f"segment {ref!r}: {exc}") from None
        segment = self.session.exec(
            select(Segment).where(Segment.transcript_id == transcript_id, Segment.position == int(position))
        ).first()
        if segment is None:
            raise QualcodeError(f"segment {ref!r}: there is no segment {int(position)} in {name.strip()!r}")
        return segment

    def ref(self, segment_id: int) -> str:
        """The shortest reference to the segment that reads back to it alone."""
        segment = self.session.get(Segment, segment_id)
        if segment is None:
            raise QualcodeError(f"unknown segment #{segment_id}")
        entry = self.by_id[segment.transcript_id]
        names = [entry.title] + ([f"{entry.case}/{entry.title}"] if entry.case is not None else [])
        for name in names:
            if [e.transcript_id for e in self._matches(name)] == [entry.transcript_id]:
                return f"{name}:{segment.position}"
        return f"#{segment.id}"


def find_segment(session: Session, ref: str) -> Segment:
    """The segment ``ref`` names: ``#ID``, ``TITLE:POSITION`` (unique title) or ``CASE/TITLE:POSITION``."""
    return SegmentRefs(session).find(ref)


def find_transcript(session: Session, name: str) -> int:
    """The transcript id ``TITLE`` (unique title) or ``CASE/TITLE`` names."""
    return SegmentRefs(session).transcript(name)
