"""How a code looks on screen: a short chip label and a colour (the codebook's, or a stable default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rich.color import Color, ColorParseError
from rich.style import Style

# Used for codes without a colour in the codebook, in codebook order.
DEFAULT_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


class ShownCode(Protocol):
    """What the workbench shows of a code: the codes ``TranscriptWork`` hands out have these."""

    @property
    def id(self) -> int | None: ...
    @property
    def parent_id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def key(self) -> str | None: ...
    @property
    def color(self) -> str | None: ...
    @property
    def hotkey(self) -> str | None: ...
    @property
    def applicable(self) -> bool: ...
    @property
    def brief(self) -> str: ...
    @property
    def definition(self) -> str: ...
    @property
    def inclusion(self) -> str: ...
    @property
    def exclusion(self) -> str: ...
    @property
    def example(self) -> str: ...


@dataclass(frozen=True)
class CodeLook:
    label: str
    colour: str
    chip: Style  # the code's colour behind readable text
    quote: Style  # a quote span narrowed to this code

    @property
    def swatch(self) -> Style:
        return Style(color=self.colour)


def _readable_on(colour: str) -> str:
    r, g, b = Color.parse(colour).get_truecolor()
    return "#000000" if (0.299 * r + 0.587 * g + 0.114 * b) > 140 else "#ffffff"


def chip_label(code: ShownCode, limit: int = 14) -> str:
    if code.key:
        return code.key
    return code.name if len(code.name) <= limit else code.name[: limit - 1] + "…"


def code_looks(codes: list[ShownCode]) -> dict[int, CodeLook]:
    looks = {}
    for i, code in enumerate(codes):
        colour = code.color or DEFAULT_COLOURS[i % len(DEFAULT_COLOURS)]
        try:
            Color.parse(colour)
        except ColorParseError:  # a malformed colour in an imported codebook: fall back, do not crash
            colour = DEFAULT_COLOURS[i % len(DEFAULT_COLOURS)]
        looks[code.id] = CodeLook(
            label=chip_label(code),
            colour=colour,
            chip=Style(color=_readable_on(colour), bgcolor=colour, bold=True),
            quote=Style(underline=True, color=colour, bold=True),
        )
    return looks
