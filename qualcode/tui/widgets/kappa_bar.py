"""A kappa drawn as a text bar, coloured by its Landis & Koch band."""

from __future__ import annotations

from rich.text import Text

EIGHTHS = " ▏▎▍▌▋▊▉"

# Band label (as ``qualcode.agreement.statistics.landis_koch`` names it) -> colour.
BAND_COLOURS = {
    "poor": "bold red",
    "slight": "red",
    "fair": "dark_orange",
    "moderate": "yellow",
    "substantial": "green",
    "almost perfect": "bold green",
}


def band_colour(label: str | None) -> str:
    return BAND_COLOURS.get(label or "", "dim")


def kappa_bar(value: float | None, band: str | None, width: int = 20) -> Text:
    """``width`` cells filled in proportion to ``value`` (0..1, in eighths of a cell).

    Negative kappas draw an empty bar (their band, "poor", still colours the frame);
    undefined ones (a code nobody used) show "n/a".
    """
    if value is None:
        return Text("n/a".ljust(width), style="dim")
    eighths = round(max(0.0, min(1.0, value)) * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (EIGHTHS[part] if part else "")
    text = Text(bar, style=band_colour(band))
    text.append("·" * (width - len(bar)), style="dim")
    return text


def format_stat(value: float | None) -> str:
    """Two decimals, or a dash for an undefined statistic.

    A value that two decimals would show as zero keeps a third (-0.003, 0.002), so its sign, and
    with it the Landis & Koch band beside it (poor below 0, slight from 0), can be read; "-0.00"
    never shows.
    """
    if value is None:
        return "–"
    if round(value, 2) == 0 and round(value, 3) != 0:
        return f"{value:.3f}"
    return f"{round(value, 2) + 0.0:.2f}"  # + 0.0 turns -0.0 into 0.0
