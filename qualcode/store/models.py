"""The project schema: every table the mission needs, in one place.

Offsets are 0-based Unicode code points into ``Transcript.text``, end exclusive
(the REFI-QDA convention), so ``text[start:end]`` is always the unit's text.

Columns that lead a unique constraint carry no index of their own: the constraint's index
serves the same lookups, and every extra index slows each write.

Rounds are plain integers (1, 2, ...); ``Round`` rows record when the lead
opened a round and ``RoundTranscript`` which transcripts it covers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from .enums import CodebookKind, CoderRole, MemoKind, PatternLabel, TranscriptKind


class TableModel(SQLModel):
    """Every table's base. Table models are not validated when built, so pydantic builds a model's
    validator only when something first asks for one: importing the schema costs a fifth less."""

    model_config = SQLModelConfig(defer_build=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Kinds and roles, kept as plain strings in the database for readability (the StrEnums in ``enums``).
TRANSCRIPT_KINDS = tuple(k.value for k in TranscriptKind)
SPEAKER_ROLES = ("teacher", "coach", "administrator", "interviewer", "moderator", "participant", "other", "unknown")
CODER_ROLES = tuple(r.value for r in CoderRole)
UNIT_TYPES = ("turn", "paragraph", "sentence")
ATTRIBUTE_TYPES = ("text", "number", "date")
CODEBOOK_KINDS = tuple(k.value for k in CodebookKind)
MEMO_KINDS = tuple(k.value for k in MemoKind)
PATTERN_LABELS = tuple(p.value for p in PatternLabel)


class Meta(TableModel, table=True):
    """Key/value facts about the project: schema version, blinding state, settings."""

    __tablename__ = "qc_meta"
    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Case(TableModel, table=True):
    __tablename__ = "qc_case"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    description: str = ""
    guid: str | None = Field(default=None, max_length=64)  # REFI-QDA Case guid, kept for exchange
    created_at: datetime = Field(default_factory=utcnow)


class CaseAttribute(TableModel, table=True):
    """A typed attribute of a case, e.g. a survey mean for one condition."""

    __tablename__ = "qc_case_attribute"
    __table_args__ = (UniqueConstraint("case_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="qc_case.id", ondelete="CASCADE")
    name: str = Field(max_length=200)
    type: str = "text"  # text | number | date
    value: str = ""  # as written (dates ISO 8601)
    number: float | None = None  # parsed value when type == number


class Transcript(TableModel, table=True):
    __tablename__ = "qc_transcript"
    __table_args__ = (UniqueConstraint("case_id", "title"),)
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    kind: str = "interview"
    case_id: int | None = Field(default=None, foreign_key="qc_case.id")
    date: str | None = None  # ISO 8601 date as given
    source_name: str = ""
    source_format: str = ""  # txt | vtt | srt | docx | csv | qdpx
    content_hash: str = Field(index=True, max_length=64)
    unit: str = "turn"
    text: str = Field(sa_column=Column(Text, nullable=False))
    guid: str | None = Field(default=None, max_length=64)  # REFI-QDA source guid, kept for exchange
    created_at: datetime = Field(default_factory=utcnow)


class Speaker(TableModel, table=True):
    """A speaker as labelled in one transcript (``P1`` in two focus groups are two people)."""

    __tablename__ = "qc_speaker"
    __table_args__ = (UniqueConstraint("transcript_id", "label"),)
    id: int | None = Field(default=None, primary_key=True)
    transcript_id: int = Field(foreign_key="qc_transcript.id", ondelete="CASCADE")
    label: str = Field(max_length=200)
    role: str = "unknown"
    pseudonym: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))


class Segment(TableModel, table=True):
    """A unit of analysis: ``Transcript.text[start:end]``."""

    __tablename__ = "qc_segment"
    __table_args__ = (UniqueConstraint("transcript_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    transcript_id: int = Field(foreign_key="qc_transcript.id", ondelete="CASCADE")
    position: int  # 1-based order within the transcript
    start: int
    end: int
    speaker_id: int | None = Field(default=None, foreign_key="qc_speaker.id")
    unit: str = "turn"
    time_start: float | None = None  # seconds, from VTT/SRT/CSV/Otter
    time_end: float | None = None


class Coder(TableModel, table=True):
    __tablename__ = "qc_coder"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    role: str = "coder"  # coder | lead | auditor
    # The operating-system account that may act as this coder (None: anyone may say --as NAME).
    login: str | None = Field(default=None, max_length=100)
    # The PostgreSQL login role this coder connects as on a team server (``qualcode server add-coder``).
    db_role: str | None = Field(default=None, max_length=63)
    guid: str | None = Field(default=None, max_length=64)  # REFI-QDA User guid, kept for exchange
    created_at: datetime = Field(default_factory=utcnow)


class Codebook(TableModel, table=True):
    __tablename__ = "qc_codebook"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    kind: str = "provisional"  # provisional | cqr
    description: str = ""
    active: bool = False
    version: int = 1  # current version number
    source_name: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class Code(TableModel, table=True):
    __tablename__ = "qc_code"
    id: int | None = Field(default=None, primary_key=True)
    codebook_id: int = Field(foreign_key="qc_codebook.id", index=True, ondelete="CASCADE")
    parent_id: int | None = Field(default=None, foreign_key="qc_code.id", index=True)
    guid: str = Field(index=True, max_length=64)  # stable across versions and REFI exchange
    name: str = Field(max_length=300)
    key: str | None = None  # short key, e.g. "SV"
    brief: str = ""
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    example: str = ""
    color: str | None = None  # "#rrggbb"
    hotkey: str | None = None
    applicable: bool = True  # a CQR domain may be a pure grouping
    position: int = 0  # order among siblings
    status: str = "active"  # active | retired
    merged_into_id: int | None = Field(default=None, foreign_key="qc_code.id")
    created_version: int = 1
    retired_version: int | None = None


class CodebookVersion(TableModel, table=True):
    """A snapshot of the whole tree after each change, for diffs and reporting."""

    __tablename__ = "qc_codebook_version"
    __table_args__ = (UniqueConstraint("codebook_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    codebook_id: int = Field(foreign_key="qc_codebook.id", ondelete="CASCADE")
    number: int
    change: str = ""  # e.g. "load", "rename", "merge"
    summary: str = ""
    actor: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    snapshot: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))


class Round(TableModel, table=True):
    __tablename__ = "qc_round"
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    opened_by: str = ""
    opened_at: datetime = Field(default_factory=utcnow)
    note: str = ""


class RoundTranscript(TableModel, table=True):
    """Which transcripts a round (2 and later) asks coders to recode."""

    __tablename__ = "qc_round_transcript"
    __table_args__ = (UniqueConstraint("round", "transcript_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round: int
    transcript_id: int = Field(foreign_key="qc_transcript.id", index=True, ondelete="CASCADE")


class Coding(TableModel, table=True):
    """One coder applied one code to one segment in one round.

    ``quote_start``/``quote_end`` narrow the coding to a span inside the segment
    (absolute transcript offsets), used as exemplar quotes.
    """

    __tablename__ = "qc_coding"
    __table_args__ = (
        UniqueConstraint("segment_id", "code_id", "coder_id", "round"),
        Index("ix_qc_coding_coder_round", "coder_id", "round"),
    )
    id: int | None = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="qc_segment.id", ondelete="CASCADE")
    code_id: int = Field(foreign_key="qc_code.id", index=True)
    coder_id: int = Field(foreign_key="qc_coder.id")
    round: int = 1
    quote_start: int | None = None
    quote_end: int | None = None
    # How the coding was made (a ``CodingSource``): None for a coder's own keystroke.
    source: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class QuoteSpan(TableModel, table=True):
    """A further quote span of a coding, beyond ``Coding.quote_start``/``quote_end``.

    Absolute transcript offsets inside the coding's segment. ``coder_id`` repeats the coding's
    coder so a team server's row-level security can filter spans without a join.
    """

    __tablename__ = "qc_quote_span"
    __table_args__ = (UniqueConstraint("coding_id", "start", "end"),)
    id: int | None = Field(default=None, primary_key=True)
    coding_id: int = Field(foreign_key="qc_coding.id", ondelete="CASCADE")
    coder_id: int = Field(foreign_key="qc_coder.id", index=True)
    start: int
    end: int


class SegmentStatus(TableModel, table=True):
    """A coder marked a segment done in a round: only done segments count for agreement."""

    __tablename__ = "qc_segment_status"
    __table_args__ = (
        UniqueConstraint("segment_id", "coder_id", "round"),
        Index("ix_qc_status_coder_round", "coder_id", "round"),
    )
    id: int | None = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="qc_segment.id", ondelete="CASCADE")
    coder_id: int = Field(foreign_key="qc_coder.id")
    round: int = 1
    done_at: datetime = Field(default_factory=utcnow)


class Memo(TableModel, table=True):
    """Every kind of written note; ``kind`` says what it is attached to."""

    __tablename__ = "qc_memo"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = "segment"
    coder_id: int | None = Field(default=None, foreign_key="qc_coder.id", index=True)
    segment_id: int | None = Field(default=None, foreign_key="qc_segment.id", index=True, ondelete="CASCADE")
    code_id: int | None = Field(default=None, foreign_key="qc_code.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="qc_case.id", index=True)
    transcript_id: int | None = Field(default=None, foreign_key="qc_transcript.id", index=True)
    round: int = 1
    label: str | None = None  # pattern judgement, flag state, ...
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ConsensusDecision(TableModel, table=True):
    """The reconciled layer: whether a code applies to a segment, as decided by the lead.

    Coders' own codings are never changed; this layer sits beside them.
    """

    __tablename__ = "qc_consensus"
    __table_args__ = (UniqueConstraint("segment_id", "code_id"),)
    id: int | None = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="qc_segment.id", ondelete="CASCADE")
    code_id: int = Field(foreign_key="qc_code.id", index=True)
    present: bool = True
    method: str = "manual"  # take:<coder> | union | intersection | manual | agreed | import
    round: int = 1
    decided_by: str = ""
    quote_start: int | None = None
    quote_end: int | None = None
    decided_at: datetime = Field(default_factory=utcnow)


class Exemplar(TableModel, table=True):
    """A quote the analyst picked for a matrix cell or table row."""

    __tablename__ = "qc_exemplar"
    id: int | None = Field(default=None, primary_key=True)
    code_id: int = Field(foreign_key="qc_code.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="qc_case.id")
    segment_id: int = Field(foreign_key="qc_segment.id", ondelete="CASCADE")
    start: int
    end: int
    chosen_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class CodeSet(TableModel, table=True):
    """A REFI-QDA code Set: a named group of codes across the tree (kept on exchange)."""

    __tablename__ = "qc_code_set"
    __table_args__ = (UniqueConstraint("codebook_id", "guid"),)
    id: int | None = Field(default=None, primary_key=True)
    codebook_id: int = Field(foreign_key="qc_codebook.id", ondelete="CASCADE")
    guid: str = Field(max_length=64)
    name: str = Field(max_length=300)
    description: str = ""


class CodeSetMember(TableModel, table=True):
    __tablename__ = "qc_code_set_member"
    __table_args__ = (UniqueConstraint("set_id", "code_id"),)
    id: int | None = Field(default=None, primary_key=True)
    set_id: int = Field(foreign_key="qc_code_set.id", ondelete="CASCADE")
    code_id: int = Field(foreign_key="qc_code.id", index=True, ondelete="CASCADE")


class CodeProposal(TableModel, table=True):
    """A coder's proposal of a new code (or a change), for the lead to accept or decline."""

    __tablename__ = "qc_code_proposal"
    id: int | None = Field(default=None, primary_key=True)
    codebook_id: int = Field(foreign_key="qc_codebook.id", ondelete="CASCADE")
    coder_id: int = Field(foreign_key="qc_coder.id", index=True)
    segment_id: int | None = Field(default=None, foreign_key="qc_segment.id", ondelete="SET NULL")
    parent_id: int | None = Field(default=None, foreign_key="qc_code.id")
    name: str = Field(max_length=300)
    description: str = ""
    status: str = "open"  # open | accepted | declined
    decided_by: str = ""
    # What the lead decided, in words the proposer reads ("added A > B", "merged into C",
    # "declined: reason"): kept on the row, which the proposer may read on a team server.
    outcome: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)


class DeidTerm(TableModel, table=True):
    """A de-identification finding the lead decided on: the text, its kind and its pseudonym.

    Lead-only: the mapping from real identifiers to pseudonyms never goes to coders or exports.
    """

    __tablename__ = "qc_deid_term"
    __table_args__ = (UniqueConstraint("text", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=500)
    kind: str = Field(max_length=30)  # name | place | school | email | phone | date | other
    pseudonym: str = ""
    decision: str = "pending"  # pending | accepted | rejected
    origin: str = ""  # roster | rule | entity | list
    decided_by: str = ""
    decided_at: datetime | None = None


class SuggestModel(TableModel, table=True):
    """A trained code-suggestion model, stored as data (JSON weights), never as a pickle."""

    __tablename__ = "qc_suggest_model"
    id: int | None = Field(default=None, primary_key=True)
    codebook_id: int = Field(foreign_key="qc_codebook.id", ondelete="CASCADE", index=True)
    trained_from: str = ""  # "consensus" or a coder's name
    features: str = ""  # e.g. "lemmas+bigrams"
    trained_by: str = ""
    trained_at: datetime = Field(default_factory=utcnow)
    examples: int = 0
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict))


class AccessToken(TableModel, table=True):
    """A per-coder secret for the browser workbench on a SQLite project; only its hash is kept."""

    __tablename__ = "qc_access_token"
    id: int | None = Field(default=None, primary_key=True)
    coder_id: int = Field(foreign_key="qc_coder.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=128)
    issued_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    revoked: bool = False


class AuditEvent(TableModel, table=True):
    """Append-only trail: who changed what, when, with the row before and after."""

    __tablename__ = "qc_audit"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = ""
    action: str = Field(index=True, max_length=100)  # e.g. "coding.apply"
    entity: str = ""  # table name
    entity_id: int | None = None
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


ALL_TABLES = [
    Meta,
    Case,
    CaseAttribute,
    Transcript,
    Speaker,
    Segment,
    Coder,
    Codebook,
    Code,
    CodebookVersion,
    Round,
    RoundTranscript,
    Coding,
    QuoteSpan,
    SegmentStatus,
    Memo,
    ConsensusDecision,
    Exemplar,
    CodeSet,
    CodeSetMember,
    CodeProposal,
    DeidTerm,
    SuggestModel,
    AccessToken,
    AuditEvent,
]
