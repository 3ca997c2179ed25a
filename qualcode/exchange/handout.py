"""A coder's hand-out: a copy of the study for one coder to code on their own laptop, offline, blind.

The copy is built fresh (never a file copy with rows deleted afterwards): an empty project of the
current schema receives the material everyone shares and only the coder's own work, then the file
is VACUUMed. Nothing of another coder, and nothing only the lead may see, is ever written into it,
so no free page of the file can hold it either.

Kept: cases and their attributes, transcripts, speakers, segments, codebooks (code GUIDs, versions,
Sets), rounds, the coder and the lead(s) (so the copy knows who leads); the coder's own codings,
quote spans, done marks and memos, numbered afresh. Left out: every other coder, auditor and their
work; consensus decisions, exemplars, the lead's memos (reconciliation, cell, pattern, revision
flags), de-identification terms, suggestion models, code proposals, browser tokens, the audit trail
(the copy's starts with the hand-out). Logins and PostgreSQL roles are cleared: the laptop's
account is not the server's.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, or_, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from ..coding.blinding import find_coder, require_lead
from ..errors import InputError, ProjectError, QualcodeError
from ..project import Project
from ..store import audit
from ..store.enums import CoderRole
from ..store.ids import require_id, table_of
from ..store.models import (
    AuditEvent,
    Case,
    CaseAttribute,
    Code,
    Codebook,
    CodebookVersion,
    Coder,
    CodeSet,
    CodeSetMember,
    Coding,
    ConsensusDecision,
    Memo,
    Meta,
    QuoteSpan,
    Round,
    RoundTranscript,
    Segment,
    SegmentStatus,
    Speaker,
    Transcript,
    utcnow,
)

# Keys of ``qc_meta`` a hand-out carries (the copy knows whose it is and where it came from).
HANDOUT_CODER = "handout.coder"
HANDOUT_SOURCE = "handout.source"
HANDOUT_AT = "handout.at"
HANDOUT_LEAD = "handout.lead"

COPY_CHUNK = 5_000


@dataclass(frozen=True)
class HandoutSummary:
    """What a hand-out holds (and what it left out, counted)."""

    coder: str
    path: Path
    sha256: str
    transcripts: int
    segments: int
    codes: int
    codings: int  # the coder's own, carried over
    done_marks: int
    memos: int
    left_out_coders: int  # coders and auditors not in the copy
    left_out_codings: int  # theirs
    left_out_memos: int  # theirs and the lead's
    left_out_consensus: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rows(conn: Connection, table: Table, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(select(table).where(where).order_by(*table.primary_key))]


def _insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    for start in range(0, len(rows), COPY_CHUNK):
        conn.execute(table.insert(), list(rows[start : start + COPY_CHUNK]))
    return len(rows)


def _check_out(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise InputError(f"{out}: exists already (choose another --out, or remove it first)")
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: folder does not exist")
    if not os.access(out.parent, os.W_OK):
        raise InputError(f"{out.parent}: cannot write in this folder")


def make_handout(project: Project, lead: str | None, coder_name: str, out: str | os.PathLike) -> HandoutSummary:
    """Write coder ``coder_name``'s blinded copy of ``project`` to ``out`` (a new SQLite project file).

    Only the lead may (``lead`` is who asks). The lead's project gets one ``handout.create`` audit
    event; the copy one too. ``out`` must not exist; it appears only when complete.
    """
    out = Path(out).expanduser()
    if project.read_only:
        raise ProjectError(f"project is read-only: {project.shown_target} (a hand-out is recorded in its audit trail)")
    with project.read() as s:
        require_lead(s, lead, "handing out a coder's copy")
        coder = find_coder(s, coder_name)
        if coder.role != CoderRole.CODER:
            raise QualcodeError(f"{coder_name} is a {coder.role}: a hand-out is a coder's copy for coding")
    _check_out(out)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        counts = _build(project, require_id(coder), coder_name, lead or "", partial)
        _vacuum(partial)
        os.replace(partial, out)
    except BaseException:
        for leftover in (partial, partial.with_name(partial.name + "-wal"), partial.with_name(partial.name + "-shm")):
            leftover.unlink(missing_ok=True)
        raise
    sha = file_sha256(out)
    summary = HandoutSummary(coder=coder_name, path=out, sha256=sha, **counts)
    with project.transaction() as s:
        audit.record(
            s,
            lead or "",
            "handout.create",
            entity="qc_coder",
            entity_id=require_id(coder),
            after={
                "coder": coder_name,
                "path": str(out.resolve()),
                "sha256": sha,
                "codings": summary.codings,
                "done_marks": summary.done_marks,
                "memos": summary.memos,
            },
        )
    return summary


def _build(project: Project, coder_id: int, coder_name: str, lead: str, path: Path) -> dict[str, int]:
    """Fill a new project at ``path`` from ``project``: shared material and ``coder_id``'s own work."""
    copy = Project(path, create=True)
    try:
        with project.read() as source_session:
            options = {"isolation_level": "REPEATABLE READ"} if project.url.startswith("postgresql") else {}
            src = source_session.connection(execution_options=options)  # one snapshot for every table
            with copy.write_engine.connect() as dst:
                # Rows keep their ids; parents may come after children (a moved code), so foreign keys are
                # checked once, at the end, rather than row by row.
                raw = dst.connection.dbapi_connection
                assert raw is not None
                raw.execute("PRAGMA foreign_keys = OFF")
                with dst.begin():
                    counts = _copy_tables(src, dst, coder_id)
                    copy_coder_id = counts.pop("coder_id")
                    now = utcnow()
                    meta = table_of(Meta)
                    dst.execute(meta.update().where(meta.c.key == "blinded").values(value="1"))
                    dst.execute(
                        meta.insert(),
                        [
                            {"key": HANDOUT_CODER, "value": coder_name},
                            {"key": HANDOUT_LEAD, "value": lead},
                            {"key": HANDOUT_SOURCE, "value": project.shown_target},
                            {"key": HANDOUT_AT, "value": now.isoformat()},
                        ],
                    )
                    dst.execute(
                        table_of(AuditEvent).insert(),
                        [
                            {
                                "at": now,
                                "actor": lead,
                                "action": "handout.create",
                                "entity": "qc_coder",
                                "entity_id": copy_coder_id,
                                "before": None,
                                "after": {"coder": coder_name, "from": project.shown_target},
                            }
                        ],
                    )
                    broken = dst.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise AssertionError(f"hand-out would break references: {broken[:3]}")
                raw.execute("PRAGMA foreign_keys = ON")
    finally:
        copy.close()
    return counts


def _copy_tables(src: Connection, dst: Connection, coder_id: int) -> dict[str, int]:
    everything = true()
    lead_role = CoderRole.LEAD.value
    shared: list[type] = [
        Case,
        CaseAttribute,
        Transcript,
        Speaker,
        Segment,
        Codebook,
        Code,
        CodebookVersion,
        CodeSet,
        CodeSetMember,
        Round,
        RoundTranscript,
    ]
    counts: dict[str, int] = {}
    for model in shared:
        table = table_of(model)
        counts[table.name] = _insert(dst, table, _rows(src, table, everything))
    # The coder's own rows are numbered afresh (1, 2, ...): ids with gaps where others' rows were would
    # tell how much the others coded. The copy's audit trail starts at the hand-out for the same reason
    # (its events name ids); the whole trail stays in the lead's project.
    coders = table_of(Coder)
    kept = _rows(src, coders, (coders.c.id == coder_id) | (coders.c.role == lead_role))
    new_coder = {row["id"]: number for number, row in enumerate(kept, start=1)}
    for row in kept:
        row.update(id=new_coder[row["id"]], login=None, db_role=None)
    _insert(dst, coders, kept)
    own: dict[type, ColumnElement[bool]] = {}
    new_coding: dict[int, int] = {}
    for model in (Coding, QuoteSpan, SegmentStatus, Memo):
        table = table_of(model)
        own[model] = table.c.coder_id == coder_id
        rows = _rows(src, table, own[model])
        for number, row in enumerate(rows, start=1):
            if model is Coding:
                new_coding[row["id"]] = number
            if model is QuoteSpan:
                row["coding_id"] = new_coding[row["coding_id"]]
            row.update(id=number, coder_id=new_coder[coder_id])
        counts[table.name] = _insert(dst, table, rows)
    counts["coder_id"] = new_coder[coder_id]

    def count(model: type, where: ColumnElement[bool]) -> int:
        table = table_of(model)
        return int(src.execute(select(func.count()).select_from(table).where(where)).scalar_one())

    all_coders = count(Coder, everything)
    memos = table_of(Memo)
    consensus_rows = count(ConsensusDecision, everything)
    return {
        "transcripts": counts["qc_transcript"],
        "segments": counts["qc_segment"],
        "codes": counts["qc_code"],
        "codings": counts["qc_coding"],
        "done_marks": counts["qc_segment_status"],
        "memos": counts["qc_memo"],
        "left_out_coders": all_coders - len(kept),
        "left_out_codings": count(Coding, ~own[Coding]),
        "left_out_memos": count(Memo, or_(memos.c.coder_id != coder_id, memos.c.coder_id.is_(None))),
        "left_out_consensus": consensus_rows,
        "coder_id": counts["coder_id"],
    }


def _vacuum(path: Path) -> None:
    """Rewrite the file so it holds no free page (and fold the WAL in): what was never copied cannot be read."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to hand over
        conn.execute("VACUUM")
    finally:
        conn.close()
