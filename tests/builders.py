"""Small projects built by hand, with contents known by construction."""

from __future__ import annotations

from sqlmodel import select

from qualcode.project import Project
from qualcode.store.models import Case, Code, Codebook, Coder, Segment, Speaker, Transcript

TURNS = [
    ("Interviewer", "interviewer", "How does your team plan units together?"),
    ("Ms. Lee", "teacher", "We meet every Tuesday and map the unit backwards from the shared goals."),
    ("Ms. Lee", "teacher", "Our principal protects that time, which matters more than anything."),
    ("Interviewer", "interviewer", "And when you disagree?"),
    ("Mr. Ortiz", "coach", "We look at student work first, then argue about the lesson, never about people."),
]

CODES = [
    # (name, key, hotkey)
    ("Shared vision and strategy", "SV", "1"),
    ("Supportive administration", "SA", "2"),
    ("Work design", "WD", "3"),
    ("Supportive norms and relationships", "SN", "4"),
]


def build_transcript(
    project: Project, title: str = "Lee interview", case: str = "Northside Elementary", turns=TURNS
) -> int:
    """One transcript with one segment per turn; returns its id."""
    with project.transaction() as s:
        case_row = s.exec(select(Case).where(Case.name == case)).first()
        if case_row is None:
            case_row = Case(name=case)
            s.add(case_row)
            s.flush()
        parts, spans, pos = [], [], 0
        for label, _role, words in turns:
            line = f"{label}: {words}"
            start = pos + len(label) + 2
            spans.append((label, start, start + len(words)))
            parts.append(line)
            pos += len(line) + 1
        text = "\n".join(parts)
        t = Transcript(
            title=title, kind="interview", case_id=case_row.id, content_hash=str(hash((title, text))), text=text
        )
        s.add(t)
        s.flush()
        speakers = {}
        for label, role, _ in turns:
            if label not in speakers:
                sp = Speaker(transcript_id=t.id, label=label, role=role)
                s.add(sp)
                s.flush()
                speakers[label] = sp.id
        for i, (label, a, b) in enumerate(spans, start=1):
            s.add(Segment(transcript_id=t.id, position=i, start=a, end=b, speaker_id=speakers[label]))
        return t.id


def build_codebook(
    project: Project, name: str = "Conditions", codes=CODES, kind: str = "provisional"
) -> dict[str, int]:
    """An active flat codebook; returns ``{key: code id}``."""
    with project.transaction() as s:
        cb = Codebook(name=name, kind=kind, active=True)
        s.add(cb)
        s.flush()
        ids = {}
        for i, (cname, key, hotkey) in enumerate(codes):
            c = Code(codebook_id=cb.id, guid=f"guid-{key}", name=cname, key=key, hotkey=hotkey, position=i)
            s.add(c)
            s.flush()
            ids[key] = c.id
        return ids


def add_coders(project: Project, *names: str, lead: str | None = "lead") -> None:
    with project.transaction() as s:
        for n in names:
            s.add(Coder(name=n, role="coder"))
        if lead:
            s.add(Coder(name=lead, role="lead"))
