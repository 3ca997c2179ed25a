"""The team server: blinding kept by PostgreSQL's row-level security, tried with raw SQL as each role.

One database of this module's own (created, then dropped with its roles). The study is written
over each member's own connection through the same core functions the workbench uses, so those
are tried too. Then, as each role, plain SQL (SELECT, joins, aggregates, UPDATE, DELETE, INSERT on
every table) must return none of another coder's rows while blinded and change nothing it must not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.builders import build_codebook, build_transcript
from tests.conftest import PG_URL

pytestmark = pytest.mark.postgres

psycopg = pytest.importorskip("psycopg")


@dataclass
class Team:
    owner: str
    urls: dict[str, str]  # coder name -> their connection URL
    ids: dict[str, int]  # coder name -> qc_coder.id
    segments: list[int]
    codes: dict[str, int]
    group: str = ""


def _base() -> str:
    if not PG_URL:
        pytest.skip("QUALCODE_TEST_POSTGRES is not set")
    return PG_URL.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def team_database(prefix: str) -> Iterator[tuple[str, str]]:
    """A fresh database (and the group role name server init will give it); dropped after, with every
    role whose name starts with the group's."""
    base = _base()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    owner = base.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield owner, f"qc_{name}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            roles = conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s ORDER BY length(rolname) DESC", (f"qc_{name}%",)
            ).fetchall()
            for (role,) in roles:
                conn.execute(f'DROP ROLE "{role}"')


def seed(owner: str) -> Team:
    """The study: one transcript of five segments, four codes; alice and bob code, lee leads, ada audits."""
    from sqlmodel import select

    from qualcode.agreement.decisions import decide, reconciliation_memo
    from qualcode.coding.service import TranscriptWork
    from qualcode.project import Project
    from qualcode.store.models import (
        AccessToken,
        CodeProposal,
        Coder,
        Coding,
        DeidTerm,
        Exemplar,
        Memo,
        QuoteSpan,
        Segment,
        SuggestModel,
    )
    from qualcode.store.server import add_login, init_server

    with Project(owner, create=True) as p:
        tid = build_transcript(p)
        codes = build_codebook(p)
        group = init_server(p.write_engine).group_role
        urls = {
            name: add_login(p.write_engine, name, role).url
            for name, role in (("alice", "coder"), ("bob", "coder"), ("lee", "lead"), ("ada", "auditor"))
        }
        with p.read() as s:
            ids = {c.name: c.id for c in s.exec(select(Coder)).all()}
            segments = list(s.exec(select(Segment.id).where(Segment.transcript_id == tid).order_by(Segment.position)))
    # Each coder codes over their own connection, through the workbench's core (TranscriptWork).
    plan = {"alice": [(0, "SV")], "bob": [(0, "SA"), (1, "WD")]}
    for name, steps in plan.items():
        with Project(urls[name]) as p:
            assert p.user == name  # known from the connection, no --as
            work = TranscriptWork(p, name, tid)
            for index, key in steps:
                work.toggle(segments[index], codes[key])
                work.set_done(segments[index])
            work.set_memo(segments[0], f"{name}'s memo")
            work.set_code_memo(codes["SV"], f"{name} on SV")
            with p.transaction() as s:
                coding_id = s.exec(select(Coding.id).where(Coding.coder_id == ids[name])).first()
                s.add(QuoteSpan(coding_id=coding_id, coder_id=ids[name], start=0, end=3))
                s.add(CodeProposal(codebook_id=1, coder_id=ids[name], name=f"{name}'s idea"))
                s.add(SuggestModel(codebook_id=1, trained_from=name, trained_by=name))
    with Project(urls["lee"]) as p:
        assert p.user == "lee"
        with p.transaction() as s:
            decide(s, "lee", segments[0], codes["SV"], "manual", present=True)
            reconciliation_memo(s, "lee", segments[0], "alice and bob differ")
            s.add(Memo(kind="cell", coder_id=ids["lee"], code_id=codes["SV"], case_id=1, text="cell"))
            s.add(Memo(kind="pattern", coder_id=ids["lee"], code_id=codes["SV"], label="convergence", text="row"))
            s.add(Exemplar(code_id=codes["SV"], segment_id=segments[0], start=0, end=3, chosen_by="lee"))
            s.add(DeidTerm(text="Ms. Lee", kind="name", pseudonym="T1", decision="accepted"))
            s.add(AccessToken(coder_id=ids["alice"], token_hash="x" * 64, issued_by="lee"))
            s.add(SuggestModel(codebook_id=1, trained_from="consensus", trained_by="lee"))
    return Team(owner, urls, ids, segments, codes, group)


@pytest.fixture(scope="module")
def team() -> Iterator[Team]:
    with team_database("qct_rls") as (owner, _group):
        yield seed(owner)


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def rows(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(plain(url)) as conn:
        return conn.execute(sql, params).fetchall()


def count(url: str, sql: str) -> int:
    return int(rows(url, sql)[0][0])


def fingerprint(owner: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and an md5 of all its rows, as the owner sees them."""
    from qualcode.store.server import POLICED

    with psycopg.connect(plain(owner)) as conn:
        return {
            t: conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY x.id), '')) FROM {t} x"
            ).fetchone()
            if t != "qc_meta"
            else conn.execute("SELECT count(*), md5(string_agg(x::text, '|' ORDER BY key)) FROM qc_meta x").fetchone()
            for t in POLICED
        }


OWN_WORK = ("qc_coding", "qc_segment_status", "qc_quote_span", "qc_code_proposal", "qc_memo")


def test_every_table_has_row_level_security_enabled_and_forced(team):
    from qualcode.store.models import ALL_TABLES
    from qualcode.store.server import POLICED

    assert sorted(POLICED) == sorted(t.__tablename__ for t in ALL_TABLES)
    flags = rows(
        team.owner,
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
        "WHERE relname LIKE 'qc_%%' AND relkind = 'r'",
    )
    assert len(flags) == len(POLICED)
    assert all(enabled and forced for _name, enabled, forced in flags)


def test_the_seed_as_the_owner_sees_it(team):
    # Hand-counted: alice 1 coding, bob 2; each has a quote span, a proposal, 2 memos; lee 3 memos.
    o = team.owner
    assert count(o, "SELECT count(*) FROM qc_coding") == 3
    assert count(o, "SELECT count(*) FROM qc_segment_status") == 3
    assert count(o, "SELECT count(*) FROM qc_quote_span") == 2
    assert count(o, "SELECT count(*) FROM qc_code_proposal") == 2
    assert count(o, "SELECT count(*) FROM qc_memo") == 2 + 2 + 3
    assert count(o, "SELECT count(*) FROM qc_consensus") == 1
    assert count(o, "SELECT count(DISTINCT actor) FROM qc_audit WHERE actor IN ('alice', 'bob', 'lee')") == 3


@pytest.mark.parametrize("coder", ["alice", "bob"])
def test_a_coder_reads_only_their_own_work_while_blinded(team, coder):
    url, me = team.urls[coder], team.ids[coder]
    own = {"alice": 1, "bob": 2}[coder]
    assert count(url, "SELECT count(*) FROM qc_coding") == own
    assert count(url, "SELECT count(DISTINCT coder_id) FROM qc_coding") == 1
    assert count(url, "SELECT count(*) FROM qc_segment_status") == own
    for table in OWN_WORK:
        assert count(url, f"SELECT count(*) FROM {table} WHERE coder_id IS DISTINCT FROM {me}") == 0, table
    assert count(url, "SELECT count(*) FROM qc_memo") == 2  # a segment memo and a code memo; none of lee's
    assert count(url, "SELECT count(*) FROM qc_memo WHERE kind IN ('reconciliation', 'cell', 'pattern')") == 0
    # Joins and aggregates reach no further: from the segments' side, from the coders' side.
    joined = "SELECT count(*) FROM qc_segment s LEFT JOIN qc_coding c ON c.segment_id = s.id WHERE c.id IS NOT NULL"
    assert count(url, joined) == own
    by_coder = rows(
        url, "SELECT k.name, count(c.id) FROM qc_coder k LEFT JOIN qc_coding c ON c.coder_id = k.id GROUP BY k.name"
    )
    assert {n: c for n, c in by_coder if c} == {coder: own}
    assert (
        count(
            url,
            "SELECT count(*) FROM qc_coding "
            "WHERE coder_id IN (SELECT id FROM qc_coder WHERE db_role IS DISTINCT FROM current_user)",
        )
        == 0
    )
    for table in ("qc_consensus", "qc_exemplar", "qc_deid_term", "qc_access_token"):
        assert count(url, f"SELECT count(*) FROM {table}") == 0, table
    assert rows(url, "SELECT trained_from FROM qc_suggest_model") == [(coder,)]
    # The audit trail: only their own events (the others' hold the others' codings in before/after).
    actors = {a for (a,) in rows(url, "SELECT DISTINCT actor FROM qc_audit")}
    assert actors == {coder}
    assert count(url, "SELECT count(*) FROM qc_audit") == count(
        team.owner, f"SELECT count(*) FROM qc_audit WHERE actor = '{coder}'"
    )
    # The shared material is all there.
    for table in ("qc_transcript", "qc_segment", "qc_speaker", "qc_code", "qc_codebook", "qc_case", "qc_coder"):
        assert count(url, f"SELECT count(*) FROM {table}") == count(team.owner, f"SELECT count(*) FROM {table}"), table


def _each_statement(url: str, statements: list[str]) -> dict[str, int | str]:
    """Run each statement in a savepoint of its own, rolled back, inside one transaction rolled back:
    ``{statement: rows affected}`` or the error's SQLSTATE class name."""
    out: dict[str, int | str] = {}
    with psycopg.connect(plain(url)) as conn, conn.transaction(force_rollback=True):
        for sql in statements:
            try:
                with conn.transaction(force_rollback=True):  # a savepoint: each statement on the seed as it is
                    out[sql] = conn.execute(sql).rowcount
            except psycopg.errors.InsufficientPrivilege as exc:
                out[sql] = "denied" if "permission denied" in str(exc) else "policy"
    return out


def _writes(me: int, name: str, others: int, other_name: str) -> list[str]:
    from qualcode.store.server import POLICED

    statements = []
    for table in POLICED:
        key = "key" if table == "qc_meta" else "id"
        statements += [f"UPDATE {table} SET {key} = {key}", f"DELETE FROM {table}"]
    statements += [
        f"INSERT INTO qc_coding (segment_id, code_id, coder_id, round, created_at) VALUES (1, 1, {others}, 1, now())",
        f"INSERT INTO qc_audit (at, actor, action, entity) VALUES (now(), '{other_name}', 'coding.apply', 'qc_coding')",
        "INSERT INTO qc_meta (key, value) VALUES ('x', 'y')",
        "UPDATE qc_meta SET value = '0' WHERE key = 'blinded'",
        f"UPDATE qc_coder SET role = 'lead' WHERE id = {me}",
        f"UPDATE qc_coding SET coder_id = {others}",
        # a span in one's own name on another coder's coding (that coder's first coding: see seed)
        f'INSERT INTO qc_quote_span (coding_id, coder_id, start, "end") VALUES ({2 if others == 2 else 1}, {me}, 1, 2)',
        "INSERT INTO qc_consensus (segment_id, code_id, present, method, round, decided_by, decided_at) "
        "VALUES (2, 2, true, 'manual', 1, 'x', now())",
    ]
    return statements


@pytest.mark.parametrize("coder", ["alice", "bob"])
def test_a_coder_changes_only_their_own_work(team, coder):
    me, other = team.ids[coder], team.ids["bob" if coder == "alice" else "alice"]
    before = fingerprint(team.owner)
    result = _each_statement(team.urls[coder], _writes(me, coder, other, "bob" if coder == "alice" else "alice"))
    assert fingerprint(team.owner) == before
    own = {"alice": 1, "bob": 2}[coder]
    # Their own rows, and nothing else, are within reach (the transaction was rolled back).
    assert result["DELETE FROM qc_coding"] == own
    assert result["DELETE FROM qc_segment_status"] == own
    assert result["DELETE FROM qc_memo"] == 2
    assert result["DELETE FROM qc_quote_span"] == 1
    assert result["DELETE FROM qc_suggest_model"] == 1
    for table in ("qc_meta", "qc_transcript", "qc_segment", "qc_coder", "qc_consensus", "qc_exemplar", "qc_deid_term"):
        assert result[f"DELETE FROM {table}"] == 0, table
    assert result["UPDATE qc_code SET id = id"] == "policy"  # readable FOR SHARE, never changed
    assert result["UPDATE qc_audit SET id = id"] == "denied"
    assert result["DELETE FROM qc_audit"] == "denied"
    assert result["UPDATE qc_meta SET value = '0' WHERE key = 'blinded'"] == 0
    assert result[f"UPDATE qc_coder SET role = 'lead' WHERE id = {me}"] == 0
    assert result[f"UPDATE qc_coding SET coder_id = {other}"] == "policy"
    for sql, outcome in result.items():
        if sql.startswith("INSERT"):
            assert outcome == "policy", sql


def test_no_way_around_the_policies_through_temporary_tables_statistics_or_roles(team):
    with psycopg.connect(plain(team.owner), autocommit=True) as conn:
        conn.execute("ANALYZE qc_coding")
    with psycopg.connect(plain(team.urls["alice"])) as conn:
        # The planner's statistics (most common values of coder_id...) are not shown under row-level security.
        assert conn.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'qc_coding'").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.qc_mine (x int)")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET ROLE postgres")
        conn.rollback()
        # The group role itself is no coder: it sees less, not more.
        conn.execute(f"SET ROLE {team.group}")
        assert conn.execute("SELECT count(*) FROM qc_coding").fetchone()[0] == 0
        conn.rollback()
    with psycopg.connect(plain(team.urls["alice"])) as conn:
        # A temporary qc_meta or qc_coder (pg_temp is searched first) does not stand in for the real ones.
        conn.execute("CREATE TEMP TABLE qc_meta (key text, value text)")
        conn.execute("INSERT INTO qc_meta VALUES ('blinded', '0')")
        conn.execute("CREATE TEMP TABLE qc_coder (id int, name text, role text, db_role text)")
        conn.execute("INSERT INTO qc_coder SELECT id, 'alice', 'lead', current_user FROM public.qc_coder")
        assert conn.execute("SELECT count(*) FROM public.qc_coding").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM public.qc_consensus").fetchone()[0] == 0


def test_the_auditor_reads_everything_and_writes_nothing(team):
    url = team.urls["ada"]
    for table in (
        "qc_coding",
        "qc_memo",
        "qc_consensus",
        "qc_exemplar",
        "qc_audit",
        "qc_deid_term",
        "qc_suggest_model",
    ):
        assert count(url, f"SELECT count(*) FROM {table}") == count(team.owner, f"SELECT count(*) FROM {table}"), table
    assert count(url, "SELECT count(*) FROM qc_access_token") == 0  # the lead's alone
    before = fingerprint(team.owner)
    result = _each_statement(url, _writes(team.ids["ada"], "ada", team.ids["alice"], "alice"))
    assert fingerprint(team.owner) == before
    for sql, outcome in result.items():
        assert outcome in (0, "policy", "denied"), sql


def test_the_lead_reads_and_writes_everything_but_the_audit_trail(team):
    url = team.urls["lee"]
    for table in ("qc_coding", "qc_memo", "qc_consensus", "qc_audit", "qc_access_token", "qc_deid_term"):
        assert count(url, f"SELECT count(*) FROM {table}") == count(team.owner, f"SELECT count(*) FROM {table}"), table
    before = fingerprint(team.owner)
    result = _each_statement(
        url,
        [
            "DELETE FROM qc_coding",
            "UPDATE qc_consensus SET id = id",
            "UPDATE qc_audit SET id = id",
            "DELETE FROM qc_audit",
        ],
    )
    assert fingerprint(team.owner) == before  # rolled back
    assert result["DELETE FROM qc_coding"] == 3
    assert result["UPDATE qc_consensus SET id = id"] == 1
    assert result["UPDATE qc_audit SET id = id"] == result["DELETE FROM qc_audit"] == "denied"


def test_unblinding_opens_reads_and_blinding_closes_them_again(team):
    from qualcode.coding.blinding import set_blinded
    from qualcode.project import Project

    alice = team.urls["alice"]
    with Project(team.urls["lee"]) as lead:
        with lead.transaction() as s:
            set_blinded(s, lead.user, False)
        try:
            assert count(alice, "SELECT count(*) FROM qc_coding") == 3
            assert count(alice, "SELECT count(*) FROM qc_consensus") == 1
            assert count(alice, "SELECT count(*) FROM qc_memo") == 7
            assert count(alice, "SELECT count(*) FROM qc_deid_term") == 0  # never the coders'
            assert count(alice, "SELECT count(*) FROM qc_access_token") == 0
        finally:
            with lead.transaction() as s:
                set_blinded(s, lead.user, True)
    assert count(alice, "SELECT count(*) FROM qc_coding") == 1
    # A coder cannot unblind through the application either.
    with Project(alice) as p, pytest.raises(Exception, match="for the lead"), p.transaction() as s:
        set_blinded(s, p.user, False)


def test_the_connection_says_who_is_acting(team):
    from qualcode.errors import BlindingError
    from qualcode.project import Project, open_project

    with open_project(team.urls["alice"]) as p:
        assert p.user == "alice"
        frame = p.codings()
        assert set(frame["coder"]) == {"alice"} and len(frame) == 1
        assert len(p.transcripts()) == 1 and len(p.segments()) == 5
    with pytest.raises(BlindingError, match="this connection is alice's"):
        Project(team.urls["alice"], user="lee")
    with Project(team.urls["alice"], user="alice") as p:
        assert p.user == "alice"
    with Project(team.owner, user="alice") as p:  # the owner reads every row anyway: may act for anyone
        assert p.user == "alice"
    with Project(team.owner) as p:
        assert p.user is None
