"""Who may open the workbench in a browser (``qualcode serve``).

A browser session is one coder, who signs in with their name and a secret before anything of the
project is shown:

- on a SQLite project, a token the lead issues (``qualcode serve token issue NAME``): printed once,
  and only its salted scrypt hash is kept (``qc_access_token``); issuing a new one revokes the old;
- on a PostgreSQL project, the coder's own PostgreSQL password: the session connects as the coder's
  login role (``Coder.db_role``), so the database's own rules apply to everything it does.

Three wrong secrets in a row for a name, and each further try waits (5 s, then 10, 20, … up to
5 minutes) until a right one; every sign-in and every wrong secret is in the audit trail, which is
also where the count survives a reloaded page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from ..errors import ProjectError, QualcodeError
from ..store import audit
from ..store.access import Access
from ..store.engine import database_url, is_url
from ..store.ids import require_id
from ..store.models import AccessToken, AuditEvent, Coder
from .blinding import find_coder, require_lead_once_appointed

TOKEN_BYTES = 24  # 192 random bits, 32 URL-safe characters
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16

ISSUED = "access_token.issue"
REVOKED = "access_token.revoke"
SIGNED_IN = "serve.sign_in"
WRONG_SECRET = "serve.wrong_secret"

FREE_TRIES = 3  # wrong secrets in a row before each further try must wait
FIRST_DELAY_S = 5.0
MAX_DELAY_S = 300.0
RECENT_EVENTS = 1000  # sign-in events looked through for a name's wrong secrets in a row

WRONG = "wrong name or secret"  # the same words whatever was wrong: a name is not confirmed


class SignInError(QualcodeError):
    """A sign-in refused: a wrong name or secret, or a try made too soon after wrong ones."""


class SignInDelayed(SignInError):
    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(f"too many wrong secrets: try again in {max(1, round(seconds))} s")


# -- tokens ---------------------------------------------------------------------------------------
def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (hex): what is stored instead of the token."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(token.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def token_matches(token: str, stored: str) -> bool:
    """True when ``token`` hashes to ``stored`` (compared in constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        found = hashlib.scrypt(
            token.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
        )
    except ValueError:
        return False
    return hmac.compare_digest(found.hex(), digest)


def _refuse_on_server(target: str | None) -> None:
    if target is not None and is_url(target):
        raise QualcodeError(
            "tokens are for SQLite projects: on PostgreSQL a coder signs in with their own PostgreSQL password "
            "(see `qualcode server add-coder`)"
        )


@dataclass(frozen=True)
class TokenRow:
    coder: str
    issued_by: str
    issued_at: datetime
    revoked: bool


def issue_token(session: Session, viewer: str | None, name: str, *, target: str | None = None) -> str:
    """A new browser token for coder ``name`` (the lead's job once there is one); any token the
    coder had is revoked. Returns the token: it is never stored, only its hash."""
    _refuse_on_server(target)
    actor = require_lead_once_appointed(session, viewer, "issuing browser tokens")
    coder = find_coder(session, name)
    _revoke(session, coder)
    token = new_token()
    row = AccessToken(coder_id=require_id(coder), token_hash=hash_token(token), issued_by=actor)
    session.add(row)
    session.flush()
    audit.record(session, actor, ISSUED, row, after={"coder": name, "token_id": row.id})  # never the hash
    return token


def _revoke(session: Session, coder: Coder) -> int:
    rows = list(
        session.exec(select(AccessToken).where(AccessToken.coder_id == coder.id, col(AccessToken.revoked).is_(False)))
    )
    for row in rows:
        row.revoked = True
        session.add(row)
    return len(rows)


def revoke_tokens(session: Session, viewer: str | None, name: str, *, target: str | None = None) -> int:
    """Revoke coder ``name``'s token (the lead's job once there is one): their browser sign-in
    stops working at once. Returns how many tokens were revoked."""
    _refuse_on_server(target)
    actor = require_lead_once_appointed(session, viewer, "revoking browser tokens")
    coder = find_coder(session, name)
    n = _revoke(session, coder)
    if n == 0:
        raise QualcodeError(f"{name} has no token to revoke")
    session.flush()
    audit.record(session, actor, REVOKED, coder, after={"coder": name, "revoked": n})
    return n


def list_tokens(session: Session, viewer: str | None) -> list[TokenRow]:
    """Every token issued (never a secret nor a hash), oldest first."""
    require_lead_once_appointed(session, viewer, "listing browser tokens")
    rows = session.exec(
        select(Coder.name, AccessToken.issued_by, AccessToken.created_at, AccessToken.revoked)
        .join(Coder, col(Coder.id) == AccessToken.coder_id)
        .order_by(col(AccessToken.id))
    )
    return [TokenRow(name, by, at, bool(revoked)) for name, by, at, revoked in rows]


def active_tokens(session: Session) -> int:
    """How many coders hold a token that works (no names: anyone may ask)."""
    return len(set(session.exec(select(AccessToken.coder_id).where(col(AccessToken.revoked).is_(False)))))


# -- the delay after wrong secrets -------------------------------------------------------------
def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def delay_after(wrong_in_a_row: int) -> float:
    """Seconds a try must wait after ``wrong_in_a_row`` wrong secrets (0 for the first three)."""
    if wrong_in_a_row < FREE_TRIES:
        return 0.0
    return min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (wrong_in_a_row - FREE_TRIES))


def wait_before_try(session: Session, name: str, now: datetime | None = None) -> float:
    """Seconds before ``name`` may try another secret (0: now): counted from the audit trail's
    wrong secrets for that name since its last sign-in, so a reloaded page waits as well."""
    now = now or datetime.now(UTC)
    events = session.exec(
        select(AuditEvent.action, AuditEvent.at, AuditEvent.after)
        .where(col(AuditEvent.action).in_((SIGNED_IN, WRONG_SECRET)))
        .order_by(col(AuditEvent.id).desc())
        .limit(RECENT_EVENTS)
    )
    wrong, last_wrong = 0, None
    for action, at, after in events:
        if (after or {}).get("name") != name:
            continue
        if action == SIGNED_IN:
            break
        wrong += 1
        last_wrong = last_wrong or _aware(at)
    if last_wrong is None or delay_after(wrong) == 0:
        return 0.0
    return max(0.0, (last_wrong.timestamp() + delay_after(wrong)) - now.timestamp())


# -- signing in ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignedIn:
    """Who signed in, and what their session opens: the same SQLite file, or the PostgreSQL
    database as the coder's own login role."""

    coder: str
    target: str


_UNKNOWN_HASH: list[str] = []  # hashed once, for names with no token


def _token_ok(session: Session, coder: Coder | None, secret: str) -> bool:
    hashes = (
        list(
            session.exec(
                select(AccessToken.token_hash).where(
                    AccessToken.coder_id == coder.id, col(AccessToken.revoked).is_(False)
                )
            )
        )
        if coder is not None
        else []
    )
    if not hashes:  # an unknown name, or no token: the same hashing work, so timing confirms no name
        if not _UNKNOWN_HASH:
            _UNKNOWN_HASH.append(hash_token(new_token()))
        token_matches(secret, _UNKNOWN_HASH[0])
        return False
    return any([token_matches(secret, stored) for stored in hashes])


def role_url(target: str, role: str, password: str) -> str:
    """``target`` (a PostgreSQL URL) connecting as ``role`` with ``password`` instead."""
    url = make_url(database_url(target)).set(username=role, password=password)
    return url.render_as_string(hide_password=False)


def _scram_ok(verifier: str, password: str) -> bool:
    """``password`` against a PostgreSQL ``SCRAM-SHA-256$iter:salt$StoredKey:ServerKey`` verifier
    (RFC 5802/7677, as PostgreSQL stores it)."""
    import base64

    try:
        scheme, rest = verifier.split("$", 1)
        params, keys = rest.split("$", 1)
        iterations, salt = params.split(":", 1)
        stored_key = base64.b64decode(keys.split(":", 1)[0])
        salt_bytes = base64.b64decode(salt)
    except ValueError:
        return False
    if scheme != "SCRAM-SHA-256":
        return False
    for candidate in {password, unicodedata.normalize("NFKC", password)}:  # SASLprep's normalisation, or as given
        salted = hashlib.pbkdf2_hmac("sha256", candidate.encode("utf-8"), salt_bytes, int(iterations))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        if hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key):
            return True
    return False


def _verifier_ok(verifier: str | None, role: str, password: str) -> bool:
    if not verifier:
        return False
    if verifier.startswith("md5"):
        expected = "md5" + hashlib.md5((password + role).encode("utf-8")).hexdigest()
        return hmac.compare_digest(expected, verifier)
    return _scram_ok(verifier, password)


def _password_ok(access_session: Session, target: str, role: str, password: str) -> bool:
    """The coder's PostgreSQL password: a connection as ``role`` for which the server asked for it;
    where the server trusts the connection without asking (``trust`` in pg_hba.conf), the password is
    checked against the role's stored verifier instead, which only a superuser's connection can read."""
    import psycopg
    from sqlalchemy import text

    base = make_url(database_url(target)).set(drivername="postgresql", username=None, password=None)
    try:
        with psycopg.connect(
            base.render_as_string(hide_password=False), user=role, password=password, connect_timeout=10
        ) as conn:
            if conn.pgconn.used_password:
                return True
    except psycopg.OperationalError as exc:
        message = str(exc)
        if any(refusal in message for refusal in ("password authentication failed", "does not exist", "no password")):
            return False
        raise ProjectError(f"cannot reach the database to check the password ({message.splitlines()[0]})") from None
    try:
        verifier = (
            access_session.connection()
            .execute(text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": role})
            .scalar()
        )
    except Exception:  # not a superuser: pg_authid cannot be read
        raise ProjectError(
            "this PostgreSQL server lets the coder's role in without a password (trust in pg_hba.conf), "
            "so a password proves nothing: require scram-sha-256 for browser sign-in"
        ) from None
    return _verifier_ok(verifier, role, password)


def _record(access: Access, action: str, name: str, coder: Coder | None) -> None:
    try:
        with access.transaction() as s:
            audit.record(
                s,
                name if action == SIGNED_IN else "",
                action,
                entity="qc_coder",
                entity_id=coder.id if coder is not None else None,
                after={"name": name, "via": "browser"},
            )
    except ProjectError:  # a read-only project: the sign-in still counts, unrecorded
        pass


def sign_in(
    access: Access,
    target: str,
    name: str,
    secret: str,
    *,
    now: Callable[[], datetime] | None = None,
) -> SignedIn:
    """Check ``name`` and ``secret`` for the project at ``target``; ``SignInError`` if wrong (the
    same words whether the name or the secret was wrong) or tried too soon after wrong ones."""
    name = name.strip()
    clock = now or (lambda: datetime.now(UTC))
    with access.read() as s:
        wait = wait_before_try(s, name, clock())
        if wait > 0:
            raise SignInDelayed(wait)
        coder = s.exec(select(Coder).where(Coder.name == name)).first() if name else None
        if is_url(target):
            role = coder.db_role if coder is not None else None
            # A name with no login role still costs a connection attempt (as a role that cannot
            # exist), so how long the answer takes does not tell which names are coders.
            tried = role or f"qc_no_such_role_{secrets.token_hex(8)}"
            ok = bool(secret) and _password_ok(s, target, tried, secret) and bool(role)
            opened = role_url(target, tried, secret) if ok else target
        else:
            ok = _token_ok(s, coder, secret) and bool(secret)
            opened = target
    if not ok or coder is None:
        _record(access, WRONG_SECRET, name, coder)
        raise SignInError(WRONG)
    _record(access, SIGNED_IN, name, coder)
    return SignedIn(coder.name, opened)


__all__ = [
    "SignInDelayed",
    "SignInError",
    "SignedIn",
    "TokenRow",
    "active_tokens",
    "delay_after",
    "hash_token",
    "issue_token",
    "list_tokens",
    "revoke_tokens",
    "role_url",
    "sign_in",
    "token_matches",
    "wait_before_try",
]
