"""Who may act as a coder: one bound to an operating-system login is claimed only from it.

``--as NAME`` (and the workbench's ``--coder NAME``) is otherwise what the user says it
is, which suits one laptop. On a shared lab server, binding each coder to their own
account (``qualcode coders set-login``) makes blinding hold: a coder cannot read the
others' codes by claiming to be the lead.
"""

from __future__ import annotations

import getpass
import os

from sqlmodel import Session, select

from ..errors import BlindingError, InputError
from ..store import audit
from ..store.models import Coder
from ..store.values import check_text
from .blinding import find_coder, require_lead_once_appointed


def current_login() -> str:
    """The account this process runs as (from the process itself, not from $USER)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):  # Windows, or an account with no passwd entry
        return getpass.getuser()


def audit_actor(session: Session, viewer: str | None) -> str:
    """Who the audit trail names: the viewer (a claim already checked against its login), else the
    coder bound to the login this process runs as, else that login (never what $USER says)."""
    if viewer:
        return viewer
    login = current_login()
    return session.exec(select(Coder.name).where(Coder.login == login)).first() or login


def check_identity(session: Session, name: str | None) -> None:
    """Refuse to act as ``name`` when that coder is bound to another login (unknown names pass:
    the command reports them)."""
    if not name:
        return
    coder = session.exec(select(Coder).where(Coder.name == name)).first()
    if coder is None or not coder.login:
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
