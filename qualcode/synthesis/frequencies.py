"""Code frequencies by case: segments coded with each code (and codes beneath it) per case unit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session

from ..table import Table
from .layers import load_coded
from .units import resolve_case_unit

if TYPE_CHECKING:
    import pandas as pd


def code_frequencies(
    session: Session,
    *,
    codebook: str | None = None,
    layer: str | None = None,
    case_unit: str = "case",
    viewer: str | None = None,
) -> pd.DataFrame:
    """Codes (rows, by path, codebook order) by units (columns), plus a Total column."""
    import pandas as pd

    data = load_coded(session, codebook=codebook, layer=layer, viewer=viewer)
    unit = resolve_case_unit(session, case_unit)
    rolled = data.tree.rollup(data.codings)
    counts = pd.DataFrame(
        rolled.per_row_and(unit.positions(rolled), unit.n),
        index=[c.path for c in data.tree.codes],
        columns=unit.universe,
    )
    counts["Total"] = rolled.per_row()
    counts.columns.name = unit.name
    return counts.astype("int64")


def frequencies_table(frame: pd.DataFrame, layer_description: str = "") -> Table:
    out = frame.reset_index().rename(columns={"index": "Code"})
    return Table.from_frame(
        out,
        title="Code Frequencies by Case",
        note=f"Segments coded with each code (or a code beneath it) per {frame.columns.name}"
        + (f", {layer_description}" if layer_description else "")
        + "; Total counts each segment once.",
        label="tab:frequencies",
    )
