"""Find codes by name or by path (``Domain > Category``) in a stored codebook."""

from __future__ import annotations

from sqlmodel import Session, select

from ..errors import QualcodeError
from ..store.ids import require_id
from ..store.models import Code, Codebook

PATH_SEP = " > "


def get_codebook(session: Session, name: str | None = None) -> Codebook:
    """The named codebook (exact name, else a unique case-insensitive prefix), or the active one."""
    if name:
        books = list(session.exec(select(Codebook)))
        exact = [cb for cb in books if cb.name == name] or [cb for cb in books if cb.name.casefold() == name.casefold()]
        hits = exact or [cb for cb in books if cb.name.casefold().startswith(name.casefold())]
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise QualcodeError(f"codebook {name!r} is ambiguous: {', '.join(sorted(cb.name for cb in hits))}")
        raise QualcodeError(f"unknown codebook {name!r} (see `qualcode codebook list`)")
    cb = session.exec(select(Codebook).where(Codebook.active == True)).first()  # noqa: E712
    if cb is None:
        raise QualcodeError("no active codebook (load one with `qualcode codebook load FILE`)")
    return cb


def code_paths(codes: list[Code]) -> dict[int, str]:
    """Map each code id to its full path, e.g. ``Barriers to collaboration > Lack of buy-in``."""
    by_id = {c.id: c for c in codes}
    paths: dict[int, str] = {}

    def path(code: Code) -> str:
        code_id = require_id(code)
        if code_id in paths:
            return paths[code_id]
        parent = by_id.get(code.parent_id) if code.parent_id else None
        p = code.name if parent is None else path(parent) + PATH_SEP + code.name
        paths[code_id] = p
        return p

    for c in codes:
        path(c)
    return paths


class CodeResolver:
    """Resolve names (where unique) and paths to codes of one codebook, active codes first."""

    def __init__(self, session: Session, codebook: Codebook, include_retired: bool = False):
        stmt = select(Code).where(Code.codebook_id == codebook.id)
        self.codes = list(session.exec(stmt))
        self.by_id = {c.id: c for c in self.codes}
        self.paths = code_paths(self.codes)
        live = [c for c in self.codes if include_retired or c.status == "active"]
        self.by_path = {self.paths[require_id(c)].casefold(): c for c in live}
        self.by_name: dict[str, list[Code]] = {}
        for c in live:
            self.by_name.setdefault(c.name.casefold(), []).append(c)
            if c.key:
                self.by_name.setdefault(c.key.casefold(), []).append(c)

    def find(self, text: str) -> Code | None:
        """The code called ``text`` (a unique name or key, or a path); ``None`` if not found."""
        key = text.strip().casefold()
        if key in self.by_path:
            return self.by_path[key]
        hits = self.by_name.get(key, [])
        return hits[0] if len(hits) == 1 else None

    def resolve(self, text: str) -> Code:
        """Like ``find``, but explains why it failed."""
        code = self.find(text)
        if code is not None:
            return code
        hits = self.by_name.get(text.strip().casefold(), [])
        if len(hits) > 1:
            options = ", ".join(sorted(self.paths[require_id(c)] for c in hits))
            raise QualcodeError(f"code name {text!r} is ambiguous; use its path: {options}")
        raise QualcodeError(f"unknown code {text!r}")

    def path(self, code: Code | int) -> str:
        return self.paths[code if isinstance(code, int) else require_id(code)]
