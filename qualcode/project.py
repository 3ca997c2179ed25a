"""The project object: one handle on a study, for the CLI, the TUI and notebooks.

>>> import qualcode
>>> p = qualcode.open_project("study.db")          # or "postgresql://host/db"
>>> p.transcripts()                                  # pandas frames out
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, overload

from sqlalchemy import func
from sqlmodel import Session, col, select

from .errors import ProjectError, QualcodeError
from .store import migrations
from .store.engine import database_url, is_url, make_engines, redacted, scrub, sqlite_is_read_only
from .store.ids import wide_select
from .store.models import Case, CaseAttribute, Code, Coder, Coding, Meta, Segment, Speaker, Transcript

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_PROJECT = "qualcode.db"


def default_target() -> str:
    return os.environ.get("QUALCODE_PROJECT") or DEFAULT_PROJECT


class Project:
    """A qualcode project in SQLite or PostgreSQL.

    ``user`` is who is looking (a coder's name): blinding decides what they see. ``read_only``
    opens it for reading only (every read works, a write is refused in one line); a project file
    this process cannot write (no permission, read-only media) is opened so by itself.
    """

    def __init__(
        self,
        target: str | os.PathLike,
        *,
        create: bool = False,
        upgrade: bool = True,
        user: str | None = None,
        read_only: bool = False,
    ):
        self.target = str(target)
        self._user: str | None = None
        self.read_only = read_only or (not is_url(self.target) and sqlite_is_read_only(Path(self.target).expanduser()))
        if not is_url(self.target):
            path = Path(self.target).expanduser()
            if path.is_dir():
                raise ProjectError(f"{path}: is a directory, not a project file")
            if not path.exists():
                if not create:
                    raise ProjectError(f"{path}: no project here (create one with `qualcode init {path}`)")
                if not path.parent.exists():
                    raise ProjectError(f"{path.parent}: folder does not exist")
        try:
            self.url = database_url(self.target)
            self.write_engine, self.read_engine = make_engines(self.target, read_only=self.read_only)
        except Exception as exc:  # a URL that does not parse, a missing driver
            raise self._cannot_open(exc) from None
        try:
            self._open(create=create, upgrade=upgrade)
            self.user = user  # checked: a coder bound to a login (or a PostgreSQL role) is claimed only from it
        except BaseException:
            self.close()  # no pool (nor SQLite's -wal/-shm files) outlives a refused open
            raise

    def _cannot_open(self, exc: Exception) -> ProjectError:
        reason = scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, self.target)
        return ProjectError(f"{self.shown_target}: cannot open project ({reason})")

    def _open(self, *, create: bool, upgrade: bool) -> None:
        try:
            # Look through the reading engine: on SQLite its deferred BEGIN never queues behind a writer's
            # lock, so opening (status, agreement, the workbench) does not wait for a long import.
            version = migrations.read_version(self.read_engine)
        except QualcodeError:
            raise
        except Exception as exc:  # driver errors: unreachable server, not a database file
            raise self._cannot_open(exc) from None
        if version is None:
            if not create:
                raise ProjectError(f"{self.shown_target}: empty database (create the project with `qualcode init`)")
            self._refuse_if_read_only("cannot create a project in it")
            migrations.create_schema(self.write_engine)
        else:
            if upgrade and version < migrations.SCHEMA_VERSION:
                self._refuse_if_read_only(f"its schema version {version} needs upgrading by someone who can write it")
            migrations.upgrade(self.write_engine, allow=upgrade, found=version)  # the write lock only to upgrade

    @property
    def shown_target(self) -> str:
        """The project's file or URL as shown to a user: a URL's password is ``***``."""
        return redacted(self.target)

    @property
    def user(self) -> str | None:
        """Who is looking (a coder's name); blinding decides what they see."""
        return self._user

    @user.setter
    def user(self, name: str | None) -> None:
        """Claim to be ``name``: checked against its login; on PostgreSQL a connection bound to a
        coder (``qualcode server add-coder``) is that coder, and a claim to be anyone else is refused."""
        if name or self.read_engine.dialect.name == "postgresql":
            from .coding.identity import acting_coder

            with self.read() as s:
                name = acting_coder(s, name)
        self._user = name

    # -- sessions -------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed."""
        with Session(self.read_engine, expire_on_commit=False) as session:
            yield session

    def _refuse_if_read_only(self, why: str = "") -> None:
        if self.read_only:
            raise ProjectError(f"project is read-only: {self.shown_target}" + (f" ({why})" if why else ""))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write transaction: committed whole at the end, rolled back whole on any error."""
        self._refuse_if_read_only()
        with Session(self.write_engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- meta -----------------------------------------------------------------------------
    @overload
    def get_meta(self, key: str, default: str) -> str: ...
    @overload
    def get_meta(self, key: str, default: None = None) -> str | None: ...
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.read() as s:
            row = s.get(Meta, key)
            return row.value if row else default

    def schema_version(self) -> int:
        return int(self.get_meta("schema_version", "0"))

    # -- frames for notebooks -------------------------------------------------------------
    def _frame(self, stmt) -> pd.DataFrame:
        import pandas as pd  # only the notebook API needs it: commands and the workbench start without it

        with self.read_engine.connect() as conn:
            return pd.read_sql(stmt, conn)

    def cases(self) -> pd.DataFrame:
        return self._frame(select(Case.id, Case.name, Case.description).order_by(col(Case.name)))

    def case_attributes(self) -> pd.DataFrame:
        """Long form: one row per case and attribute (``number`` holds numeric values)."""
        stmt = (
            wide_select(
                col(Case.name).label("case"),
                col(CaseAttribute.name),
                col(CaseAttribute.type),
                col(CaseAttribute.value),
                col(CaseAttribute.number),
            )
            .join(Case, col(Case.id) == CaseAttribute.case_id)
            .order_by(col(Case.name), col(CaseAttribute.name))
        )
        return self._frame(stmt)

    def transcripts(self) -> pd.DataFrame:
        seg_count = (
            select(Segment.transcript_id, func.count().label("segments"))
            .group_by(col(Segment.transcript_id))
            .subquery()
        )
        spk_count = (
            select(Speaker.transcript_id, func.count().label("speakers"))
            .group_by(col(Speaker.transcript_id))
            .subquery()
        )
        stmt = (
            wide_select(
                col(Transcript.id),
                col(Transcript.title),
                col(Case.name).label("case"),
                col(Transcript.kind),
                col(Transcript.date),
                col(Transcript.source_name),
                col(Transcript.unit),
                seg_count.c.segments,
                spk_count.c.speakers,
            )
            .outerjoin(Case, col(Case.id) == Transcript.case_id)
            .outerjoin(seg_count, seg_count.c.transcript_id == Transcript.id)
            .outerjoin(spk_count, spk_count.c.transcript_id == Transcript.id)
            .order_by(col(Case.name), col(Transcript.title))
        )
        df = self._frame(stmt)
        for column in ("segments", "speakers"):
            df[column] = df[column].fillna(0).astype(int)
        return df

    def speakers(self) -> pd.DataFrame:
        stmt = (
            wide_select(
                col(Speaker.id),
                col(Transcript.title).label("transcript"),
                col(Speaker.label),
                col(Speaker.role),
                col(Speaker.pseudonym),
            )
            .join(Transcript, col(Transcript.id) == Speaker.transcript_id)
            .order_by(col(Transcript.title), col(Speaker.label))
        )
        return self._frame(stmt)

    def segments(self, transcript: str | int | None = None) -> pd.DataFrame:
        """Segments with their text (sliced from the stored transcript)."""
        stmt = (
            wide_select(
                col(Segment.id),
                col(Segment.transcript_id),
                col(Transcript.title).label("transcript"),
                col(Case.name).label("case"),
                col(Segment.position),
                col(Segment.start),
                col(Segment.end),
                col(Speaker.label).label("speaker"),
                col(Speaker.role),
                col(Segment.unit),
                col(Segment.time_start),
                col(Segment.time_end),
            )
            .join(Transcript, col(Transcript.id) == Segment.transcript_id)
            .outerjoin(Case, col(Case.id) == Transcript.case_id)
            .outerjoin(Speaker, col(Speaker.id) == Segment.speaker_id)
            .order_by(col(Case.name), col(Transcript.title), col(Segment.position))
        )
        if isinstance(transcript, int):
            stmt = stmt.where(Transcript.id == transcript)
        elif transcript is not None:
            stmt = stmt.where(Transcript.title == transcript)
        df = self._frame(stmt)
        texts: dict[int, str] = {}
        with self.read() as s:
            for tid in df["transcript_id"].unique().tolist():
                texts[int(tid)] = s.get_one(Transcript, int(tid)).text
        df["text"] = [texts[t][a:b] for t, a, b in zip(df["transcript_id"], df["start"], df["end"])]
        return df

    def codings(self, round: int | None = None) -> pd.DataFrame:
        """Codings visible to ``self.user`` (blinding applies; see ``qualcode.coding.blinding``)."""
        from .coding.blinding import visible_coder_ids

        stmt = (
            wide_select(
                col(Coding.id),
                col(Transcript.title).label("transcript"),
                col(Segment.position).label("segment"),
                col(Coder.name).label("coder"),
                col(Code.name).label("code"),
                col(Coding.round),
                col(Coding.quote_start),
                col(Coding.quote_end),
            )
            .join(Segment, col(Segment.id) == Coding.segment_id)
            .join(Transcript, col(Transcript.id) == Segment.transcript_id)
            .join(Coder, col(Coder.id) == Coding.coder_id)
            .join(Code, col(Code.id) == Coding.code_id)
            .order_by(col(Transcript.title), col(Segment.position), col(Coder.name), col(Code.name))
        )
        if round is not None:
            stmt = stmt.where(Coding.round == round)
        with self.read() as s:
            visible = visible_coder_ids(s, self.user)
        if visible is not None:
            stmt = stmt.where(col(Coding.coder_id).in_(visible))
        return self._frame(stmt)


def open_project(target: str | os.PathLike | None = None, *, create: bool = False, user: str | None = None) -> Project:
    """Open a project file or database URL (default ``$QUALCODE_PROJECT`` or ``./qualcode.db``)."""
    return Project(target or default_target(), create=create, user=user)
