"""The team server: blinding on PostgreSQL kept by the database itself.

``qualcode server init`` (run by whoever owns the database) creates the schema, a group role for
the project and row-level security on every table; ``qualcode server add-coder`` gives each coder
a PostgreSQL login role in that group, bound to their qualcode coder (``Coder.db_role``). Which
rows a connection may read or write is then decided by the server from ``current_user``:

- the shared material (transcripts, speakers, segments, cases, the codebook, rounds, coders,
  ``qc_meta``) is readable by every member; only the lead writes it;
- a coder's own work (codings, done marks, quote spans, code proposals, memos with their
  ``coder_id``) is readable by its coder, and by everyone once the lead unblinds; only its coder
  (role ``coder``) or the lead writes it;
- the consensus and the lead's exemplars are readable by the lead and auditors, and by everyone
  once unblinded; suggestion models by their trainer too; de-identification decisions by the lead
  and auditors only, browser tokens by the lead only (blinded or not);
- the audit trail: a member inserts events in their own name (the lead in any); they read their
  own events while blinded (the others' would show the others' codings in their before/after);
  nobody but the owner updates or deletes one (the group has no such privilege);
- an auditor reads what the lead reads and writes nothing.

The project's role of each coder (``Coder.role``) and the blinding flag (``qc_meta``) are read by
the policies at query time, so ``qualcode unblind`` or a changed role takes effect at once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, select

from ..errors import InputError, ProjectError
from . import audit, migrations
from .engine import redacted
from .enums import CoderRole
from .locks import Serialized
from .models import ALL_TABLES, Coder, Meta
from .values import check_text

GROUP_META = "server.group_role"  # qc_meta key: the project's group role
MAX_ROLE_NAME = 63  # PostgreSQL's identifier length
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
RESERVED_CODER_NAMES = ("consensus",)  # as coding.team: the consensus layer's name

# Tables by who may read and write them (see the module's docstring). Every qualcode table is in
# exactly one group; ``tests/test_server_rls.py`` checks that none is left out.
SHARED = (
    "qc_meta",
    "qc_case",
    "qc_case_attribute",
    "qc_transcript",
    "qc_speaker",
    "qc_segment",
    "qc_coder",
    "qc_codebook",
    "qc_code",
    "qc_codebook_version",
    "qc_round",
    "qc_round_transcript",
    "qc_code_set",
    "qc_code_set_member",
)
OWN_WORK = ("qc_coding", "qc_segment_status", "qc_quote_span", "qc_code_proposal", "qc_memo")
ANALYSTS = ("qc_consensus", "qc_exemplar")
TRAINED = ("qc_suggest_model",)
DEID = ("qc_deid_term",)
LEAD_ONLY = ("qc_access_token",)
AUDIT = ("qc_audit",)
POLICED = SHARED + OWN_WORK + ANALYSTS + TRAINED + DEID + LEAD_ONLY + AUDIT


@dataclass(frozen=True)
class ServerSetup:
    group_role: str
    schema: str
    created_schema: bool
    tables: int


@dataclass(frozen=True)
class NewLogin:
    coder: str
    role: str
    db_role: str
    url: str  # holds the password: shown once, never stored


@dataclass(frozen=True)
class ServerMember:
    coder: str
    role: str
    db_role: str | None
    can_login: bool  # the PostgreSQL role exists, may log in and is in the project's group


def is_postgres(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


def _require_postgres(engine: Engine) -> None:
    if not is_postgres(engine):
        raise ProjectError(
            f"{redacted(engine.url.render_as_string(hide_password=False))}: the team server needs a PostgreSQL "
            "project (postgresql://…); a SQLite file cannot keep coders apart (see docs/team.md)"
        )


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _check_role_name(name: str, what: str) -> str:
    if not _ROLE_NAME.match(name) or len(name) > MAX_ROLE_NAME:
        raise InputError(
            f"{name!r} cannot be a {what}: use lower-case letters, digits and _ (at most {MAX_ROLE_NAME}, "
            "not starting with a digit)"
        )
    return name


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")
    return slug or "coder"


def _role_exists(conn: Connection, name: str) -> bool:
    return conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first() is not None


def _require_owner(conn: Connection) -> None:
    """The connection must own the project's tables (or be a superuser) and may create roles."""
    row = conn.execute(
        text(
            "SELECT r.rolsuper, r.rolcreaterole, pg_has_role(c.relowner, 'USAGE') "
            "FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = to_regclass('qc_meta')"
        )
    ).first()
    if row is None:
        raise ProjectError("no qualcode project in this database (run `qualcode server init URL` first)")
    superuser, createrole, owner = row
    if not (superuser or owner):
        raise ProjectError(f"{_current_user(conn)} does not own this project: run it as the database owner")
    if not (superuser or createrole):
        raise ProjectError(f"{_current_user(conn)} may not create roles (it needs CREATEROLE, or a superuser)")


def _current_user(conn: Connection) -> str:
    return str(conn.execute(text("SELECT current_user")).scalar())


def group_role(session: Session) -> str | None:
    """The project's group role (``None`` until ``server init``)."""
    row = session.get(Meta, GROUP_META)
    return row.value if row else None


def connection_role(session: Session) -> str | None:
    """The PostgreSQL role this connection acts as (``current_user``); ``None`` on SQLite."""
    if not is_postgres(session):
        return None
    return str(session.exec(text("SELECT current_user")).scalar())  # type: ignore[call-overload]


def bypasses_policies(session: Session) -> bool:
    """This PostgreSQL connection reads every row whatever the policies say: a superuser, a role
    with BYPASSRLS, or the owner of the project's tables. False on SQLite."""
    if not is_postgres(session):
        return False
    row = session.exec(  # type: ignore[call-overload]
        text(
            "SELECT r.rolsuper OR r.rolbypassrls OR coalesce(pg_has_role(c.relowner, 'USAGE'), false) "
            "FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('qc_meta') WHERE r.rolname = current_user"
        )
    ).first()
    return bool(row and row[0])


# -- the policies ---------------------------------------------------------------------------------
def _functions_sql(schema: str) -> dict[str, str]:
    """Helper functions (``qc_me()``, ``qc_blinded()``, ...): ``qc_coder``'s policies call them, and
    anyone may, to see what the policies see. Each names its tables with the schema and fixes its
    search_path, so a temporary table a coder creates (``pg_temp`` is searched first) cannot stand
    in for ``qc_meta`` or ``qc_coder`` (the policies' own subqueries are bound to the tables when
    created). Called as ``(SELECT f())``: once per statement, not once per row."""
    s = schema
    body = {
        "qc_me": ("integer", f"SELECT id FROM {s}.qc_coder WHERE db_role = current_user"),
        "qc_my_name": ("text", f"SELECT name::text FROM {s}.qc_coder WHERE db_role = current_user"),
        "qc_my_role": ("text", f"SELECT role::text FROM {s}.qc_coder WHERE db_role = current_user"),
        "qc_blinded": (
            "boolean",
            f"SELECT coalesce((SELECT value FROM {s}.qc_meta WHERE key = 'blinded'), '1') <> '0'",
        ),
        "qc_is_lead": ("boolean", f"SELECT coalesce({s}.qc_my_role() = 'lead', false)"),
        "qc_is_coder": ("boolean", f"SELECT coalesce({s}.qc_my_role() = 'coder', false)"),
        "qc_is_analyst": ("boolean", f"SELECT coalesce({s}.qc_my_role() IN ('lead', 'auditor'), false)"),
        "qc_sees_all": ("boolean", f"SELECT NOT {s}.qc_blinded() OR {s}.qc_is_analyst()"),
    }
    return {
        name: f"CREATE OR REPLACE FUNCTION {s}.{name}() RETURNS {returns} LANGUAGE sql STABLE "
        f"SET search_path = {s}, pg_catalog, pg_temp AS $fn$ {sql} $fn$"
        for name, (returns, sql) in body.items()
    }


def _terms(schema: str, *, functions: bool) -> dict[str, str]:
    """What the policies say, written out as subqueries (evaluated once per statement, planned with it,
    cached with a prepared statement) or, for ``qc_coder``'s own policies, as calls to the helper
    functions (a policy may not query its own table: PostgreSQL refuses the recursion)."""
    s = schema
    if functions:
        me, name, role, blinded = (f"(SELECT {s}.{f}())" for f in ("qc_me", "qc_my_name", "qc_my_role", "qc_blinded"))
    else:
        mine = f"FROM {s}.qc_coder k WHERE k.db_role = current_user"
        me, name, role = f"(SELECT k.id {mine})", f"(SELECT k.name::text {mine})", f"(SELECT k.role::text {mine})"
        blinded = f"(coalesce((SELECT m.value FROM {s}.qc_meta m WHERE m.key = 'blinded'), '1') <> '0')"
    analyst = f"coalesce({role} IN ('lead', 'auditor'), false)"
    return {
        "me": me,
        "name": name,
        "lead": f"coalesce({role} = 'lead', false)",
        "coder": f"coalesce({role} = 'coder', false)",
        "analyst": analyst,
        "sees_all": f"(NOT {blinded} OR {analyst})",
    }


def _policies(schema: str) -> dict[str, list[tuple[str, str, str | None, str | None]]]:
    """``{table: [(policy name, command, USING, WITH CHECK)]}`` for the group's members."""
    out: dict[str, list[tuple[str, str, str | None, str | None]]] = {}
    for table in POLICED:
        t = _terms(schema, functions=table == "qc_coder")
        lead, sees_all, own = t["lead"], t["sees_all"], f"(coder_id = {t['me']})"
        writes_own = f"({lead} OR ({t['coder']} AND {own}))"
        lead_writes = [
            ("qc_insert", "INSERT", None, lead),
            ("qc_update", "UPDATE", lead, lead),
            ("qc_delete", "DELETE", lead, None),
        ]
        if table in SHARED:
            out[table] = [
                ("qc_read", "SELECT", "true", None),
                ("qc_insert", "INSERT", None, lead),
                # A coder's coding holds its code FOR SHARE (a merge waits for it), which PostgreSQL treats as
                # an UPDATE: the codebook's rows pass USING for everyone; a changed row must pass the lead's check.
                ("qc_update", "UPDATE", "true" if table == "qc_code" else lead, lead),
                ("qc_delete", "DELETE", lead, None),
            ]
        elif table in OWN_WORK:
            checked = writes_own
            if table == "qc_quote_span":  # a coder's span belongs to one of their own codings, not to another's
                theirs = (
                    f"EXISTS (SELECT 1 FROM {schema}.qc_coding c WHERE c.id = coding_id AND c.coder_id = {t['me']})"
                )
                checked = f"({lead} OR ({t['coder']} AND {own} AND {theirs}))"
            out[table] = [
                ("qc_read", "SELECT", f"({sees_all} OR {own})", None),
                ("qc_insert", "INSERT", None, checked),
                ("qc_update", "UPDATE", writes_own, checked),
                ("qc_delete", "DELETE", writes_own, None),
            ]
        elif table in ANALYSTS:
            out[table] = [("qc_read", "SELECT", sees_all, None), *lead_writes]
        elif table in TRAINED:
            trained = f"(trained_from = {t['name']})"
            trainer_writes = f"({lead} OR ({t['coder']} AND {trained}))"
            out[table] = [
                ("qc_read", "SELECT", f"({sees_all} OR {trained})", None),
                ("qc_insert", "INSERT", None, trainer_writes),
                ("qc_update", "UPDATE", trainer_writes, trainer_writes),
                ("qc_delete", "DELETE", trainer_writes, None),
            ]
        elif table in DEID:
            out[table] = [("qc_read", "SELECT", t["analyst"], None), *lead_writes]
        elif table in LEAD_ONLY:
            out[table] = [("qc_read", "SELECT", lead, None), *lead_writes]
        else:  # the audit trail: no UPDATE or DELETE privilege at all
            events = f"(actor = {t['name']})"
            out[table] = [
                ("qc_read", "SELECT", f"({sees_all} OR {events})", None),
                ("qc_insert", "INSERT", None, f"({lead} OR ({t['coder']} AND {events}))"),
            ]
    return out


def _secure(conn: Connection, schema: str, group: str) -> int:
    """Functions, privileges and policies for ``group`` (idempotent: run again, the same result)."""
    q = _quote
    s, g = q(conn, schema), q(conn, group)
    database = str(conn.execute(text("SELECT current_database()")).scalar())
    # The helpers belong to whoever owns the tables, so that the owner can run init again after a
    # superuser ran it first (a function is replaced only by its owner).
    tables_owner = conn.execute(
        text("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass('qc_meta')")
    )
    owner_of_tables = q(conn, str(tables_owner.scalar_one()))
    for name, statement in _functions_sql(s).items():
        conn.execute(text(statement))
        conn.execute(text(f"ALTER FUNCTION {s}.{name}() OWNER TO {owner_of_tables}"))
    conn.execute(text(f"REVOKE ALL ON DATABASE {q(conn, database)} FROM PUBLIC"))
    conn.execute(text(f"GRANT CONNECT, TEMPORARY ON DATABASE {q(conn, database)} TO {g}"))
    conn.execute(text(f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC"))  # PostgreSQL before 15 granted it
    conn.execute(text(f"GRANT USAGE ON SCHEMA {s} TO {g}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {g}"))
    conn.execute(text(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {s} TO {g}"))
    policies = _policies(s)
    for table, rules in policies.items():
        t = f"{s}.{q(conn, table)}"
        conn.execute(text(f"REVOKE ALL ON {t} FROM PUBLIC, {g}"))
        privileges = "SELECT, INSERT" if table in AUDIT else "SELECT, INSERT, UPDATE, DELETE"
        conn.execute(text(f"GRANT {privileges} ON {t} TO {g}"))
        conn.execute(text(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"))
        conn.execute(text(f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY"))
        existing = conn.execute(
            text("SELECT policyname FROM pg_policies WHERE schemaname = :s AND tablename = :t"),
            {"s": schema, "t": table},
        ).scalars()
        for name in list(existing):
            conn.execute(text(f"DROP POLICY {q(conn, name)} ON {t}"))
        # FORCE puts the table's owner under the policies too: the owner keeps every row (the owner, not
        # whoever runs init: a superuser setting up a project someone else created bypasses them anyway).
        owner = conn.execute(
            text(
                "SELECT pg_get_userbyid(relowner) FROM pg_class "
                "WHERE oid = to_regclass(format('%I.%I', CAST(:s AS text), CAST(:t AS text)))"
            ),
            {"s": schema, "t": table},
        ).scalar_one()
        conn.execute(text(f"CREATE POLICY qc_owner ON {t} TO {q(conn, str(owner))} USING (true) WITH CHECK (true)"))
        for name, command, using, check in rules:
            sql = f"CREATE POLICY {name} ON {t} FOR {command} TO {g}"
            if using is not None:
                sql += f" USING ({using})"
            if check is not None:
                sql += f" WITH CHECK ({check})"
            conn.execute(text(sql))
    return len(policies)


def default_group(conn: Connection) -> str:
    database, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
    name = _slug(str(database)) if schema == "public" else f"{_slug(str(database))}_{_slug(str(schema))}"
    return f"qc_{name}"[:40].rstrip("_")


def init_server(engine: Engine, *, group: str | None = None, actor: str = "") -> ServerSetup:
    """Make the PostgreSQL database behind ``engine`` a team server: the schema (when empty), the
    group role and row-level security. Run as the database owner; running it again re-applies the
    privileges and policies (after an upgrade added tables, say) and changes nothing else."""
    _require_postgres(engine)
    version = migrations.read_version(engine)
    created = version is None
    if created:
        migrations.create_schema(engine)
    else:
        migrations.upgrade(engine, found=version)
    missing = {t.__tablename__ for t in ALL_TABLES} - set(POLICED)  # type: ignore[attr-defined]
    if missing:  # a table a later schema added and this module does not know: refuse rather than leave it open
        raise ProjectError(f"no row-level security defined for {', '.join(sorted(missing))}: update qualcode")
    with engine.begin() as conn:
        _require_owner(conn)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(Serialized.TEAM)})
        schema = str(conn.execute(text("SELECT current_schema()")).scalar())
        stored = conn.execute(text("SELECT value FROM qc_meta WHERE key = :k"), {"k": GROUP_META}).scalar()
        if stored and group and group != stored:
            raise InputError(f"this project's group role is {stored!r} already (server init was run before)")
        name = _check_role_name(str(stored or group or default_group(conn)), "group role name")
        if not _role_exists(conn, name):
            conn.execute(text(f"CREATE ROLE {_quote(conn, name)} NOLOGIN"))
        elif not stored:
            raise InputError(f"a role named {name!r} exists already: choose another with --group")
        tables = _secure(conn, schema, name)
        with Session(bind=conn) as session:
            row = session.get(Meta, GROUP_META)
            if row is None:
                session.add(Meta(key=GROUP_META, value=name))
                session.flush()
                audit.record(
                    session, actor or _current_user(conn), "server.init", entity="qc_meta", after={GROUP_META: name}
                )
            session.flush()
    return ServerSetup(name, schema, created, tables)


# -- coders' login roles --------------------------------------------------------------------------
def _scram(conn: Connection, role: str, password: str) -> str:
    """The password's SCRAM verifier, computed by libpq on this side: the password itself never
    reaches the server (nor its statement log)."""
    raw = conn.connection.dbapi_connection
    pgconn = raw.pgconn  # type: ignore[union-attr]
    return bytes(pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")).decode()


def _literal(conn: Connection, value: str) -> str:
    from psycopg import sql

    return sql.Literal(value).as_string(conn.connection.dbapi_connection)  # type: ignore[arg-type]


def login_url(engine: Engine, role: str, password: str) -> str:
    """The project's URL with ``role`` and ``password`` as its user (host, port, database and options kept)."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    url = url.set(drivername="postgresql", username=role, password=password)
    return url.render_as_string(hide_password=False)


def add_login(
    engine: Engine, name: str, role: str | None = None, *, db_role: str | None = None, actor: str = ""
) -> NewLogin:
    """A PostgreSQL login role in the project's group for coder ``name`` (added with ``role`` when new;
    an existing coder keeps theirs), bound to it. Returns the connection URL with a fresh password."""
    _require_postgres(engine)
    name = name.strip()
    if not name:
        raise InputError("a coder needs a name")
    if name.casefold() in RESERVED_CODER_NAMES:
        raise InputError(f"{name!r} is reserved for the consensus layer: choose another coder name")
    check_text(name, "coder name", Coder, "name")
    if role is not None and role not in tuple(CoderRole):
        raise InputError(f"{role!r} is not a role ({', '.join(CoderRole)})")
    password = secrets.token_urlsafe(24)
    with engine.begin() as conn:
        _require_owner(conn)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(Serialized.TEAM)})
        with Session(bind=conn) as session:
            group = group_role(session)
            if group is None:
                raise ProjectError("this project is not set up as a team server: run `qualcode server init URL` first")
            coder = session.exec(select(Coder).where(Coder.name == name)).first()
            if coder is not None and coder.db_role:
                raise InputError(
                    f"{name} connects as {coder.db_role!r} already (`qualcode server remove-coder {name}` first "
                    "to issue a new password)"
                )
            if coder is not None and role is not None and coder.role != role:
                raise InputError(f"{name} is a {coder.role} already; this command does not change roles")
            wanted = _check_role_name(db_role, "role name") if db_role else None
            login = wanted or f"{group}_{_slug(name)}"[:MAX_ROLE_NAME]
            if _role_exists(conn, login):
                if wanted:
                    raise InputError(f"a PostgreSQL role named {login!r} exists already")
                base = login[: MAX_ROLE_NAME - 4]
                login = next(f"{base}_{i}" for i in range(2, 1000) if not _role_exists(conn, f"{base}_{i}"))
            # Straight to the driver: a SCRAM verifier holds ":" that text() would read as parameters.
            with conn.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute(
                    f"CREATE ROLE {_quote(conn, login)} LOGIN INHERIT IN ROLE {_quote(conn, group)} "
                    f"PASSWORD {_literal(conn, _scram(conn, login, password))}"
                )
            who = actor or _current_user(conn)
            if coder is None:
                coder = Coder(name=name, role=role or CoderRole.CODER.value, db_role=login)
                session.add(coder)
                session.flush()
                audit.record(session, who, "coder.add", coder)
            before = audit.row_dict(coder)
            if coder.db_role != login:
                coder.db_role = login
                session.add(coder)
                session.flush()
            audit.record(session, who, "coder.set_db_role", coder, before=before, after=audit.row_dict(coder))
            session.flush()
            return NewLogin(coder.name, coder.role, login, login_url(engine, login, password))


def remove_login(engine: Engine, name: str, *, actor: str = "") -> str:
    """Drop coder ``name``'s login role and unbind it (their work and the qualcode coder stay).
    Returns the dropped role's name."""
    _require_postgres(engine)
    with engine.begin() as conn:
        _require_owner(conn)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(Serialized.TEAM)})
        with Session(bind=conn) as session:
            coder = session.exec(select(Coder).where(Coder.name == name)).first()
            if coder is None:
                raise InputError(f"unknown coder {name!r}")
            if not coder.db_role:
                raise InputError(f"{name} has no PostgreSQL role on this server")
            login = coder.db_role
            before = audit.row_dict(coder)
            coder.db_role = None
            session.add(coder)
            session.flush()
            audit.record(session, actor or _current_user(conn), "coder.remove_db_role", coder, before=before)
            if _role_exists(conn, login):
                conn.execute(text(f"DROP ROLE {_quote(conn, login)}"))
            session.flush()
    return login


def members(session: Session) -> list[ServerMember]:
    """Every coder with the PostgreSQL role they connect as (if any) and whether it can log in."""
    group = group_role(session)
    roles: dict[str, bool] = {}
    if is_postgres(session):
        rows: Sequence = session.exec(  # type: ignore[call-overload]
            text(
                "SELECT r.rolname, r.rolcanlogin AND coalesce(pg_has_role(r.rolname, g.oid, 'MEMBER'), false) "
                "FROM pg_roles r LEFT JOIN pg_roles g ON g.rolname = :g"
            ).bindparams(g=group or "")
        ).all()
        roles = {str(n): bool(ok) for n, ok in rows}
    return [
        ServerMember(c.name, c.role, c.db_role, bool(c.db_role and roles.get(c.db_role, False)))
        for c in session.exec(select(Coder).order_by(Coder.name)).all()
    ]
