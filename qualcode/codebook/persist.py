"""Codebooks in the store: load a validated model, read it back, snapshots and versions."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from ..errors import InputError, QualcodeError, located
from ..store import audit
from ..store.ids import require_id
from ..store.locks import Serialized, serialize
from ..store.models import Code, Codebook, CodebookVersion, CodeSet, CodeSetMember
from ..store.values import check_text, text_problem
from .model import COMPARED_FIELDS, CodebookModel, CodeNode, CodeSetNode, guid_key

SNAPSHOT_FIELDS = ("guid", *COMPARED_FIELDS, "status", "position")


def codes_of(session: Session, codebook: Codebook) -> list[Code]:
    stmt = select(Code).where(col(Code.codebook_id) == codebook.id).order_by(col(Code.position), col(Code.id))
    return list(session.exec(stmt))


def check_code_values(name: str | None, fields: dict[str, Any]) -> None:
    """One clear line for a NUL character or an over-long value in a code's name or texts (both engines)."""
    check_text(name, "code name", Code, "name")
    for field_name, value in fields.items():
        if isinstance(value, str) and field_name != "name":
            check_text(value, f"code {field_name}", Code, field_name)


def _check_model_values(model: CodebookModel, source_name: str) -> None:
    """Every code's texts checked before the first write, naming the file and line each came from."""
    for node, _parent, _depth in model.walk():
        for field_name in ("guid", *COMPARED_FIELDS):
            value = getattr(node, field_name)
            problem = text_problem(value, f"code {field_name}", Code, field_name) if isinstance(value, str) else None
            if problem is not None:
                if node.origin is not None:
                    raise InputError(node.origin.message(problem))
                raise InputError(located(source_name, problem) if source_name else problem)


def store_model(session: Session, model: CodebookModel, actor: str, source_name: str = "") -> Codebook:
    """Write a validated model as a new codebook (version 1); the first codebook becomes active."""
    check_text(model.name, "codebook name", Codebook, "name", path=source_name or None)
    check_text(model.description, "codebook description", path=source_name or None)
    _check_model_values(model, source_name)
    serialize(session, Serialized.CODEBOOK)
    if session.exec(select(Codebook).where(Codebook.name == model.name)).first() is not None:
        raise QualcodeError(f"a codebook named {model.name!r} is already loaded (load under another name with --name)")
    has_active = session.exec(select(Codebook).where(Codebook.active == True)).first() is not None  # noqa: E712
    codebook = Codebook(
        name=model.name,
        kind=model.kind,
        description=model.description,
        active=not has_active,
        version=1,
        source_name=source_name,
    )
    session.add(codebook)
    session.flush()
    codebook_id = require_id(codebook)
    model.ensure_guids()

    def add(nodes: list[CodeNode], parent_id: int | None) -> None:
        for position, node in enumerate(nodes):
            row = Code(
                codebook_id=codebook_id,
                parent_id=parent_id,
                position=position,
                created_version=1,
                **{f: getattr(node, f) for f in ("guid", *COMPARED_FIELDS)},
            )
            session.add(row)
            session.flush()
            add(node.children, row.id)

    add(model.codes, None)
    _store_sets(session, model, codebook_id)
    after = {**audit.row_dict(codebook), "codes": model.count()}
    if model.sets:
        after["sets"] = len(model.sets)
    audit.record(session, actor, "codebook.load", codebook, after=after)
    write_version(
        session, codebook, "load", f"loaded {model.count()} codes from {source_name or 'a model'}", actor, number=1
    )
    return codebook


def _store_sets(session: Session, model: CodebookModel, codebook_id: int) -> None:
    """The model's code Sets (REFI-QDA), members found by GUID among the codes just stored."""
    if not model.sets:
        return
    by_guid = {
        guid_key(guid): code_id
        for code_id, guid in session.exec(select(Code.id, Code.guid).where(Code.codebook_id == codebook_id)).all()
    }
    for code_set in model.sets:
        row = CodeSet(codebook_id=codebook_id, guid=code_set.guid, name=code_set.name, description=code_set.description)
        session.add(row)
        session.flush()
        members = dict.fromkeys(by_guid[guid_key(g)] for g in code_set.members if guid_key(g) in by_guid)
        session.add_all(CodeSetMember(set_id=require_id(row), code_id=code_id) for code_id in members if code_id)
    session.flush()


def _sets_of(session: Session, codebook: Codebook, guids: dict[int, str]) -> list[CodeSetNode]:
    """The codebook's Sets with their members' GUIDs (codes not in ``guids`` left out)."""
    sets = session.exec(select(CodeSet).where(CodeSet.codebook_id == codebook.id).order_by(col(CodeSet.id))).all()
    members: dict[int, list[str]] = {}
    if sets:
        rows = session.exec(
            select(CodeSetMember.set_id, CodeSetMember.code_id)
            .where(col(CodeSetMember.set_id).in_([s.id for s in sets]))
            .order_by(col(CodeSetMember.id))
        ).all()
        for set_id, code_id in rows:
            if code_id in guids:
                members.setdefault(set_id, []).append(guids[code_id])
    return [CodeSetNode(s.name, s.guid, s.description, members.get(require_id(s), [])) for s in sets]


def model_from_store(session: Session, codebook: Codebook, include_retired: bool = False) -> CodebookModel:
    """The stored tree as a model (active codes only unless ``include_retired``)."""
    rows = [c for c in codes_of(session, codebook) if include_retired or c.status == "active"]
    children: dict[int | None, list[Code]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)

    def build(parent_id: int | None) -> list[CodeNode]:
        return [
            CodeNode(**{f: getattr(row, f) for f in ("guid", *COMPARED_FIELDS)}, children=build(row.id))
            for row in children.get(parent_id, [])
        ]

    return CodebookModel(
        name=codebook.name,
        kind=codebook.kind,
        description=codebook.description,
        codes=build(None),
        source=codebook.name,
        sets=_sets_of(session, codebook, {require_id(row): row.guid for row in rows}),
    )


def snapshot_row(row: Code, guid_of: dict[int, str]) -> dict[str, Any]:
    """One code as a snapshot records it: parent and merge target by guid, so versions compare."""
    return {
        **{f: getattr(row, f) for f in SNAPSHOT_FIELDS},
        "parent": guid_of.get(row.parent_id) if row.parent_id is not None else None,
        "merged_into": guid_of.get(row.merged_into_id) if row.merged_into_id is not None else None,
    }


def snapshot(session: Session, codebook: Codebook) -> list[dict[str, Any]]:
    """Every code of the codebook, retired ones too."""
    rows = codes_of(session, codebook)
    guid_of = {require_id(r): r.guid for r in rows}
    return [snapshot_row(r, guid_of) for r in rows]


def write_version(
    session: Session, codebook: Codebook, change: str, summary: str, actor: str, number: int | None = None
) -> CodebookVersion:
    """Record the tree after a change as the next version (or ``number``)."""
    session.flush()
    codebook.version = number if number is not None else codebook.version + 1
    session.add(codebook)
    version = CodebookVersion(
        codebook_id=require_id(codebook),
        number=codebook.version,
        change=change,
        summary=summary,
        actor=actor or "",
        snapshot=snapshot(session, codebook),
    )
    session.add(version)
    session.flush()
    return version


def versions_of(session: Session, codebook: Codebook) -> list[CodebookVersion]:
    stmt = (
        select(CodebookVersion)
        .where(col(CodebookVersion.codebook_id) == codebook.id)
        .order_by(col(CodebookVersion.number))
    )
    return list(session.exec(stmt))


def list_codebooks(session: Session) -> list[Codebook]:
    return list(session.exec(select(Codebook).order_by(Codebook.name)))


def activate(session: Session, codebook: Codebook, actor: str) -> None:
    """Make ``codebook`` the one coding uses; the others become inactive."""
    for other in list_codebooks(session):
        if other.active and other.id != codebook.id:
            other.active = False
            session.add(other)
    before = audit.row_dict(codebook)
    codebook.active = True
    session.add(codebook)
    audit.record(session, actor, "codebook.activate", codebook, before=before, after=codebook)
