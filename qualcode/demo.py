"""Build the demo study: the sample transcripts, both codebooks, three coders, a lead.

The coders are simulated from the answer key (``sample_transcripts/demo_key.csv``) with
seeded, coder-specific slips: each keeps most of the key's codes, misses some, and now and
then applies a code that is easily confused with the right one. So agreement is high but
not perfect, and the disagreements fall where real ones do. The lead then accepts agreed
codes, reconciles part of the disagreements with memos, sends one transcript to round 2,
and writes cross-case memos, so every screen has real content.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import select

from .agreement.decisions import accept_agreed, decide, flag_for_revision, reconciliation_memo
from .agreement.queue import disagreement_queue
from .codebook.formats import read_codebook
from .codebook.lookup import CodeResolver
from .codebook.persist import activate, store_model
from .coding.rounds import open_round
from .errors import QualcodeError
from .ingest.attributes import read_case_attributes, store_case_attributes
from .ingest.importer import ImportOptions, import_paths
from .project import Project
from .store.models import (
    AuditEvent,
    Case,
    Code,
    Codebook,
    Coder,
    Coding,
    Meta,
    Segment,
    SegmentStatus,
    Transcript,
    utcnow,
)
from .synthesis.annotations import add_exemplar, set_cell_memo, set_pattern

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_transcripts"
CODEBOOKS = ROOT / "codebooks"
DEMO_FILE = "qualcode-demo.db"
LEAD = "lee"
SEED = 2024


@dataclass(frozen=True)
class CoderProfile:
    name: str
    keep: float  # chance of applying a code the key gives
    slip: float  # chance of adding a confusable code
    finishes: float  # share of transcripts marked done throughout


PROFILES = (
    CoderProfile("ana", keep=0.93, slip=0.05, finishes=1.0),
    CoderProfile("ben", keep=0.87, slip=0.08, finishes=1.0),
    CoderProfile("cam", keep=0.84, slip=0.07, finishes=0.8),
)

# Codes coders confuse in practice (both directions).
CONFUSABLE = {
    "SA": ("SI", "RC"),
    "SI": ("SA", "SN"),
    "WD": ("RC",),
    "RC": ("WD", "SA"),
    "SN": ("CE", "SI"),
    "CE": ("SN",),
    "SV": ("OI",),
    "OI": ("SV", "CE"),
}

# What the lead writes where the coders split (keyed by seven-condition key).
RECONCILIATION_NOTES = {
    "SA": "Principal's backing is explicit here; counts as supportive administration, not shared influence.",
    "SI": "Teachers set the agenda themselves: shared influence. Administrator only endorses afterwards.",
    "RC": "About time and materials as inputs, not how the work is organised: resources and capacity.",
    "WD": "Describes the structure of the meeting cycle itself: work design.",
    "SN": "Trust between colleagues, not a belief about results: supportive norms.",
    "CE": "The speaker's belief that the team can raise results: collective efficacy.",
    "SV": "Names the shared goal the team plans toward: shared vision.",
    "OI": "Looks at evidence to change practice: orientation toward improvement.",
}


def samples_dir() -> Path:
    if not (SAMPLES / "manifest.csv").is_file():
        raise QualcodeError(f"{SAMPLES}: sample transcripts not found (run qualcode demo from a source checkout)")
    return SAMPLES


def _load_codebook(project: Project, path: Path) -> Codebook:
    model = read_codebook(path)
    with project.transaction() as s:
        return store_model(s, model, LEAD, source_name=path.name)


def _key_rows() -> list[dict[str, str]]:
    with open(samples_dir() / "demo_key.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _segments_by_file(project: Project) -> dict[str, list[tuple[int, int, int]]]:
    """``{source file: [(segment id, start, end), ...] in order}``."""
    out: dict[str, list[tuple[int, int, int]]] = {}
    with project.read() as s:
        rows = s.exec(
            select(Transcript.source_name, Segment.id, Segment.start, Segment.end)
            .join(Segment, Segment.transcript_id == Transcript.id)
            .order_by(Transcript.source_name, Segment.position)
        ).all()
    for name, sid, a, b in rows:
        out.setdefault(Path(name).name, []).append((sid, a, b))
    return out


def _first_sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """A quote span: the segment's first sentence (or all of it)."""
    chunk = text[start:end]
    for stop in (". ", "? ", "! "):
        i = chunk.find(stop)
        if i >= 20:
            return start, start + i + 1
    return start, end


def simulate_codings(project: Project, rng: random.Random) -> None:
    """Three coders' codings and done marks, written in one transaction with their audit events."""
    key = _key_rows()
    segments = _segments_by_file(project)
    with project.read() as s:
        seven = s.exec(select(Codebook).where(Codebook.kind == "provisional")).first()
        cqr = s.exec(select(Codebook).where(Codebook.kind == "cqr")).first()
        seven_codes = CodeResolver(s, seven)
        cqr_codes = CodeResolver(s, cqr)
        coders = {c.name: c.id for c in s.exec(select(Coder))}
        texts = {Path(t.source_name).name: t.text for t in s.exec(select(Transcript))}
    gold: dict[tuple[str, int], tuple[list[int], list[int]]] = {}
    for row in key:
        seven_ids = [seven_codes.resolve(k).id for k in row["codes"].split(";") if k.strip()]
        cqr_ids = [cqr_codes.resolve(c).id for c in row["cqr"].split(";") if c.strip()]
        gold[(row["file"], int(row["turn"]))] = (seven_ids, cqr_ids)
    key_by_id = {seven_codes.resolve(k).id: k for k in CONFUSABLE}
    id_by_key = {k: i for i, k in key_by_id.items()}
    cqr_siblings: dict[int, list[int]] = {}
    for c in cqr_codes.codes:
        if c.parent_id:
            cqr_siblings.setdefault(c.parent_id, []).append(c.id)

    files = sorted(segments)
    codings, statuses, events = [], [], []
    now = utcnow()
    for profile in PROFILES:
        cid = coders[profile.name]
        unfinished = set(rng.sample(files, round(len(files) * (1 - profile.finishes))))
        for fname in files:
            segs = segments[fname]
            # An unfinished transcript is done up to some point only.
            limit = rng.randint(len(segs) // 3, 2 * len(segs) // 3) if fname in unfinished else len(segs)
            for pos, (sid, a, b) in enumerate(segs, start=1):
                if pos > limit:
                    break
                seven_ids, cqr_ids = gold.get((fname, pos), ([], []))
                chosen: set[int] = {c for c in seven_ids if rng.random() < profile.keep}
                for c in seven_ids:
                    if rng.random() < profile.slip:
                        chosen.add(id_by_key[rng.choice(CONFUSABLE[key_by_id[c]])])
                if not seven_ids and rng.random() < profile.slip / 3:
                    chosen.add(rng.choice(list(id_by_key.values())))
                for c in cqr_ids:
                    if rng.random() < profile.keep:
                        chosen.add(c)
                    elif rng.random() < 0.5:  # filed under a sibling category instead
                        parent = cqr_codes.by_id[c].parent_id
                        chosen.add(rng.choice(cqr_siblings.get(parent, [c])))
                for code_id in sorted(chosen):
                    quote = _first_sentence(texts[fname], a, b) if rng.random() < 0.25 else (None, None)
                    codings.append(
                        {
                            "segment_id": sid,
                            "code_id": code_id,
                            "coder_id": cid,
                            "round": 1,
                            "quote_start": quote[0],
                            "quote_end": quote[1],
                            "created_at": now,
                        }
                    )
                statuses.append({"segment_id": sid, "coder_id": cid, "round": 1, "done_at": now})
    for row in codings:
        events.append(
            {
                "at": now,
                "actor": _name(coders, row["coder_id"]),
                "action": "coding.apply",
                "entity": "qc_coding",
                "entity_id": None,
                "before": None,
                "after": {k: v for k, v in row.items() if k != "created_at"},
            }
        )
    with project.transaction() as s:
        s.execute(insert(Coding), codings)
        s.execute(insert(SegmentStatus), statuses)
        s.execute(insert(AuditEvent), events)


def _name(coders: dict[str, int], coder_id: int) -> str:
    return next(n for n, i in coders.items() if i == coder_id)


def reconcile_some(project: Project, rng: random.Random) -> None:
    """The lead accepts agreed codes, then settles about two thirds of the disagreements."""
    coder_names = [p.name for p in PROFILES]
    with project.read() as s:
        codebooks = list(s.exec(select(Codebook)))
    for cb in codebooks:
        with project.transaction() as s:
            accept_agreed(s, LEAD, codebook=cb.name, coders=coder_names)
        with project.read() as s:
            queue = disagreement_queue(s, LEAD, codebook=cb.name, coders=coder_names)
        settle = queue[: (2 * len(queue)) // 3]
        with project.transaction() as s:
            for n, item in enumerate(settle):
                for dispute in item.disputed:
                    votes = len(dispute["applied_by"])
                    method = "take" if votes >= 2 else "intersection"
                    decide(
                        s,
                        LEAD,
                        item.segment_id,
                        dispute["code_id"],
                        method,
                        coder=dispute["applied_by"][0] if method == "take" else None,
                        coders=coder_names,
                    )
                    code = s.get(Code, dispute["code_id"])
                    note = RECONCILIATION_NOTES.get(code.key or "")
                    if note and n % 3 == 0:
                        reconciliation_memo(s, LEAD, item.segment_id, note, code_id=code.id)
        if cb.kind == "provisional":
            with project.transaction() as s:
                sn = CodeResolver(s, cb).resolve("SN")
                flag_for_revision(s, LEAD, sn.id, "Coders split SN and CE: add an exclusion for beliefs about results.")


CELL_MEMOS = {
    # (code key, case name fragment): memo
    ("SA", "Birchwood"): "Principal guards the Tuesday block; teachers credit her for it by name.",
    ("SA", "Harlow"): "Administration supportive on paper; teachers describe decisions arriving late.",
    ("WD", "Cedar Ridge"): "Common planning exists but is often taken over by testing logistics.",
    ("SN", "Lakeshore"): "Trust built through the coaching cycle; teachers open classrooms to peers.",
    ("OI", "Northgate"): "Data cycles are routine; every team reviews student work monthly.",
    ("SV", "Northgate"): "The STEM mission is explicit and repeated by every speaker.",
}

PATTERNS = {
    "SA": ("divergence", "Strong at the elementary schools, contested at the high schools."),
    "WD": ("convergence", "Every site names protected common planning time as the enabling structure."),
    "SI": ("contradiction", "Administrators report shared decisions; teachers at two sites say the opposite."),
}


def write_cross_case_notes(project: Project) -> None:
    """Cell memos, row pattern judgements and a few picked exemplars for the matrix."""
    with project.transaction() as s:
        cb = s.exec(select(Codebook).where(Codebook.kind == "provisional")).first()
        codes = CodeResolver(s, cb)
        cases = list(s.exec(select(Case)))
        for (key, fragment), text in CELL_MEMOS.items():
            case = next((c for c in cases if fragment.lower() in c.name.lower()), None)
            if case is not None:
                set_cell_memo(s, LEAD, codes.resolve(key).id, case.id, text)
        for key, (label, note) in PATTERNS.items():
            set_pattern(s, LEAD, codes.resolve(key).id, label, note)
        # One exemplar per condition: the first consensus segment of each code, as a quote.
        from .store.models import ConsensusDecision

        for code in codes.codes:
            first = s.exec(
                select(ConsensusDecision.segment_id)
                .where(ConsensusDecision.code_id == code.id, ConsensusDecision.present == True)  # noqa: E712
                .order_by(ConsensusDecision.segment_id)
            ).first()
            if first is not None:
                seg = s.get(Segment, first)
                text = s.get(Transcript, seg.transcript_id).text
                a, b = _first_sentence(text, seg.start, seg.end)
                add_exemplar(s, LEAD, code.id, seg.id, a, b)


def second_round(project: Project) -> None:
    """Send the focus group with the most open disagreements to round 2."""
    with project.read() as s:
        queue = disagreement_queue(s, LEAD, coders=[p.name for p in PROFILES])
        counts: dict[str, int] = {}
        for item in queue:
            counts[item.transcript] = counts.get(item.transcript, 0) + 1
        if not counts:
            return
        title = max(sorted(counts), key=counts.get)
        tid = s.exec(select(Transcript.id).where(Transcript.title == title)).first()
    with project.transaction() as s:
        open_round(s, LEAD, [tid], note="Recode after the reconciliation meeting: SA and SI kept splitting.")


def build_demo(target: str | Path, *, seed: int = SEED) -> Project:
    """Create the demo project at ``target`` (a new file or an empty database)."""
    rng = random.Random(seed)
    samples = samples_dir()
    project = Project(target, create=True)
    try:
        with project.transaction() as s:
            s.add(Meta(key="demo", value="1"))
            for profile in PROFILES:
                s.add(Coder(name=profile.name, role="coder"))
            s.add(Coder(name=LEAD, role="lead"))
            s.add(Coder(name="pat", role="auditor"))
        outcomes = import_paths(project, [samples], ImportOptions(actor=LEAD))
        failed = [o for o in outcomes if getattr(o, "status", "") == "failed"]
        if failed:
            raise QualcodeError(f"demo import failed: {failed[0]}")
        attrs = samples / "case_attributes.csv"
        values = read_case_attributes(attrs)
        with project.transaction() as s:
            store_case_attributes(s, attrs, values, LEAD)
        seven = _load_codebook(project, CODEBOOKS / "seven_conditions.yaml")
        _load_codebook(project, CODEBOOKS / "cqr_collaboration.yaml")
        with project.transaction() as s:
            activate(s, s.get(Codebook, seven.id), LEAD)
        simulate_codings(project, rng)
        reconcile_some(project, rng)
        write_cross_case_notes(project)
        second_round(project)
    except BaseException:
        project.close()
        raise
    return project


def is_demo(project: Project) -> bool:
    return project.get_meta("demo") == "1"
