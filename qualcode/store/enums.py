"""The fixed vocabularies of the store: roles, kinds and statuses.

The database keeps them as plain strings (readable in any SQL client); these ``StrEnum``s
name the allowed values once. A member equals its string, so comparisons with stored
values and JSON output are unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class CoderRole(StrEnum):
    CODER = "coder"
    LEAD = "lead"
    AUDITOR = "auditor"


ANALYST_ROLES = (CoderRole.LEAD, CoderRole.AUDITOR)  # may see every coder's work while blinded


class TranscriptKind(StrEnum):
    INTERVIEW = "interview"
    FOCUS_GROUP = "focus_group"
    FIELD_NOTES = "field_notes"
    DOCUMENT = "document"


class CodebookKind(StrEnum):
    PROVISIONAL = "provisional"
    CQR = "cqr"


class CodeStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class MemoKind(StrEnum):
    SEGMENT = "segment"  # a coder's memo on a segment
    CODE = "code"  # a memo on a code
    CORE_IDEA = "core_idea"  # CQR core idea (abstract) of a block, per coder
    RECONCILIATION = "reconciliation"  # lead's memo on a disagreement
    REVISION_FLAG = "revision_flag"  # lead flags a code for revision in the codebook
    CELL = "cell"  # cross-case matrix cell memo (code x case)
    PATTERN = "pattern"  # cross-case row judgement: convergence / divergence / contradiction
    CASE = "case"
    TRANSCRIPT = "transcript"
    GENERAL = "general"


class PatternLabel(StrEnum):
    CONVERGENCE = "convergence"
    DIVERGENCE = "divergence"
    CONTRADICTION = "contradiction"


class CodingSource(StrEnum):
    """How a coding was made, when not by the coder's own keystroke (``Coding.source``)."""

    SUGGESTION = "suggestion"  # accepted from the assistant's suggestion
    SEARCH = "search"  # applied to a search's hits (auto-coding)
    IMPORT = "import"  # came from a file (codings CSV, REFI-QDA project)
    MERGE = "merge"  # came from a coder's separate copy


class ProposalStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class DeidDecision(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Durability(StrEnum):
    """What a committed write survives on SQLite (``qualcode durability``; qc_meta ``durability``)."""

    NORMAL = "normal"  # WAL with synchronous=NORMAL: survives a crash of any process, not always a power cut
    FULL = "full"  # synchronous=FULL: the log is flushed to the disk at every commit, a power cut too
