"""A codebook as an ordered tree, and rolling codings up to every ancestor code."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from ..codebook.lookup import PATH_SEP
from ..store.models import Code, Codebook


@dataclass(frozen=True)
class TreeCode:
    id: int
    name: str
    key: str | None
    path: str
    depth: int  # 0 for a top-level code (a CQR domain)
    parent_id: int | None
    ancestors: tuple[int, ...]  # the code itself first, then its parent, ...


class CodeTree:
    """The live (not retired) codes of one codebook in codebook order: depth first, by position."""

    def __init__(self, session: Session, codebook: Codebook):
        self.codebook = codebook
        codes = list(session.exec(
            select(Code).where(Code.codebook_id == codebook.id, Code.status != "retired")
        ).scalars())
        children: dict[int | None, list[Code]] = {}
        for code in codes:
            children.setdefault(code.parent_id, []).append(code)
        self.codes: list[TreeCode] = []

        def walk(parent_id: int | None, prefix: str, depth: int, ancestors: tuple[int, ...]) -> None:
            for code in sorted(children.get(parent_id, []), key=lambda c: (c.position, c.id)):
                path = prefix + code.name
                chain = (code.id,) + ancestors
                self.codes.append(TreeCode(code.id, code.name, code.key, path, depth, parent_id, chain))
                walk(code.id, path + PATH_SEP, depth + 1, chain)

        walk(None, "", 0, ())
        self.by_id = {c.id: c for c in self.codes}
        self.order = {c.id: i for i, c in enumerate(self.codes)}

    def subtree(self, code_id: int) -> set[int]:
        """``code_id`` and all its descendants."""
        return {c.id for c in self.codes if code_id in c.ancestors}

    def ancestor_pairs(self) -> pd.DataFrame:
        """One row per (code_id, row_code_id) where row_code_id is the code or one of its ancestors."""
        pairs = [(c.id, a) for c in self.codes for a in c.ancestors]
        return pd.DataFrame(pairs, columns=["code_id", "row_code_id"])

    def rollup(self, codings: pd.DataFrame) -> pd.DataFrame:
        """Codings counted for their code and every ancestor, once per (row code, segment).

        A segment coded with two categories of one domain counts once for the domain.
        """
        rolled = codings.merge(self.ancestor_pairs(), on="code_id", how="inner")
        return rolled.drop_duplicates(["row_code_id", "segment_id"], ignore_index=True)
