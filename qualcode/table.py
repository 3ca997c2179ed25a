"""The one table model every command and export writer shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Table:
    """A manuscript-ready table: a header row, body rows, and the words around them.

    ``title`` is the APA title ("Domains and Categories ..."), ``number`` the table
    number, ``caption`` an optional italic caption, ``note`` the table note, ``label``
    the LaTeX label. ``formats`` sets per-column number formats for the human formats.
    ``group_rows`` optionally marks rows that start a group (e.g. a CQR
    domain row) by index, for writers that set them apart.
    """

    columns: list[str]
    rows: list[list[Any]]
    title: str = ""
    number: int | None = None
    caption: str = ""
    note: str = ""
    label: str = ""
    group_rows: set[int] = field(default_factory=set)
    formats: dict[str, str] = field(default_factory=dict)  # column -> format spec (".3f"), "*" for all floats

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, **kw: Any) -> Table:
        import pandas as pd

        rows = [
            [None if (isinstance(v, float) and pd.isna(v)) else v for v in row] for row in frame.itertuples(index=False)
        ]
        return cls(columns=[str(c) for c in frame.columns], rows=rows, **kw)
