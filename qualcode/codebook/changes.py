"""Changes to a stored codebook while a study codes: add, edit, rename, move, merge, split, retire.

Call each inside one ``project.transaction()``: it changes the codes, checks the whole tree is
still valid (or raises, rolling everything back), writes the next version's snapshot and one audit
event. Codings point at code ids, so renames and moves carry them along; a merge moves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from ..errors import QualcodeError
from ..store import audit
from ..store.ids import require_id
from ..store.locks import Serialized, serialize
from ..store.models import Code, Codebook, Coding, ConsensusDecision, Exemplar, Memo
from .lookup import code_paths
from .model import COMPARED_FIELDS, new_guid
from .persist import check_code_values, codes_of, model_from_store, write_version
from .validate import CodebookInvalid, normalise_color, problems_in

EDITABLE_FIELDS = tuple(f for f in COMPARED_FIELDS if f != "name")


@dataclass
class MergeReport:
    """What a merge did to the work attached to the merged code."""

    codings_moved: int = 0
    codings_combined: list[dict[str, Any]] = field(default_factory=list)  # A's coding dropped: B already there
    consensus_moved: int = 0
    consensus_combined: list[dict[str, Any]] = field(default_factory=list)
    memos_moved: int = 0
    exemplars_moved: int = 0
    children_moved: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _exclusive(session: Session, codebook: Codebook) -> None:
    """No other codebook change interleaves with this one (``store.locks``), and the codebook's
    version is read again after waiting, so two changes never bump it from the same value."""
    serialize(session, Serialized.CODEBOOK)
    if session.get_bind().dialect.name == "postgresql":
        session.refresh(codebook)


def _active_children(session: Session, codebook: Codebook, parent_id: int | None) -> list[Code]:
    return [c for c in codes_of(session, codebook) if c.parent_id == parent_id and c.status == "active"]


def _place(session: Session, codebook: Codebook, code: Code, parent_id: int | None, position: int | None) -> None:
    """Put ``code`` under ``parent_id`` at ``position`` (0-based; end when None) and renumber siblings."""
    siblings = [c for c in _active_children(session, codebook, parent_id) if c.id != code.id]
    index = len(siblings) if position is None else max(0, min(position, len(siblings)))
    siblings.insert(index, code)
    code.parent_id = parent_id
    for number, sibling in enumerate(siblings):
        sibling.position = number
        session.add(sibling)


def _descendants(session: Session, codebook: Codebook, code: Code) -> list[Code]:
    rows = codes_of(session, codebook)
    found: list[Code] = []
    frontier = [code.id]
    while frontier:
        children = [r for r in rows if r.parent_id in frontier]
        found.extend(children)
        frontier = [c.id for c in children]
    return found


def _finish(
    session: Session,
    codebook: Codebook,
    actor: str,
    change: str,
    summary: str,
    row: Code,
    before: dict | None,
    extra: dict | None = None,
) -> None:
    """Check the tree, then record the version and the audit event; raise (rolling back) if invalid."""
    session.flush()
    problems = problems_in(model_from_store(session, codebook))
    if problems:
        raise CodebookInvalid([f"{change} refused: {p}" for p in problems])
    version = write_version(session, codebook, change, summary, actor)
    after = {**audit.row_dict(row), **(extra or {}), "version": version.number}
    audit.record(session, actor, f"codebook.{change}", row, before=before, after=after)


def _check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise QualcodeError(f"cannot set {', '.join(sorted(unknown))} on a code")
    if fields.get("color"):
        try:
            fields["color"] = normalise_color(fields["color"])
        except ValueError as exc:
            raise QualcodeError(str(exc)) from exc
    return fields


def add_code(
    session: Session,
    codebook: Codebook,
    actor: str,
    name: str,
    parent: Code | None = None,
    position: int | None = None,
    **fields: Any,
) -> Code:
    _exclusive(session, codebook)
    fields = _check_fields(fields)
    check_code_values(name.strip(), fields)
    code = add_code_row(session, codebook, name, parent, position)
    for field_name, value in fields.items():
        setattr(code, field_name, value)
    session.add(code)
    where = f" under {parent.name!r}" if parent else ""
    _finish(session, codebook, actor, "add", f"added {code.name!r}{where}", code, None)
    return code


def edit_code(session: Session, codebook: Codebook, actor: str, code: Code, **fields: Any) -> Code:
    """Change a code's texts, key, hotkey, colour or applicability (not its name: see ``rename_code``)."""
    _exclusive(session, codebook)
    before = audit.row_dict(code)
    fields = _check_fields(fields)
    check_code_values(None, fields)
    for name, value in fields.items():
        setattr(code, name, value)
    session.add(code)
    changed = ", ".join(sorted(fields))
    _finish(session, codebook, actor, "edit", f"edited {changed} of {code.name!r}", code, before)
    return code


def rename_code(session: Session, codebook: Codebook, actor: str, code: Code, new_name: str) -> Code:
    """Same code, same id and guid: every coding of it follows."""
    _exclusive(session, codebook)
    before = audit.row_dict(code)
    old = code.name
    check_code_values(new_name.strip(), {})
    code.name = new_name.strip()
    session.add(code)
    _finish(session, codebook, actor, "rename", f"renamed {old!r} to {code.name!r}", code, before)
    return code


def move_code(
    session: Session, codebook: Codebook, actor: str, code: Code, new_parent: Code | None, position: int | None = None
) -> Code:
    _exclusive(session, codebook)
    if new_parent is not None and (
        new_parent.id == code.id or new_parent.id in {c.id for c in _descendants(session, codebook, code)}
    ):
        raise QualcodeError(f"cannot move {code.name!r} under itself or one of its own sub-codes")
    before = audit.row_dict(code)
    old_parent = code.parent_id
    _place(session, codebook, code, new_parent.id if new_parent else None, position)
    if old_parent != code.parent_id:
        for number, sibling in enumerate(_active_children(session, codebook, old_parent)):
            sibling.position = number
            session.add(sibling)
    where = repr(new_parent.name) if new_parent else "the top level"
    _finish(session, codebook, actor, "move", f"moved {code.name!r} to {where}", code, before)
    return code


def merge_codes(session: Session, codebook: Codebook, actor: str, source: Code, target: Code) -> MergeReport:
    """Merge ``source`` into ``target``: its codings, consensus, memos, exemplars and sub-codes move;
    ``source`` is retired with ``merged_into`` set. Nothing a coder did is lost: where a coder had both
    codes on a segment in a round, that is one coding of ``target`` (the dropped row is recorded)."""
    _exclusive(session, codebook)
    if source.id == target.id:
        raise QualcodeError("cannot merge a code into itself")
    if target.status != "active" or source.status != "active":
        raise QualcodeError("both codes of a merge must be active")
    if target.id in {c.id for c in _descendants(session, codebook, source)}:
        raise QualcodeError(f"cannot merge {source.name!r} into its own sub-code {target.name!r}: move it first")
    before = audit.row_dict(source)
    report = MergeReport()
    target_id = require_id(target)

    codings = list(session.exec(select(Coding).where(Coding.code_id == source.id)))
    existing = {
        (c.segment_id, c.coder_id, c.round): c for c in session.exec(select(Coding).where(Coding.code_id == target.id))
    }
    for coding in codings:
        kept = existing.get((coding.segment_id, coding.coder_id, coding.round))
        if kept is None:
            coding.code_id = target_id
            session.add(coding)
            report.codings_moved += 1
            continue
        if kept.quote_start is None and coding.quote_start is not None:  # keep the narrower quote
            kept.quote_start, kept.quote_end = coding.quote_start, coding.quote_end
            session.add(kept)
        report.codings_combined.append({**audit.row_dict(coding), "kept_id": kept.id})
        session.delete(coding)

    decisions = {
        d.segment_id: d for d in session.exec(select(ConsensusDecision).where(ConsensusDecision.code_id == target.id))
    }
    for decision in list(session.exec(select(ConsensusDecision).where(ConsensusDecision.code_id == source.id))):
        kept_decision = decisions.get(decision.segment_id)
        if kept_decision is None:
            decision.code_id = target_id
            session.add(decision)
            report.consensus_moved += 1
            continue
        # The merged code applies where either code was decided present.
        kept_decision.present = kept_decision.present or decision.present
        session.add(kept_decision)
        report.consensus_combined.append({**audit.row_dict(decision), "kept_id": kept_decision.id})
        session.delete(decision)

    for model_class, counter in ((Memo, "memos_moved"), (Exemplar, "exemplars_moved")):
        for row in session.exec(select(model_class).where(model_class.code_id == source.id)):
            row.code_id = target_id
            session.add(row)
            setattr(report, counter, getattr(report, counter) + 1)

    for child in _active_children(session, codebook, source.id):
        _place(session, codebook, child, target.id, None)
        report.children_moved += 1

    source.status = "retired"
    source.merged_into_id = target.id
    source.retired_version = codebook.version + 1
    session.add(source)
    session.flush()
    _finish(
        session,
        codebook,
        actor,
        "merge",
        f"merged {source.name!r} into {target.name!r}",
        source,
        before,
        {"merged_into": target.name, **report.as_dict()},
    )
    return report


def split_code(session: Session, codebook: Codebook, actor: str, code: Code, new_names: list[str]) -> list[Code]:
    """Replace ``code`` by new codes beside it; ``code`` is retired with its codings kept on it,
    for coders to recode with the new codes."""
    _exclusive(session, codebook)
    if len(new_names) < 2:
        raise QualcodeError("a split needs at least two new codes")
    before = audit.row_dict(code)
    parent = session.get(Code, code.parent_id) if code.parent_id else None
    new_codes = [
        add_code_row(session, codebook, name, parent, code.position + 1 + i) for i, name in enumerate(new_names)
    ]
    for child in _active_children(session, codebook, code.id):
        _place(session, codebook, child, new_codes[0].id, None)
    code.status = "retired"
    code.retired_version = codebook.version + 1
    session.add(code)
    names = ", ".join(repr(c.name) for c in new_codes)
    _finish(
        session,
        codebook,
        actor,
        "split",
        f"split {code.name!r} into {names}",
        code,
        before,
        {"split_into": [c.guid for c in new_codes]},
    )
    return new_codes


def add_code_row(session: Session, codebook: Codebook, name: str, parent: Code | None, position: int | None) -> Code:
    """A new active code, placed but without a version of its own (for compound changes)."""
    check_code_values(name.strip(), {})
    code = Code(
        codebook_id=require_id(codebook), guid=new_guid(), name=name.strip(), created_version=codebook.version + 1
    )
    session.add(code)
    _place(session, codebook, code, parent.id if parent else None, position)
    session.flush()
    return code


def retire_code(session: Session, codebook: Codebook, actor: str, code: Code) -> list[Code]:
    """Retire a code and its sub-codes; their codings stay (on retired codes) for the record."""
    _exclusive(session, codebook)
    if code.status != "active":
        raise QualcodeError(f"{code.name!r} is already retired")
    before = audit.row_dict(code)
    retired = [code] + [c for c in _descendants(session, codebook, code) if c.status == "active"]
    for row in retired:
        row.status = "retired"
        row.retired_version = codebook.version + 1
        session.add(row)
    paths = code_paths(codes_of(session, codebook))
    summary = f"retired {paths[require_id(code)]!r}" + (
        f" and {len(retired) - 1} sub-codes" if len(retired) > 1 else ""
    )
    _finish(session, codebook, actor, "retire", summary, code, before, {"retired": [r.guid for r in retired]})
    return retired
