"""Case attributes from CSV: wide (``case,level,survey_SV,...``) or long (``case,attribute,value[,type]``).

Types are inferred per attribute: number when every value parses as a number, date when
every value is ISO ``YYYY-MM-DD``, else text. A long table may state the type instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from ..errors import InputError, located
from ..store import audit
from ..store.ids import require_id
from ..store.models import ATTRIBUTE_TYPES, Case, CaseAttribute
from ..store.roles import require_lead_once_appointed
from ..store.values import check_text
from .manifest import ISO_DATE_RE, is_iso_date
from .tables import read_rows


@dataclass
class AttributeValue:
    case: str
    name: str
    type: str
    value: str
    number: float | None
    line: int


def _as_number(value: str) -> float | None:
    try:
        return float(value.replace(",", "")) if value else None
    except ValueError:
        return None


def infer_type(values: list[str]) -> str:
    present = [v for v in values if v != ""]
    if present and all(_as_number(v) is not None for v in present):
        return "number"
    if present and all(ISO_DATE_RE.match(v) for v in present):
        return "date"
    return "text"


def read_case_attributes(path: Path) -> list[AttributeValue]:
    header, rows = read_rows(path, ("case",), ("attribute", "value", "type"))
    if header[0] != "case":
        raise InputError(located(path, "the first column must be `case`", 1))
    long_form = "attribute" in header and "value" in header
    if long_form:
        cells = [(line, row["case"], row["attribute"], row["value"], row.get("type", "")) for line, row in rows]
    else:
        cells = [(line, row["case"], name, row[name], "") for line, row in rows for name in header[1:]]
    by_name: dict[str, list[str]] = {}
    for _, _, name, value, _ in cells:
        by_name.setdefault(name, []).append(value)
    inferred = {name: infer_type(values) for name, values in by_name.items()}
    out: list[AttributeValue] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, case, name, value, stated in cells:
        if not case:
            raise InputError(located(path, "row without a case", line))
        if not name:
            raise InputError(located(path, "row without an attribute name", line))
        first = first_line.setdefault((case, name), line)
        if first != line:  # a repeated row would silently replace the first: refuse instead
            repeated = f"{name} of case {case!r} is given again" if long_form else f"case {case!r} has a second row"
            raise InputError(located(path, f"{repeated} (first at line {first})", line))
        kind = stated.casefold() or inferred[name]
        if kind not in ATTRIBUTE_TYPES:
            raise InputError(located(path, f"unknown type {stated!r} (one of {', '.join(ATTRIBUTE_TYPES)})", line))
        number = _as_number(value) if kind == "number" else None
        if kind == "number" and value and number is None:
            raise InputError(located(path, f"{name} = {value!r} is not a number", line))
        if kind == "date" and value and not is_iso_date(value):
            raise InputError(located(path, f"{name} = {value!r} is not a YYYY-MM-DD date", line))
        out.append(AttributeValue(case, name, kind, value, number, line))
    return out


def store_case_attributes(
    session: Session, path: Path, values: list[AttributeValue], actor: str, create_cases: bool = False
) -> tuple[int, int]:
    """Insert or replace attributes; returns (cases touched, values written). Unknown cases fail.

    Case data is shared material: once the project has a lead, only the lead (``actor``) may change it.
    """
    require_lead_once_appointed(session, actor or None, "changing case attributes")
    for v in values:  # everything checked before the first write
        check_text(v.case, "case name", Case, "name", path=path, line=v.line)
        check_text(v.name, "attribute name", CaseAttribute, "name", path=path, line=v.line)
        check_text(v.value, f"attribute {v.name!r}", path=path, line=v.line)
    cases = {c.name: c for c in session.exec(select(Case))}
    for v in values:
        if v.case not in cases:
            if not create_cases:
                raise InputError(
                    located(
                        path, f"unknown case {v.case!r} (import its transcripts first, or use --create-cases)", v.line
                    )
                )
            cases[v.case] = Case(name=v.case)
            session.add(cases[v.case])
    session.flush()
    existing = {(a.case_id, a.name): a for a in session.exec(select(CaseAttribute))}
    for v in values:
        case_id = require_id(cases[v.case])
        row = existing.get((case_id, v.name))
        before = audit.row_dict(row) if row else None
        if row is None:
            row = CaseAttribute(case_id=case_id, name=v.name)
            session.add(row)
            existing[(case_id, v.name)] = row
        row.type, row.value, row.number = v.type, v.value, v.number
        session.flush()
        audit.record(session, actor, "case.attribute", row, before=before, after=audit.row_dict(row))
    return len({v.case for v in values}), len(values)
