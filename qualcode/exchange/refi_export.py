"""Exporting the whole project as a REFI-QDA project (``qualcode export qdpx --out study.qdpx``).

What goes where:

- each transcript: a ``TextSource`` whose text is ``sources/<guid>.txt`` (UTF-8, exactly the stored
  text, so selection offsets are code points into it);
- the active codebook: ``<CodeBook>`` with its GUIDs as stored (one that is not a GUID gets a
  stable stand-in, with a warning), its Sets as ``<Sets>``;
- every coder the viewer may see: a ``User``; their codings (per transcript the round they coded
  last, the layer agreement reads) as ``PlainTextSelection``s: the coding's quote where it has one,
  else the whole segment, and one more selection per further quote span;
- the consensus (for the lead, an auditor, or anyone once unblinded): a user named ``consensus``;
- memos: ``Note``s, referred to from the code, selection or source they are about (others from the
  project), named by their kind (``core_idea``, ``case: Site A``) so an import here restores it;
- cases: ``Case``s with their attributes as ``Variable`` values and their transcripts as
  ``SourceRef``s.

Blinding: while blinded, a coder's export holds only that coder's own codings and memos; the lead's
(or an auditor's) holds everyone's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import uuid
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import and_
from sqlmodel import Session, col, select

from ..codebook.model import CodebookModel, CodeNode, guid_key, is_guid, replacement_guid
from ..codebook.persist import model_from_store
from ..codebook.refi import write_code
from ..coding.blinding import visible_coder_ids
from ..coding.layers import CONSENSUS, latest_rounds
from ..errors import QualcodeError
from ..ingest.qdpx import NAMESPACE
from ..store.access import Access
from ..store.enums import MemoKind
from ..store.ids import require_id, wide_select
from ..store.models import (
    Case,
    CaseAttribute,
    Code,
    Codebook,
    Coder,
    CodeSet,
    CodeSetMember,
    Coding,
    ConsensusDecision,
    Memo,
    QuoteSpan,
    Segment,
    SegmentStatus,
    Speaker,
    Transcript,
)
from ..version import __version__
from .refi_read import CODEBOOK_MARKER, PROGRESS_NOTE

# Stand-in GUIDs derive from stable identities (content hash, names), so exporting twice gives the same file.
EXPORT_NAMESPACE = uuid.UUID("8c7c3f0e-2b9f-4b7e-9d52-6a4f1e0c3a17")
Q = "{" + NAMESPACE + "}"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class RefiExportSummary:
    path: str
    transcripts: int
    codes: int
    sets: int
    users: tuple[str, ...]
    codings_by_user: tuple[tuple[str, int], ...]  # PlainTextSelection codings written, per user
    memos: int
    cases: int
    variables: int
    left_out: tuple[str, ...]
    warnings: tuple[str, ...]

    def lines(self) -> list[str]:
        out = [
            f"wrote {self.path}: {self.transcripts} sources, {self.codes} codes"
            + (f", {self.sets} sets" if self.sets else "")
            + f", {len(self.users)} users, {self.memos} notes, {self.cases} cases, {self.variables} variables"
        ]
        out.extend(f"codings by {user}: {count}" for user, count in self.codings_by_user)
        out.extend(f"not exported: {line}" for line in self.left_out)
        out.extend(f"warning: {line}" for line in self.warnings)
        return out


def stable_guid(kind: str, identity: str) -> str:
    """A version-5 style GUID for ``kind:identity``: the same identity always gets the same GUID.

    Built from the digest directly: ``uuid.uuid5`` costs more than the rest of a selection's export."""
    h = hashlib.sha1(_NAMESPACE_BYTES + f"{kind}:{identity}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}  # RFC 4122 variant bits
_NAMESPACE_BYTES = EXPORT_NAMESPACE.bytes


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_refi_project(access: Access, viewer: str | None, out_path: str | Path) -> RefiExportSummary:
    """Write the project, as ``viewer`` may see it, to ``out_path`` (replaced whole, never half-written)."""
    out_path = Path(out_path)
    with access.read() as session:
        document, files, summary = build_refi_project(session, viewer, out_path)
    folder = out_path.parent if str(out_path.parent) else Path(".")
    if not folder.is_dir():
        raise QualcodeError(f"{folder}: folder does not exist")
    handle, temporary = tempfile.mkstemp(prefix=".qualcode-", suffix=".qdpx", dir=folder)
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("project.qde", document)
            for name, data in files.items():
                archive.writestr(name, data)
        os.replace(temporary, out_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return summary


def build_refi_project(
    session: Session, viewer: str | None, out_path: str | Path = "project.qdpx"
) -> tuple[bytes, dict[str, bytes], RefiExportSummary]:
    """``project.qde`` and the source files, as ``viewer`` may see them, with a summary."""
    return _Builder(session, viewer, Path(out_path)).build()


class _Builder:
    def __init__(self, session: Session, viewer: str | None, out_path: Path) -> None:
        self.session = session
        self.viewer = viewer
        self.out_path = out_path
        self.visible = visible_coder_ids(session, viewer)  # None: everyone's (raises while blinded without --as)
        self.left_out: Counter[str] = Counter()
        self.warnings: list[str] = []
        self.by_user: Counter[str] = Counter()
        self.note_refs: dict[tuple[str, Any], list[str]] = defaultdict(list)  # (kind, target) -> note GUIDs

    def sees(self, coder_id: int | None) -> bool:
        return self.visible is None or (coder_id is not None and coder_id in self.visible)

    def build(self) -> tuple[bytes, dict[str, bytes], RefiExportSummary]:
        session = self.session
        root = etree.Element(f"{Q}Project", nsmap={None: NAMESPACE})
        root.set("name", self.out_path.stem or "qualcode project")
        root.set("origin", f"qualcode {__version__}")
        root.set("creationDateTime", _iso(datetime.now(UTC)) or "")

        coders = [c for c in session.exec(select(Coder).order_by(col(Coder.id))) if self.sees(c.id)]
        self.user_guid: dict[int, str] = {}
        for coder in coders:
            self.user_guid[require_id(coder)] = (
                coder.guid if coder.guid and is_guid(coder.guid) else stable_guid("coder", coder.name)
            )
        decided = session.exec(select(ConsensusDecision.id).where(ConsensusDecision.present == True)).first()  # noqa: E712
        self.consensus_guid = stable_guid("layer", CONSENSUS) if self.visible is None and decided else None
        self.coder_names = {require_id(c): c.name for c in coders}

        codebook = session.exec(select(Codebook).where(Codebook.active == True)).first()  # noqa: E712
        codebook = codebook or session.exec(select(Codebook).order_by(col(Codebook.id))).first()
        self.code_guid: dict[int, str] = {}
        model = self._codebooks(codebook)

        transcripts = list(session.exec(select(Transcript).order_by(col(Transcript.id))))
        self.source_guid = {
            require_id(t): t.guid if t.guid and is_guid(t.guid) else stable_guid("transcript", t.content_hash)
            for t in transcripts
        }
        notes = self._notes()  # before the sources and codes, which refer to them
        selections = self._selections()
        self._progress(notes)

        users = etree.SubElement(root, f"{Q}Users")
        for coder in coders:
            user = etree.SubElement(users, f"{Q}User")
            user.set("guid", self.user_guid[require_id(coder)])
            user.set("name", _xml_safe(coder.name))
        if self.consensus_guid is not None:
            user = etree.SubElement(users, f"{Q}User")
            user.set("guid", self.consensus_guid)
            user.set("name", CONSENSUS)
        if not len(users):
            root.remove(users)

        code_count = 0
        if model is not None and model.codes:
            book = etree.SubElement(root, f"{Q}CodeBook")
            codes = etree.SubElement(book, f"{Q}Codes")
            guids = {n.guid: n.guid for n, _, _ in model.walk() if n.guid}

            def code_notes(element: etree._Element, node) -> None:
                for note in self.note_refs.get(("code", node.guid or ""), []):
                    etree.SubElement(element, f"{Q}NoteRef").set("targetGUID", note)

            for node in model.codes:
                write_code(codes, node, NAMESPACE, guids, code_notes)
            code_count = model.count()

        variable_count, case_count = self._cases(root, transcripts)
        files = self._sources(root, transcripts, selections)
        if len(notes):
            root.append(notes)
        set_count = self._sets(root)
        for note in self.note_refs.get(("project", None), []):
            etree.SubElement(root, f"{Q}NoteRef").set("targetGUID", note)

        # Built in the schema's order (Users, CodeBook, Variables, Cases, Sources, Notes, Sets, NoteRef):
        # moving a large subtree afterwards costs lxml time quadratic in its size.
        document = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        names = [*self.coder_names.values()] + ([CONSENSUS] if self.consensus_guid else [])
        summary = RefiExportSummary(
            path=str(self.out_path),
            transcripts=len(transcripts),
            codes=code_count,
            sets=set_count,
            users=tuple(names),
            codings_by_user=tuple((n, self.by_user[n]) for n in names if self.by_user[n]),
            memos=self.memo_count,
            cases=case_count,
            variables=variable_count,
            left_out=tuple(f"{count} {what}" for what, count in sorted(self.left_out.items())),
            warnings=tuple(self.warnings),
        )
        return document, files, summary

    def _codebooks(self, active: Codebook | None) -> CodebookModel | None:
        """One REFI codebook: the active codebook's codes, then each other codebook wrapped in a
        grouping code (not codable) whose description names it, so that an import here restores it."""
        if active is None:
            return None
        session = self.session
        others = list(session.exec(select(Codebook).where(Codebook.id != active.id).order_by(col(Codebook.id))))
        combined = CodebookModel(name=active.name, kind=active.kind)
        used: set[str] = set()
        for codebook in [active, *others]:
            model = model_from_store(session, codebook)
            exported: dict[str, str] = {}
            for node, _, _ in model.walk():
                stored = node.guid or ""
                if not is_guid(stored):
                    guid = replacement_guid(stored)
                    self.warnings.append(f"code {node.name!r}: {stored!r} is not a GUID, written as {guid}")
                elif guid_key(stored) in used:  # the same codebook loaded twice: one GUID, two codes
                    guid = stable_guid("code", f"{codebook.id}:{stored}")
                else:
                    guid = stored
                used.add(guid_key(guid))
                exported[stored] = guid
                node.guid = guid
            for code_id, stored, status in session.exec(
                select(Code.id, Code.guid, Code.status).where(Code.codebook_id == codebook.id)
            ).all():
                if status == "active" and stored in exported:
                    self.code_guid[int(code_id or 0)] = exported[stored]
            if codebook.id == active.id:
                combined.codes.extend(model.codes)
            else:
                wrapper = CodeNode(
                    name=codebook.name,
                    applicable=False,
                    definition=f"{CODEBOOK_MARKER} ({codebook.kind}): {codebook.description}".rstrip(": "),
                    guid=stable_guid("codebook", codebook.name),
                    children=model.codes,
                )
                combined.codes.append(wrapper)
        return combined

    # -- codings ----------------------------------------------------------------------------
    def _selections(self) -> dict[int, dict[tuple[int, int, str], list[tuple[str, int | None]]]]:
        """transcript id -> (start, end, user guid) -> [(code GUID, memo note GUID or None)]."""
        session = self.session
        out: dict[int, dict[tuple[int, int, str], list[tuple[str, int | None]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        segment_rows = session.exec(select(Segment.id, Segment.transcript_id, Segment.start, Segment.end)).all()
        self.segment_of = {int(i or 0): (int(t), int(a), int(b)) for i, t, a, b in segment_rows}
        for coder_id, name in self.coder_names.items():
            latest = latest_rounds(coder_id)
            rows = session.exec(
                wide_select(
                    col(Coding.id),
                    col(Coding.segment_id),
                    col(Coding.code_id),
                    col(Coding.quote_start),
                    col(Coding.quote_end),
                )
                .join(Segment, col(Segment.id) == Coding.segment_id)
                .join(latest, and_(latest.c.transcript_id == Segment.transcript_id, latest.c.round == Coding.round))
                .where(Coding.coder_id == coder_id)
            ).all()
            spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
            ids = [int(r[0] or 0) for r in rows]
            for start in range(0, len(ids), 900):
                for coding_id, a, b in session.exec(
                    select(QuoteSpan.coding_id, QuoteSpan.start, QuoteSpan.end).where(
                        col(QuoteSpan.coding_id).in_(ids[start : start + 900])
                    )
                ).all():
                    spans[int(coding_id)].append((int(a), int(b)))
            user = self.user_guid[coder_id]
            for coding_id, segment_id, code_id, qs, qe in rows:
                code = self.code_guid.get(int(code_id))
                if code is None:
                    self.left_out["codings on codes not in the active codebook (or retired)"] += 1
                    continue
                transcript_id, a, b = self.segment_of[int(segment_id)]
                start, end = (qs, qe) if qs is not None and qe is not None else (a, b)
                out[transcript_id][(start, end, user)].append((code, None))
                for extra in spans.get(int(coding_id or 0), []):
                    out[transcript_id][(extra[0], extra[1], user)].append((code, None))
                self.by_user[name] += 1
        if self.consensus_guid is not None:
            for segment_id, code_id, qs, qe in session.exec(
                select(
                    ConsensusDecision.segment_id,
                    ConsensusDecision.code_id,
                    ConsensusDecision.quote_start,
                    ConsensusDecision.quote_end,
                ).where(ConsensusDecision.present == True)  # noqa: E712
            ).all():
                code = self.code_guid.get(int(code_id))
                if code is None:
                    self.left_out["consensus decisions on codes not in the active codebook (or retired)"] += 1
                    continue
                transcript_id, a, b = self.segment_of[int(segment_id)]
                start, end = (qs, qe) if qs is not None and qe is not None else (a, b)
                out[transcript_id][(start, end, self.consensus_guid)].append((code, None))
                self.by_user[CONSENSUS] += 1
        return out

    def _sources(
        self,
        root: etree._Element,
        transcripts: list[Transcript],
        selections: dict[int, dict[tuple[int, int, str], list[tuple[str, int | None]]]],
    ) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        if not transcripts:
            return files
        sources = etree.SubElement(root, f"{Q}Sources")
        names = _source_names(self.session, transcripts)
        sub = etree.SubElement
        selection_tag, coding_tag, ref_tag = f"{Q}PlainTextSelection", f"{Q}Coding", f"{Q}CodeRef"
        for transcript in transcripts:
            transcript_id = require_id(transcript)
            guid = self.source_guid[transcript_id]
            element = etree.SubElement(sources, f"{Q}TextSource")
            element.set("guid", guid)
            element.set("name", _xml_safe(names[transcript_id]))
            element.set("plainTextPath", f"internal://{guid}.txt")
            created = _iso(transcript.created_at)
            if created:
                element.set("creationDateTime", created)
            files[f"sources/{guid}.txt"] = transcript.text.encode("utf-8")
            line_starts = _line_starts(transcript.text)
            spans = selections.get(transcript_id, {})
            memo_spans = self.segment_memos.get(transcript_id, {})
            for key in sorted(set(spans) | set(memo_spans)):
                start, end, user = key
                identity = f"{guid}:{start}:{end}:{user}"
                # qc places a selection by its line ("line:N", 0-based); other tools show it as a label.
                selection = sub(
                    element,
                    selection_tag,
                    {
                        "guid": stable_guid("selection", identity),
                        "name": f"line:{_line_of(line_starts, start)}",
                        "startPosition": str(start),
                        "endPosition": str(end),
                        "creatingUser": user,
                    },
                )
                for code, _ in sorted(set(spans.get(key, []))):
                    coding = sub(
                        selection,
                        coding_tag,
                        {"guid": stable_guid("coding", f"{identity}:{code}"), "creatingUser": user},
                    )
                    sub(coding, ref_tag, {"targetGUID": code})
                for note in memo_spans.get(key, []):
                    etree.SubElement(selection, f"{Q}NoteRef").set("targetGUID", note)
            for note in self.note_refs.get(("transcript", transcript_id), []):
                etree.SubElement(element, f"{Q}NoteRef").set("targetGUID", note)
        return files

    def _progress(self, notes: etree._Element) -> None:
        """What REFI has no place for, as one note qualcode reads back (JSON): which segments each user
        marked done (what agreement counts), ``{"done": {user GUID: {source GUID: "all" | [[start,
        end], ...]}}}``; each source's kind, date, file name, unit and speakers' roles and pseudonyms;
        the users' roles."""
        session = self.session
        per_transcript = Counter(t for t, _, _ in self.segment_of.values())
        done: dict[str, dict[str, Any]] = {}
        for coder_id in self.coder_names:
            latest = latest_rounds(coder_id)
            rows = session.exec(
                select(Segment.transcript_id, Segment.start, Segment.end)
                .join(SegmentStatus, col(SegmentStatus.segment_id) == Segment.id)
                .join(
                    latest, and_(latest.c.transcript_id == Segment.transcript_id, latest.c.round == SegmentStatus.round)
                )
                .where(SegmentStatus.coder_id == coder_id)
            ).all()
            spans: dict[int, list[list[int]]] = defaultdict(list)
            for transcript_id, start, end in rows:
                spans[int(transcript_id)].append([int(start), int(end)])
            if spans:
                done[self.user_guid[coder_id]] = {
                    self.source_guid[t]: "all" if len(v) == per_transcript[t] else sorted(v) for t, v in spans.items()
                }
        sources: dict[str, dict[str, Any]] = {}
        speakers: dict[int, dict[str, list[str | None]]] = defaultdict(dict)
        for transcript_id, label, role, pseudonym in session.exec(
            select(Speaker.transcript_id, Speaker.label, Speaker.role, Speaker.pseudonym)
        ).all():
            if role != "unknown" or pseudonym:
                speakers[int(transcript_id)][label] = [role, pseudonym]
        for transcript in session.exec(select(Transcript)):
            transcript_id = require_id(transcript)
            sources[self.source_guid[transcript_id]] = {
                "title": transcript.title,
                "kind": transcript.kind,
                "date": transcript.date,
                "source_name": transcript.source_name,
                "unit": transcript.unit,
                "speakers": speakers.get(transcript_id, {}),
            }
        roles = {
            self.user_guid[i]: r for i, r in session.exec(select(Coder.id, Coder.role)).all() if i in self.user_guid
        }
        note = etree.SubElement(notes, f"{Q}Note")
        guid = stable_guid("progress", ",".join(sorted(done)))
        note.set("guid", guid)
        note.set("name", PROGRESS_NOTE)
        text = json.dumps({"done": done, "sources": sources, "roles": roles}, sort_keys=True)
        etree.SubElement(note, f"{Q}PlainTextContent").text = text
        self.note_refs[("project", None)].append(guid)

    # -- memos ------------------------------------------------------------------------------
    def _notes(self) -> etree._Element:
        session = self.session
        notes = etree.Element(f"{Q}Notes")
        self.memo_count = 0
        self.segment_memos: dict[int, dict[tuple[int, int, str], list[str]]] = defaultdict(lambda: defaultdict(list))
        segments = {
            int(i or 0): (int(t), int(a), int(b))
            for i, t, a, b in session.exec(select(Segment.id, Segment.transcript_id, Segment.start, Segment.end)).all()
        }
        cases = {int(i or 0): n for i, n in session.exec(select(Case.id, Case.name)).all()}
        code_guids = {int(i or 0): g for i, g in session.exec(select(Code.id, Code.guid)).all()}
        hidden = 0
        for memo in session.exec(select(Memo).order_by(col(Memo.id))):
            if not self.sees(memo.coder_id):
                hidden += 1
                continue
            if not memo.text.strip():
                continue
            guid = stable_guid("memo", str(memo.id))
            note = etree.SubElement(notes, f"{Q}Note")
            note.set("guid", guid)
            name = str(memo.kind)
            if memo.case_id is not None and memo.kind in (MemoKind.CASE, MemoKind.CELL):
                name = f"{memo.kind}: {cases.get(memo.case_id, '')}"
            note.set("name", _xml_safe(name))
            user = self.user_guid.get(memo.coder_id) if memo.coder_id is not None else None
            if user:
                note.set("creatingUser", user)
            created = _iso(memo.created_at)
            if created:
                note.set("creationDateTime", created)
            etree.SubElement(note, f"{Q}PlainTextContent").text = _xml_safe(memo.text)
            self.memo_count += 1
            if memo.segment_id is not None and memo.segment_id in segments:
                transcript_id, a, b = segments[memo.segment_id]
                owner = user or (self.consensus_guid or "")
                if owner:
                    self.segment_memos[transcript_id][(a, b, owner)].append(guid)
                    continue
            if memo.code_id is not None and memo.code_id in code_guids and memo.kind == MemoKind.CODE:
                self.note_refs[("code", self.code_guid.get(memo.code_id, ""))].append(guid)
            elif memo.transcript_id is not None and memo.segment_id is None:
                self.note_refs[("transcript", memo.transcript_id)].append(guid)
            else:
                self.note_refs[("project", None)].append(guid)
        del hidden  # other coders' memos, hidden by blinding: not a loss, and the viewer is not told how many
        return notes

    # -- cases and variables ----------------------------------------------------------------
    def _cases(self, root: etree._Element, transcripts: list[Transcript]) -> tuple[int, int]:
        """Variables and cases; returns how many of each."""
        session = self.session
        cases = list(session.exec(select(Case).order_by(col(Case.id))))
        if not cases:
            return 0, 0
        attributes = list(session.exec(select(CaseAttribute).order_by(col(CaseAttribute.id))))
        types: dict[str, str] = {}
        for name in dict.fromkeys(a.name for a in attributes):
            values = [a for a in attributes if a.name == name]
            kinds = {a.type for a in values}
            if kinds == {"number"} and all(a.number is not None for a in values):
                integral = all(float(a.number or 0).is_integer() and "." not in a.value for a in values)
                types[name] = "Integer" if integral else "Float"
            elif kinds == {"date"} and all(_ISO_DATE.fullmatch(a.value) for a in values):
                types[name] = "Date"
            else:
                types[name] = "Text"
        variable_guid = {name: stable_guid("variable", name) for name in types}
        if types:
            block = etree.SubElement(root, f"{Q}Variables")
            for name, kind in types.items():
                variable = etree.SubElement(block, f"{Q}Variable")
                variable.set("guid", variable_guid[name])
                variable.set("name", name)
                variable.set("typeOfVariable", kind)
        by_case: dict[int, list[CaseAttribute]] = defaultdict(list)
        for a in attributes:
            by_case[a.case_id].append(a)
        sources_of: dict[int, list[int]] = defaultdict(list)
        for t in transcripts:
            if t.case_id is not None:
                sources_of[t.case_id].append(require_id(t))
        block = etree.SubElement(root, f"{Q}Cases")
        for case in cases:
            case_id = require_id(case)
            element = etree.SubElement(block, f"{Q}Case")
            element.set("guid", case.guid if case.guid and is_guid(case.guid) else stable_guid("case", case.name))
            element.set("name", _xml_safe(case.name))
            if case.description:
                etree.SubElement(element, f"{Q}Description").text = _xml_safe(case.description)
            for a in by_case.get(case_id, []):
                value = etree.SubElement(element, f"{Q}VariableValue")
                etree.SubElement(value, f"{Q}VariableRef").set("targetGUID", variable_guid[a.name])
                kind = types[a.name]
                text = a.value
                if kind == "Integer":
                    text = str(int(float(a.number or 0)))
                elif kind == "Float":
                    text = repr(float(a.number or 0)) if "e" in a.value.lower() else a.value.replace(",", "")
                etree.SubElement(value, f"{Q}{kind}Value").text = _xml_safe(text)
            for transcript_id in sources_of.get(case_id, []):
                etree.SubElement(element, f"{Q}SourceRef").set("targetGUID", self.source_guid[transcript_id])
        return len(types), len(cases)

    def _sets(self, root: etree._Element) -> int:
        session = self.session
        sets = list(session.exec(select(CodeSet).order_by(col(CodeSet.id))))
        if not sets:
            return 0
        block = etree.SubElement(root, f"{Q}Sets")
        for code_set in sets:
            element = etree.SubElement(block, f"{Q}Set")
            element.set("guid", code_set.guid if is_guid(code_set.guid) else stable_guid("set", code_set.guid))
            element.set("name", _xml_safe(code_set.name))
            if code_set.description:
                etree.SubElement(element, f"{Q}Description").text = _xml_safe(code_set.description)
            members = session.exec(
                select(CodeSetMember.code_id).where(CodeSetMember.set_id == code_set.id).order_by(col(CodeSetMember.id))
            ).all()
            for code_id in members:
                guid = self.code_guid.get(int(code_id))
                if guid is not None:
                    etree.SubElement(element, f"{Q}MemberCode").set("targetGUID", guid)
        return len(sets)


def _source_names(session: Session, transcripts: list[Transcript]) -> dict[int, str]:
    """Each transcript's source name: its title, with its case where two cases hold the same title
    (tools such as qc name a source's file after it, so names must differ)."""
    cases = {int(i or 0): n for i, n in session.exec(select(Case.id, Case.name)).all()}
    counts = Counter(t.title for t in transcripts)
    names: dict[int, str] = {}
    taken: set[str] = set()
    for t in transcripts:
        name = t.title
        if counts[t.title] > 1 and t.case_id is not None:
            name = f"{t.title} ({cases.get(t.case_id, t.case_id)})"
        base, number = name, 2
        while name in taken:
            name, number = f"{base} #{number}", number + 1
        taken.add(name)
        names[require_id(t)] = name
    return names


def _line_starts(text: str) -> list[int]:
    starts = [0]
    index = text.find("\n")
    while index != -1:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def _line_of(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset) - 1


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_safe(text: str) -> str:
    """XML 1.0 cannot carry most control characters: they are dropped from notes and descriptions."""
    return _CONTROL.sub("", text)
