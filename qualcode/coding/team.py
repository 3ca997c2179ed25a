"""The team: coders, the lead analyst and auditors, listed and added (binding a coder to a
login is ``identity.set_login``). Functions take a session; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from ..errors import InputError
from ..store import audit
from ..store.locks import Serialized, serialize
from ..store.models import Coder
from ..store.values import check_text
from .blinding import require_lead_once_appointed
from .identity import clean_login

# Names a coder may not take: "consensus" is the reconciled layer's name wherever layers are chosen.
RESERVED_CODER_NAMES = ("consensus",)


@dataclass(frozen=True)
class TeamMember:
    name: str
    role: str
    login: str | None
    added: date | None


def _member(coder: Coder) -> TeamMember:
    return TeamMember(coder.name, coder.role, coder.login, coder.created_at.date() if coder.created_at else None)


def list_coders(session: Session) -> list[TeamMember]:
    """Every coder by name."""
    return [_member(c) for c in session.exec(select(Coder).order_by(Coder.name)).all()]


def add_coder(
    session: Session,
    name: str,
    role: str,
    *,
    viewer: str | None,
    actor: str,
    login: str | None = None,
) -> TeamMember:
    """Add coder ``name`` with ``role``, bound to ``login`` if given, recorded as done by ``actor``;
    once the project has a lead, only the lead (``viewer``) may."""
    name = name.strip()
    if not name:
        raise InputError("a coder needs a name")
    if name.casefold() in RESERVED_CODER_NAMES:
        raise InputError(f"{name!r} is reserved for the consensus layer: choose another coder name")
    check_text(name, "coder name", Coder, "name")
    login = clean_login(login)
    require_lead_once_appointed(session, viewer, f"adding a {role}")
    serialize(session, Serialized.TEAM)  # a coder added meanwhile by another process is seen below
    if session.exec(select(Coder).where(Coder.name == name)).first():
        raise InputError(f"coder {name!r} already exists")
    coder = Coder(name=name, role=role, login=login)
    session.add(coder)
    session.flush()
    audit.record(session, actor, "coder.add", coder)
    return _member(coder)
