"""Who may act as a coder: one bound to an operating-system login is claimed only from it, and
on a team server (PostgreSQL) the connection itself says who is acting.

``--as NAME`` (and the workbench's ``--coder NAME``) is otherwise what the user says it
is, which suits one laptop. On a shared lab server, binding each coder to their own
account (``qualcode coders set-login``) makes blinding hold: a coder cannot read the
others' codes by claiming to be the lead. On a PostgreSQL project set up with
``qualcode server``, each coder connects as their own role (``Coder.db_role``): that
connection acts as that coder, whatever ``--as`` says, and the database's row-level
security keeps the others' work out of its reach (``qualcode.store.server``).
"""

from __future__ import annotations

import getpass
import os

from sqlmodel import Session, select

from ..errors import BlindingError, InputError
from ..store import audit
from ..store.models import Coder
from ..store.server import bypasses_policies, connection_role
from ..store.values import check_text
from .blinding import find_coder, require_lead_once_appointed


def current_login() -> str:
    """The account this process runs as (from the process itself, not from $USER)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):  # Windows, or an account with no passwd entry
        return getpass.getuser()


def connection_coder(session: Session) -> Coder | None:
    """On PostgreSQL, the coder bound to the role this connection acts as (``current_user``);
    ``None`` on SQLite or for a connection bound to no coder (the database owner's, say)."""
    role = connection_role(session)
    if role is None:
        return None
    return session.exec(select(Coder).where(Coder.db_role == role)).first()


def acting_coder(session: Session, name: str | None) -> str | None:
    """Who acts in this session: over a connection bound to a coder, that coder (a claim to be
    anyone else is refused); otherwise ``name`` as claimed, checked by :func:`check_identity`."""
    bound = connection_coder(session)
    if bound is not None:
        if name and name != bound.name:
            raise BlindingError(
                f"this connection is {bound.name}'s (PostgreSQL role {bound.db_role!r}): it cannot act as {name}"
            )
        name = bound.name
    check_identity(session, name)
    return name


def audit_actor(session: Session, viewer: str | None) -> str:
    """Who the audit trail names: the viewer (a claim already checked against its login), else the
    coder bound to this PostgreSQL connection's role, else the coder bound to the login this process
    runs as, else that login (never what $USER says)."""
    if viewer:
        return viewer
    bound = connection_coder(session)
    if bound is not None:
        return bound.name
    login = current_login()
    return session.exec(select(Coder.name).where(Coder.login == login)).first() or login


def check_identity(session: Session, name: str | None) -> None:
    """Refuse to act as ``name`` when that coder is bound to another login, or (on PostgreSQL) to a
    role this connection is not and the connection is not the database owner's (unknown names pass:
    the command reports them)."""
    if not name:
        return
    coder = session.exec(select(Coder).where(Coder.name == name)).first()
    if coder is None:
        return
    if coder.db_role:
        role = connection_role(session)
        if role is not None and role != coder.db_role and not bypasses_policies(session):
            raise BlindingError(
                f"{name} connects as the PostgreSQL role {coder.db_role!r}; this connection is {role!r}"
            )
    if not coder.login:
        return
    login = current_login()
    if login != coder.login:
        raise BlindingError(f"{name} is bound to the login {coder.login!r}; this session runs as {login!r}")


def clean_login(login: str | None) -> str | None:
    """An account name as given (None for none); refuses what cannot be one."""
    login = (login or "").strip() or None
    if login is not None and any(ch.isspace() for ch in login):
        raise InputError(f"{login!r} is not a login name")
    check_text(login, "login name", Coder, "login")
    return login


def set_login(session: Session, viewer: str | None, name: str, login: str | None, *, actor: str | None = None) -> Coder:
    """Bind coder ``name`` to ``login`` (None or "" unbinds); the lead's job once there is one.
    ``actor`` is recorded in the audit trail (default: ``viewer``)."""
    allowed_as = require_lead_once_appointed(session, viewer, "binding a coder to a login")
    coder = find_coder(session, name)
    login = clean_login(login)
    if name == viewer and login is not None and login != current_login():
        raise InputError(f"binding yourself to {login!r} would lock you out (this session runs as {current_login()!r})")
    before = audit.row_dict(coder)
    coder.login = login
    session.add(coder)
    session.flush()
    audit.record(session, actor or allowed_as, "coder.set_login", coder, before=before, after=audit.row_dict(coder))
    return coder
