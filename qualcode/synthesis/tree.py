"""A codebook as an ordered tree, and rolling codings up to every ancestor code."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, select

from ..codebook.lookup import PATH_SEP
from ..store.ids import require_id
from ..store.models import Code, Codebook
from .arrays import Codings, IdMap, count_pairs, unique_pairs


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
        codes = list(session.exec(select(Code).where(Code.codebook_id == codebook.id, Code.status != "retired")))
        children: dict[int | None, list[Code]] = {}
        for code in codes:
            children.setdefault(code.parent_id, []).append(code)
        self.codes: list[TreeCode] = []

        def walk(parent_id: int | None, prefix: str, depth: int, ancestors: tuple[int, ...]) -> None:
            for code in sorted(children.get(parent_id, []), key=lambda c: (c.position, c.id)):
                path = prefix + code.name
                code_id = require_id(code)
                chain = (code_id,) + ancestors
                self.codes.append(TreeCode(code_id, code.name, code.key, path, depth, parent_id, chain))
                walk(code_id, path + PATH_SEP, depth + 1, chain)

        walk(None, "", 0, ())
        self.by_id = {c.id: c for c in self.codes}
        self.order = {c.id: i for i, c in enumerate(self.codes)}

    def subtree(self, code_id: int) -> set[int]:
        """``code_id`` and all its descendants."""
        return {c.id for c in self.codes if code_id in c.ancestors}

    def positions(self, code_ids: np.ndarray) -> np.ndarray:
        """Each code's position in ``codes`` (-1 for a code outside the tree, such as a retired one)."""
        return IdMap(list(self.order), list(self.order.values()), missing=-1).lookup(code_ids)

    def rollup(self, codings: Codings) -> Rolled:
        """Codings counted for their code and every ancestor, once per (row code, segment).

        A segment coded with two categories of one domain counts once for the domain.
        """
        position = self.positions(codings.code_id)
        source = np.flatnonzero(position >= 0)
        position = position[source]
        chains = [[self.order[a] for a in c.ancestors] for c in self.codes]
        lengths = np.array([len(chain) for chain in chains], dtype=np.int64)
        starts = np.cumsum(lengths) - lengths
        flat = np.array([p for chain in chains for p in chain], dtype=np.int64)
        # One entry per (coding, ancestor): repeat each coding once per code in its chain.
        repeats = lengths[position]
        step = np.arange(repeats.sum()) - np.repeat(np.cumsum(repeats) - repeats, repeats)
        row = flat[np.repeat(starts[position], repeats) + step]
        source = np.repeat(source, repeats)
        return Rolled(self, *unique_pairs(row, codings.segment_id[source]), codings)


@dataclass
class Rolled:
    """Codings rolled up to their row codes, one entry per (row code, segment), sorted by both.

    ``row`` is the row code's position in ``tree.codes``; ``codings`` the layer's codings,
    which give each segment's transcript, speaker and case.
    """

    tree: CodeTree
    row: np.ndarray
    segment_id: np.ndarray
    codings: Codings

    def column(self, name: str) -> np.ndarray:
        """A segment column of ``Codings`` (transcript_id, speaker_id, case_id) for each entry."""
        return IdMap(self.codings.segment_id, getattr(self.codings, name)).lookup(self.segment_id)

    @property
    def row_code_id(self) -> np.ndarray:
        return np.array([c.id for c in self.tree.codes], dtype=np.int64)[self.row]

    def of_code(self, code_id: int) -> np.ndarray:
        """A mask of the entries counted for ``code_id`` (all False for a code outside the tree)."""
        return self.row == self.tree.order.get(code_id, -1)

    def per_row(self) -> np.ndarray:
        """How many entries (segments) each row code has, in tree order."""
        return np.bincount(self.row, minlength=len(self.tree.codes))

    def per_row_and(self, column: np.ndarray, width: int) -> np.ndarray:
        """Segments per (row code, column value) as a rows x ``width`` matrix; -1 in ``column`` is skipped."""
        return count_pairs(self.row, column, len(self.tree.codes), width)
