"""Code frequencies by case: segments coded with each code (and codes beneath it) per case unit."""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session

from ..export.table import Table
from .layers import load_coded
from .units import resolve_case_unit


def code_frequencies(session: Session, *, codebook: str | None = None, layer: str | None = None,
                     case_unit: str = "case", viewer: str | None = None) -> pd.DataFrame:
    """Codes (rows, by path, codebook order) by units (columns), plus a Total column."""
    data = load_coded(session, codebook=codebook, layer=layer, viewer=viewer)
    unit = resolve_case_unit(session, case_unit)
    rolled = data.tree.rollup(data.frame.assign(unit=unit.assign(data.frame)))
    counts = rolled.groupby(["row_code_id", "unit"]).size().unstack(fill_value=0)
    counts = counts.reindex(index=[c.id for c in data.tree.codes], columns=unit.universe, fill_value=0)
    counts["Total"] = rolled.groupby("row_code_id").size().reindex(counts.index, fill_value=0)
    counts.index = [data.tree.by_id[cid].path for cid in counts.index]
    counts.columns.name = unit.name
    return counts.astype("int64")


def frequencies_table(frame: pd.DataFrame, layer_description: str = "") -> Table:
    out = frame.reset_index().rename(columns={"index": "Code"})
    return Table.from_frame(
        out, title="Code Frequencies by Case",
        note=f"Segments coded with each code (or a code beneath it) per {frame.columns.name}"
             + (f", {layer_description}" if layer_description else "") + "; Total counts each segment once.",
        label="tab:frequencies",
    )
