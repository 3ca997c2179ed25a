"""The CQR domain/category table: blocks and cases per category, with frequency labels.

Top-level codes are domains, their children categories (deeper codes are listed
under their category). A row counts the segments ("blocks") coded with the code or
any code beneath it, and the cases (of the chosen case unit) in which it occurs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlmodel import Session

from ..codebook.lookup import PATH_SEP
from ..export.table import Table
from .labels import MISCELLANEOUS, FrequencyRule, parse_rule
from .layers import CodedData, load_coded
from .units import CaseUnit, resolve_case_unit

ORDERS = ("codebook", "count")


@dataclass
class CqrTable:
    """The counted table. ``frame`` has one row per code, in display order, with columns
    code_id, depth, domain, category, path, blocks, cases, label, and one per group."""

    frame: pd.DataFrame
    unit: CaseUnit
    rule: FrequencyRule
    data: CodedData
    groups: list[str] = field(default_factory=list)
    group_unit: str | None = None
    # One row per (row code, segment) with the unit and group of the segment: the evidence.
    rolled: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def n_cases(self) -> int:
        return self.unit.n

    @property
    def miscellaneous(self) -> pd.DataFrame:
        return self.frame[self.frame["label"] == MISCELLANEOUS]

    def segment_ids(self, code_id: int, unit: str | None = None) -> list[int]:
        """The segments behind a row (optionally within one case): what every number counts."""
        rows = self.rolled[self.rolled["row_code_id"] == code_id]
        if unit is not None:
            rows = rows[rows["unit"] == unit]
        return sorted(int(s) for s in rows["segment_id"].unique())

    def cases_of(self, code_id: int) -> list[str]:
        rows = self.rolled[self.rolled["row_code_id"] == code_id]
        return [u for u in self.unit.universe if u in set(rows["unit"].dropna())]

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
        columns = ["Domain", "Category", "Blocks", "Cases", "Label"] + self.groups
        rows, group_rows = [], set()
        for row in body.itertuples(index=False):
            record = row._asdict()
            if row.depth == 0:
                group_rows.add(len(rows))
            rows.append([row.domain if row.depth == 0 else "", row.category, int(row.blocks), int(row.cases),
                         row.label] + [int(record[g]) for g in self.groups])
        return Table(
            columns=columns, rows=rows, group_rows=group_rows,
            title=f"Domains and Categories in {self.data.codebook.name}",
            caption=f"Number of blocks and of {self.unit.name} cases (N = {self.n_cases}) per category",
            note=self.note(), label="tab:cqr",
        )


def cqr_table(
    session: Session, *, codebook: str | None = None, layer: str | None = None, case_unit: str = "transcript",
    groups: str | None = None, labels: str | None = None, order: str = "codebook", viewer: str | None = None,
) -> CqrTable:
    """Count the CQR table from one layer; ``groups`` names a speaker or case attribute."""
    data = load_coded(session, codebook=codebook, layer=layer, viewer=viewer)
    unit = resolve_case_unit(session, case_unit)
    rule = parse_rule(labels)
    frame = data.frame
    frame = frame.assign(unit_index=unit.assign_index(frame))
    group_unit = resolve_case_unit(session, groups) if groups else None
    if group_unit is not None:
        frame = frame.assign(group=group_unit.assign(frame))
    rolled = data.tree.rollup(frame)

    grouped = rolled.groupby("row_code_id")
    counts = pd.DataFrame({"blocks": grouped.size(), "cases": grouped["unit_index"].nunique()})
    group_names: list[str] = []
    if group_unit is not None:
        group_names = list(group_unit.universe)
        by_group = rolled.groupby(["row_code_id", "group"]).size().unstack(fill_value=0)
        counts = counts.join(by_group.reindex(columns=group_names, fill_value=0))

    rows = []
    for code in data.tree.codes:
        domain_id = code.ancestors[-1]
        stats = counts.loc[code.id] if code.id in counts.index else None
        blocks = int(stats["blocks"]) if stats is not None else 0
        cases = int(stats["cases"]) if stats is not None else 0
        row = {
            "code_id": code.id, "depth": code.depth, "domain": data.tree.by_id[domain_id].name,
            "category": "" if code.depth == 0 else code.path.split(PATH_SEP, 1)[1],
            "path": code.path, "blocks": blocks, "cases": cases,
            "label": "" if code.depth == 0 else rule.label(cases, unit.n),
        }
        for g in group_names:
            row[g] = int(stats[g]) if stats is not None and pd.notna(stats[g]) else 0
        rows.append(row)
    table = pd.DataFrame(rows, columns=["code_id", "depth", "domain", "category", "path", "blocks", "cases", "label"]
                         + group_names)
    if order == "count":
        table = _order_by_count(table, data)
    rolled = rolled.assign(unit=rolled["unit_index"].map(dict(enumerate(unit.universe))))
    return CqrTable(table.reset_index(drop=True), unit, rule, data, group_names,
                    groups, rolled[["row_code_id", "segment_id", "unit"]])


def _order_by_count(table: pd.DataFrame, data: CodedData) -> pd.DataFrame:
    """Siblings by cases, then blocks (most first), codebook order breaking ties; children stay under parents."""
    stats = table.set_index("code_id")
    children: dict[int | None, list[int]] = {}
    for code in data.tree.codes:
        children.setdefault(code.parent_id, []).append(code.id)
    ordered: list[int] = []

    def walk(parent_id: int | None) -> None:
        kids = sorted(children.get(parent_id, []),
                      key=lambda cid: (-stats.at[cid, "cases"], -stats.at[cid, "blocks"], data.tree.order[cid]))
        for cid in kids:
            ordered.append(cid)
            walk(cid)

    walk(None)
    return stats.loc[ordered].reset_index()
