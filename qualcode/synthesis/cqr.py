"""The CQR domain/category table: blocks and cases per category, with frequency labels.

Top-level codes are domains, their children categories (deeper codes are listed
under their category). A row counts the segments ("blocks") coded with the code or
any code beneath it, and the cases (of the chosen case unit) in which it occurs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sqlmodel import Session

from ..codebook.lookup import PATH_SEP
from ..codebook.queries import default_codebook_in
from ..errors import QualcodeError
from ..table import Table
from .arrays import distinct_per_group, sorted_unique
from .labels import MISCELLANEOUS, FrequencyRule, parse_rule
from .layers import CodedData, load_coded
from .tree import Rolled
from .units import CaseUnit, resolve_case_unit

if TYPE_CHECKING:
    import pandas as pd

ORDERS = ("codebook", "count")


@dataclass
class CqrTable:
    """The counted table. ``frame`` has one row per code, in display order, with columns
    code_id, depth, domain, category, path, blocks, cases, label, and one per group."""

    frame: pd.DataFrame
    unit: CaseUnit
    rule: FrequencyRule
    data: CodedData
    # The (row code, segment) entries with each one's unit position: the evidence, kept as arrays.
    rolled: Rolled = field(repr=False)
    unit_positions: np.ndarray = field(repr=False)
    groups: list[str] = field(default_factory=list)
    group_unit: str | None = None
    group_positions: np.ndarray | None = field(default=None, repr=False)  # each entry's group (-1: none)

    @property
    def n_cases(self) -> int:
        return self.unit.n

    @property
    def miscellaneous(self) -> pd.DataFrame:
        return self.frame[self.frame["label"] == MISCELLANEOUS]

    def _entries(self, code_id: int | None = None, unit: str | None = None, group: str | None = None) -> np.ndarray:
        """A mask of the rolled-up entries of one row (all rows if None), optionally within one case or group."""
        mask = np.ones(len(self.rolled.row), dtype=bool) if code_id is None else self.rolled.of_code(code_id)
        if unit is not None:
            mask &= np.isin(self.unit_positions, [i for i, u in enumerate(self.unit.universe) if u == unit])
        if group is not None:
            if group not in self.groups or self.group_positions is None:  # no groups, no positions
                raise QualcodeError(f"no group column {group!r} (the table has: {', '.join(self.groups) or 'none'})")
            mask &= self.group_positions == self.groups.index(group)
        return mask

    def segment_ids(self, code_id: int, unit: str | None = None, group: str | None = None) -> list[int]:
        """The segments behind a row, or behind one of its group columns: what every number counts."""
        return self.rolled.segment_id[self._entries(code_id, unit, group)].tolist()  # sorted within a row

    def cases_of(self, code_id: int) -> list[str]:
        present = sorted_unique(self.unit_positions[self._entries(code_id)])
        return [self.unit.universe[i] for i in present if i >= 0]

    def evidence(self, code_id: int | None = None, unit: str | None = None, group: str | None = None) -> pd.DataFrame:
        """(row_code_id, segment_id, unit[, group]) of every entry behind the table, a row, a case or a group."""
        import pandas as pd

        mask = self._entries(code_id, unit, group)
        labels = np.array(list(self.unit.universe) + [None], dtype=object)  # position -1 -> no unit
        frame = pd.DataFrame(
            {
                "row_code_id": self.rolled.row_code_id[mask],
                "segment_id": self.rolled.segment_id[mask],
                "unit": labels[self.unit_positions[mask]],
            }
        )
        if self.groups and self.group_positions is not None:
            names = np.array(self.groups + [None], dtype=object)
            frame["group"] = names[self.group_positions[mask]]
        return frame

    def note(self) -> str:
        parts = [
            f"Blocks = segments coded with the category (or a code beneath it) in the {self.data.layer.description}; "
            f"cases = {self.unit.name} units in which it occurs (N = {self.n_cases}).",
            self.rule.describe(self.n_cases),
        ]
        if self.groups:
            parts.append(f"Columns {', '.join(self.groups)}: blocks from each {self.group_unit}.")
        misc = self.miscellaneous
        if len(misc):
            items = "; ".join(
                f"{row.path} ({', '.join(self.cases_of(row.code_id))}; {row.blocks} "
                f"{'block' if row.blocks == 1 else 'blocks'})"
                for row in misc.itertuples()
            )
            parts.append(f"Miscellaneous (single case): {items}.")
        return " ".join(parts)

    def table(self) -> Table:
        """The manuscript table; single-case categories move to the note."""
        body = self.frame[self.frame["label"] != MISCELLANEOUS]
        labelled = not self.rule.labels_off
        columns = ["Domain", "Category", "Blocks", "Cases"] + (["Label"] if labelled else []) + self.groups
        rows: list[list[object]] = []
        group_rows: set[int] = set()
        for row in body.itertuples(index=False):
            record = row._asdict()
            if row.depth == 0:
                group_rows.add(len(rows))
            rows.append(
                [row.domain if row.depth == 0 else "", row.category, int(row.blocks), int(row.cases)]
                + ([row.label] if labelled else [])
                + [int(record[g]) for g in self.groups]
            )
        return Table(
            columns=columns,
            rows=rows,
            group_rows=group_rows,
            title=f"Domains and Categories in {self.data.codebook.name}",
            caption=f"Number of blocks and of {self.unit.name} cases (N = {self.n_cases}) per category",
            note=self.note(),
            label="tab:cqr",
        )


def cqr_table(
    session: Session,
    *,
    codebook: str | None = None,
    layer: str | None = None,
    case_unit: str = "transcript",
    groups: str | None = None,
    labels: str | None = None,
    order: str = "codebook",
    viewer: str | None = None,
) -> CqrTable:
    """Count the CQR table from one layer; ``groups`` names a speaker or case attribute. Without
    ``codebook``, the project's CQR codebook (the active one first), as the workbench chooses."""
    import pandas as pd

    data = load_coded(session, codebook=codebook or default_codebook_in(session), layer=layer, viewer=viewer)
    unit = resolve_case_unit(session, case_unit)
    rule = parse_rule(labels)
    rolled = data.tree.rollup(data.codings)
    unit_positions = unit.positions(rolled)
    blocks = rolled.per_row()
    cases = distinct_per_group(rolled.row, unit_positions, len(data.tree.codes))
    group_unit = resolve_case_unit(session, groups) if groups else None
    group_names = list(group_unit.universe) if group_unit is not None else []
    group_positions = group_unit.positions(rolled) if group_unit is not None else None
    by_group = (  # codes x groups (no columns without groups)
        rolled.per_row_and(group_positions, len(group_names))
        if group_positions is not None
        else np.zeros((len(data.tree.codes), 0), dtype=np.int64)
    )

    rows: list[dict[str, int | str]] = []
    for i, code in enumerate(data.tree.codes):
        domain_id = code.ancestors[-1]
        row: dict[str, int | str] = {
            "code_id": code.id,
            "depth": code.depth,
            "domain": data.tree.by_id[domain_id].name,
            "category": "" if code.depth == 0 else code.path.split(PATH_SEP, 1)[1],
            "path": code.path,
            "blocks": int(blocks[i]),
            "cases": int(cases[i]),
            "label": "" if code.depth == 0 else rule.label(int(cases[i]), unit.n),
        }
        for j, g in enumerate(group_names):
            row[g] = int(by_group[i, j])
        rows.append(row)
    table = pd.DataFrame(
        rows, columns=["code_id", "depth", "domain", "category", "path", "blocks", "cases", "label"] + group_names
    )
    if order == "count":
        table = _order_by_count(table, data)
    return CqrTable(
        table.reset_index(drop=True),
        unit,
        rule,
        data,
        rolled=rolled,
        unit_positions=unit_positions,
        groups=group_names,
        group_unit=groups,
        group_positions=group_positions,
    )


def _order_by_count(table: pd.DataFrame, data: CodedData) -> pd.DataFrame:
    """Siblings by cases, then blocks (most first), codebook order breaking ties; children stay under parents."""
    stats = table.set_index("code_id")
    children: dict[int | None, list[int]] = {}
    for code in data.tree.codes:
        children.setdefault(code.parent_id, []).append(code.id)
    ordered: list[int] = []

    def walk(parent_id: int | None) -> None:
        kids = sorted(
            children.get(parent_id, []),
            key=lambda cid: (-stats.at[cid, "cases"], -stats.at[cid, "blocks"], data.tree.order[cid]),
        )
        for cid in kids:
            ordered.append(cid)
            walk(cid)

    walk(None)
    return stats.loc[ordered].reset_index()
