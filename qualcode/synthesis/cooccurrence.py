"""Code co-occurrence: how many segments carry both codes of each pair."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sqlmodel import Session

from ..table import Table
from .arrays import unique_inverse
from .layers import load_coded

if TYPE_CHECKING:
    import pandas as pd

MEASURES = ("count", "jaccard")


def cooccurrence(
    session: Session,
    *,
    codebook: str | None = None,
    layer: str | None = None,
    measure: str = "count",
    viewer: str | None = None,
) -> pd.DataFrame:
    """A symmetric code-by-code frame (codes by path, codebook order).

    ``count``: segments coded with both (the diagonal: with the code at all);
    ``jaccard``: both / either, 1 on the diagonal of any code that was used.
    Codes are counted as applied, without rolling up to parents.
    """
    import pandas as pd

    data = load_coded(session, codebook=codebook, layer=layer, viewer=viewer)
    code_ids = [c.id for c in data.tree.codes]
    position = data.tree.positions(data.codings.code_id)
    coded = position >= 0
    segments, seg_index = unique_inverse(data.codings.segment_id[coded])
    incidence = np.zeros((len(segments), len(code_ids)), dtype=np.int32)
    incidence[seg_index, position[coded]] = 1
    both = incidence.T @ incidence
    if measure == "jaccard":
        used = np.diag(both)
        either = used[:, None] + used[None, :] - both
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(either > 0, both / np.where(either > 0, either, 1), 0.0)
        result = pd.DataFrame(np.round(values, 3), dtype="float64")
    else:
        result = pd.DataFrame(both, dtype="int64")
    paths = [data.tree.by_id[cid].path for cid in code_ids]
    result.index, result.columns = paths, paths
    return result


def cooccurrence_table(frame: pd.DataFrame, measure: str) -> Table:
    what = "segments coded with both codes" if measure == "count" else "Jaccard index (both / either) over segments"
    return Table.from_frame(
        frame.reset_index().rename(columns={"index": "Code"}),
        title="Code Co-occurrence",
        note=f"Cells: {what}; the diagonal counts segments with the code.",
        label="tab:cooccurrence",
    )
