"""Reads the user interfaces ask of the agreement package: the dashboard's report with the
choices around it, the lead's headline figure, and the reconciliation queue.

Each takes the project (anything with ``read()``: ``qualcode.store.access.Access``) and reads
in one session of its own; results are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..codebook.lookup import get_codebook
from ..codebook.queries import codebook_names_in
from ..coding.blinding import find_coder
from ..coding.queries import coder_names_in
from ..coding.segments import transcripts_of
from ..store.access import Access
from ..store.enums import ANALYST_ROLES
from .queue import QueueItem, disagreement_queue
from .report import AgreementReport, agreement_report, rounds_in_use


@dataclass(frozen=True)
class AgreementOverview:
    """The report for one choice of codebook, coders, round and level, and what else could be chosen."""

    report: AgreementReport
    codebooks: list[str]
    codebook_kind: str
    coders: list[str]  # the coders (not leads or auditors), by name
    rounds: list[int]


def agreement_overview(
    project: Access,
    viewer: str,
    *,
    codebook: str | None = None,
    coders: list[str] | None = None,
    round: int | None = None,
    level: str | None = None,
) -> AgreementOverview:
    """What the agreement dashboard shows (lead or auditor while blinded; else ``BlindingError``)."""
    with project.read() as s:
        cb = get_codebook(s, codebook)
        report = agreement_report(s, viewer, codebook=cb.name, round=round, level=level, coders=coders)
        return AgreementOverview(report, codebook_names_in(s), cb.kind, coder_names_in(s), rounds_in_use(s))


def analyst_agreement(project: Access, viewer: str) -> AgreementReport | None:
    """The active codebook's report for a lead or an auditor; None for anyone else."""
    with project.read() as s:
        if find_coder(s, viewer).role not in ANALYST_ROLES:
            return None
        return agreement_report(s, viewer)


@dataclass(frozen=True)
class ReconciliationQueue:
    items: list[QueueItem]
    coders: list[str]  # the compared coders, in the order their keys take them
    transcript_of: dict[int, int]  # segment id -> its transcript's id (to open it, or send it to a new round)


def reconciliation_queue(
    project: Access,
    viewer: str,
    *,
    codebook: str | None = None,
    coders: list[str] | None = None,
    round: int | None = None,
    code: str | None = None,
) -> ReconciliationQueue:
    """Every disagreement, decided ones included; ``coders`` None compares every coder who took part."""
    with project.read() as s:
        items = disagreement_queue(
            s, viewer, codebook=codebook, round=round, code=code, coders=coders, include_decided=True
        )
        transcript_of = transcripts_of(s, [item.segment_id for item in items])
    compared = (
        list(coders)
        if coders
        else sorted(
            {name for i in items for name in i.codes_by_coder}
            | {n for i in items for d in i.disputed for n in d["applied_by"] + d["omitted_by"]}
        )
    )
    return ReconciliationQueue(items, compared, transcript_of)
