"""A coded study whose every count is known by construction, shared by the synthesis tests.

Five schools (cases) with two transcripts each (T1..T10: Adams T1-T2, Baker T3-T4,
Cole T5-T6, Dunn T7-T8, Evans T9-T10). Every transcript has six segments:
1 interviewer, 2 participant A, 3 interviewer, 4 participant B, 5 A, 6 B.
A is a teacher; B a coach in odd transcripts, an administrator in even ones.

Consensus (CQR codebook, active):
  support  (C11) pos 2 of T1..T10
  autonomy (C12) pos 4 of T1..T9, pos 5 of T1        (T10 pos 4 decided absent)
  buy-in   (C21) pos 2 of T1..T5, pos 1 of T1 (interviewer)
  time     (C22) pos 6 of T1..T6, pos 2 of T1
  turnover (C23) pos 2 and 4 of T10
  Teacher leadership (domain D3, applicable) pos 6 of T1; practice (C31) pos 4 of T2 and T3
Seven conditions (inactive): SV pos 2 of T1, pos 4 of T3; SA pos 5 of T5.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qualcode.store.models import (
    Case,
    CaseAttribute,
    Code,
    Codebook,
    Coder,
    Coding,
    ConsensusDecision,
    Exemplar,
    Memo,
    Segment,
    Speaker,
    Transcript,
)

SCHOOLS = ["Adams", "Baker", "Cole", "Dunn", "Evans"]
LEVEL = {"Adams": "elementary", "Baker": "middle", "Cole": "high", "Dunn": "elementary", "Evans": "high"}
ENROLLMENT = {"Adams": "300", "Baker": "1200", "Cole": "90", "Dunn": "450"}  # Evans has none
SURVEY_SV = {"Adams": "4.2", "Baker": "3.1", "Cole": "3.9", "Dunn": "2.8", "Evans": "4.6"}

D1, D2, D3 = (
    "Collaboration between administrators and participants",
    "Barriers to collaboration",
    "Teacher leadership",
)
CQR_TREE = {
    D1: ["Administrators provide support", "Administrators provide autonomy"],
    D2: ["Lack of buy-in", "Time constraints", "Staff turnover"],
    D3: ["Leadership practice"],
}
SHORT = {
    "support": "Administrators provide support",
    "autonomy": "Administrators provide autonomy",
    "buy-in": "Lack of buy-in",
    "time": "Time constraints",
    "turnover": "Staff turnover",
    "practice": "Leadership practice",
    "D1": D1,
    "D2": D2,
    "D3": D3,
}

CONSENSUS = {
    "support": [(t, 2) for t in range(1, 11)],
    "autonomy": [(t, 4) for t in range(1, 10)] + [(1, 5)],
    "buy-in": [(t, 2) for t in range(1, 6)] + [(1, 1)],
    "time": [(t, 6) for t in range(1, 7)] + [(1, 2)],
    "turnover": [(10, 2), (10, 4)],
    "D3": [(1, 6)],
    "practice": [(2, 4), (3, 4)],
}


@dataclass
class Study:
    code: dict[str, int] = field(default_factory=dict)  # short name -> code id
    case: dict[str, int] = field(default_factory=dict)  # school -> case id
    segment: dict[tuple[int, int], int] = field(default_factory=dict)  # (transcript no, position) -> segment id
    text: dict[tuple[int, int], str] = field(default_factory=dict)
    coder: dict[str, int] = field(default_factory=dict)


def segment_text(t: int, pos: int) -> str:
    return f"T{t} turn {pos} says something about the work."


def build_study(project) -> Study:
    study = Study()
    with project.transaction() as s:
        for name, role in (("lee", "lead"), ("ana", "coder"), ("ben", "coder")):
            coder = Coder(name=name, role=role)
            s.add(coder)
            s.flush()
            study.coder[name] = coder.id
        for school in SCHOOLS:
            case = Case(name=school)
            s.add(case)
            s.flush()
            study.case[school] = case.id
            s.add(CaseAttribute(case_id=case.id, name="level", value=LEVEL[school]))
            s.add(
                CaseAttribute(
                    case_id=case.id,
                    name="survey_SV",
                    type="number",
                    value=SURVEY_SV[school],
                    number=float(SURVEY_SV[school]),
                )
            )
            if school in ENROLLMENT:
                s.add(
                    CaseAttribute(
                        case_id=case.id,
                        name="enrollment",
                        type="number",
                        value=ENROLLMENT[school],
                        number=float(ENROLLMENT[school]),
                    )
                )
        for t in range(1, 11):
            school = SCHOOLS[(t - 1) // 2]
            pieces = [segment_text(t, pos) for pos in range(1, 7)]
            transcript = Transcript(
                title=f"T{t}", case_id=study.case[school], content_hash=f"h{t}", text="\n".join(pieces)
            )
            s.add(transcript)
            s.flush()
            b_role = "coach" if t % 2 else "administrator"
            speakers = {}
            for label, role, cohort in (
                ("Interviewer", "interviewer", None),
                ("A", "teacher", "1"),
                ("B", b_role, "2"),
            ):
                speaker = Speaker(
                    transcript_id=transcript.id, label=label, role=role, attributes={"cohort": cohort} if cohort else {}
                )
                s.add(speaker)
                s.flush()
                speakers[label] = speaker.id
            offset = 0
            for pos, piece in enumerate(pieces, start=1):
                who = "Interviewer" if pos in (1, 3) else ("A" if pos in (2, 5) else "B")
                seg = Segment(
                    transcript_id=transcript.id,
                    position=pos,
                    start=offset,
                    end=offset + len(piece),
                    speaker_id=speakers[who],
                )
                s.add(seg)
                s.flush()
                study.segment[(t, pos)] = seg.id
                study.text[(t, pos)] = piece
                offset += len(piece) + 1

        cqr = Codebook(name="CQR test", kind="cqr", active=True)
        seven = Codebook(name="Seven conditions", kind="provisional")
        s.add_all([cqr, seven])
        s.flush()
        by_name = {}
        for d_pos, (domain, categories) in enumerate(CQR_TREE.items()):
            parent = Code(codebook_id=cqr.id, guid=f"d{d_pos}", name=domain, position=d_pos)
            s.add(parent)
            s.flush()
            by_name[domain] = parent.id
            for c_pos, category in enumerate(categories):
                child = Code(
                    codebook_id=cqr.id, parent_id=parent.id, guid=f"d{d_pos}c{c_pos}", name=category, position=c_pos
                )
                s.add(child)
                s.flush()
                by_name[category] = child.id
        retired = Code(
            codebook_id=cqr.id, parent_id=by_name[D2], guid="old", name="Retired code", position=9, status="retired"
        )
        s.add(retired)
        for pos, key in enumerate(("SV", "SA")):
            code = Code(codebook_id=seven.id, guid=key, name=f"Condition {key}", key=key, position=pos)
            s.add(code)
            s.flush()
            study.code[key] = code.id
        s.flush()
        study.code.update({short: by_name[full] for short, full in SHORT.items()})
        study.code["retired"] = retired.id

        # A marked quote on buy-in at T2 pos 2: characters 3..9 of the segment ("turn 2").
        quoted = ("buy-in", 2, 2)
        for short, places in CONSENSUS.items():
            for t, pos in places:
                decision = ConsensusDecision(segment_id=study.segment[(t, pos)], code_id=study.code[short])
                if (short, t, pos) == quoted:
                    start = s.get(Segment, decision.segment_id).start
                    decision.quote_start, decision.quote_end = start + 3, start + 9
                s.add(decision)
        # Decided absent, and a retired code: neither may count.
        s.add(ConsensusDecision(segment_id=study.segment[(10, 4)], code_id=study.code["autonomy"], present=False))
        s.add(ConsensusDecision(segment_id=study.segment[(9, 2)], code_id=retired.id))
        for key, places in {"SV": [(1, 2), (3, 4)], "SA": [(5, 5)]}.items():
            for t, pos in places:
                s.add(ConsensusDecision(segment_id=study.segment[(t, pos)], code_id=study.code[key]))

        # ana: round 1 codes T1 and T2; round 2 recodes T1 only.
        ana = study.coder["ana"]
        s.add(Coding(segment_id=study.segment[(1, 2)], code_id=study.code["support"], coder_id=ana, round=1))
        s.add(Coding(segment_id=study.segment[(2, 2)], code_id=study.code["support"], coder_id=ana, round=1))
        s.add(Coding(segment_id=study.segment[(1, 2)], code_id=study.code["autonomy"], coder_id=ana, round=2))
    return study


def add_memos(project, study: Study) -> None:
    with project.transaction() as s:
        s.add(
            Memo(
                kind="cell",
                coder_id=study.coder["lee"],
                code_id=study.code["support"],
                case_id=study.case["Adams"],
                text="Support is concrete at Adams.",
            )
        )
        s.add(
            Memo(
                kind="cell",
                coder_id=study.coder["ben"],
                code_id=study.code["support"],
                case_id=study.case["Baker"],
                text="Ben's private note.",
            )
        )
        s.add(
            Memo(
                kind="pattern",
                coder_id=study.coder["lee"],
                code_id=study.code["support"],
                label="convergence",
                text="Every school describes support.",
            )
        )
        seg = study.segment[(1, 2)]
        s.add(
            Exemplar(
                code_id=study.code["support"],
                case_id=study.case["Adams"],
                segment_id=seg,
                start=s.get(Segment, seg).start,
                end=s.get(Segment, seg).start + 7,
                chosen_by="lee",
            )
        )


def test_study_has_the_rows_it_was_built_with(any_project):
    study = build_study(any_project)
    assert len(study.segment) == 60
    segments = any_project.segments()
    assert list(segments[segments["transcript"] == "T3"]["text"]) == [segment_text(3, p) for p in range(1, 7)]
