"""Plots people would rather look at than read: a cases x codes heatmap and per-code bars.

Figures are drawn on matplotlib's object API (no pyplot, so no display and no global
state); the file type follows the path's suffix, PNG or SVG.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import QualcodeError

# matplotlib and pandas load only when a figure is drawn: importing this module (plot_format) stays cheap.
if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

PLOT_FORMATS = {".png": "png", ".svg": "svg"}
DPI = 150
# Counts are written in the cells only while they stay legible.
ANNOTATE_MAX_CELLS = 400
LABEL_WRAP = 28


def plot_format(path: str | Path) -> str:
    """``png`` or ``svg`` from the path's suffix; anything else, or a missing folder, is a user error."""
    from .writers import output_path

    suffix = Path(path).suffix.lower()
    if suffix not in PLOT_FORMATS:
        raise QualcodeError(f"{path}: plots are written as .png or .svg, not {suffix or 'a file without suffix'}")
    output_path(path)  # the folder must exist: checked before any work, like the suffix
    return PLOT_FORMATS[suffix]


def _short(label: object) -> str:
    text = str(label)
    return text if len(text) <= LABEL_WRAP else text[: LABEL_WRAP - 1] + "…"


def _save(figure: Figure, path: Path, fmt: str) -> Path:
    # Fixed metadata and hash salt make SVG output byte-identical from run to run;
    # real text (not glyph outlines) keeps SVG labels searchable and editable.
    import matplotlib

    metadata = {"Date": None} if fmt == "svg" else {}
    with matplotlib.rc_context({"svg.hashsalt": "qualcode", "svg.fonttype": "none"}):
        figure.savefig(path, format=fmt, dpi=DPI, bbox_inches="tight", metadata=metadata)
    return path


def heatmap(
    frame: pd.DataFrame,
    path: str | Path,
    title: str = "",
    *,
    xlabel: str = "Code",
    ylabel: str = "Case",
    colormap: str = "Blues",
    annotate: bool | None = None,
    value_label: str = "Coded segments",
) -> Path:
    """Draw a cases (rows) x codes (columns) matrix of counts; returns the path written.

    ``annotate`` writes each count in its cell (default: when there are at most
    ``ANNOTATE_MAX_CELLS`` cells).
    """
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure

    path = Path(path)
    fmt = plot_format(path)
    counts = frame.apply(pd.to_numeric, errors="coerce").fillna(0)
    if counts.empty:
        raise QualcodeError(f"{path}: nothing to plot (the matrix has no rows or no columns)")
    values = counts.to_numpy(dtype=float)
    rows, cols = values.shape
    figure = Figure(figsize=(max(4.0, 1.0 + 0.55 * cols), max(3.0, 1.2 + 0.4 * rows)))
    axes = figure.add_subplot()
    image = axes.imshow(values, cmap=colormap, aspect="auto", vmin=0, vmax=max(values.max(), 1))
    axes.set_xticks(range(cols), [_short(c) for c in counts.columns], rotation=45, ha="right")
    axes.set_yticks(range(rows), [_short(r) for r in counts.index])
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title)
    if annotate if annotate is not None else rows * cols <= ANNOTATE_MAX_CELLS:
        threshold = values.max() / 2
        for (r, c), value in np.ndenumerate(values):
            text = f"{value:g}"
            axes.text(c, r, text, ha="center", va="center", fontsize=8, color="white" if value > threshold else "black")
    figure.colorbar(image, ax=axes, label=value_label)
    return _save(figure, path, fmt)


References = float | Sequence[float] | Mapping[str, float] | None


def _reference_lines(reference: References) -> list[tuple[str, float]]:
    if reference is None:
        return []
    if isinstance(reference, Mapping):
        return [(str(label), float(value)) for label, value in reference.items()]
    if isinstance(reference, (int, float)):
        return [("", float(reference))]
    return [("", float(value)) for value in reference]


def bar_order(values: Mapping[str, float | None], descending: bool = True) -> tuple[list[str], dict[str, float]]:
    """Keys top to bottom (sorted by value, missing ones last) and the known values."""
    known = {k: float(v) for k, v in values.items() if v is not None and not math.isnan(float(v))}
    missing = [k for k in values if k not in known]
    return sorted(known, key=known.__getitem__, reverse=descending) + missing, known


def bar_chart(
    values: Mapping[str, float | None],
    path: str | Path,
    title: str = "",
    *,
    xlabel: str = "Cohen's κ",
    reference: References = None,
    descending: bool = True,
    xlim: tuple[float, float] | None = None,
) -> Path:
    """Horizontal bars, one per code (e.g. per-code kappa), sorted, the largest on top.

    ``reference`` draws dashed vertical lines: a value, a list of values, or a mapping
    of label to value (e.g. ``{"substantial": 0.61, "almost perfect": 0.81}``).
    Codes whose value is missing or NaN (undefined agreement) are listed last as "n/a".
    """
    from matplotlib.figure import Figure

    path = Path(path)
    fmt = plot_format(path)
    if not values:
        raise QualcodeError(f"{path}: nothing to plot (no values)")
    ordered, known = bar_order(values, descending)
    # barh draws the first bar at the bottom: reverse so the first in order is on top.
    labels = [_short(k) for k in reversed(ordered)]
    lengths = [known.get(k, 0.0) for k in reversed(ordered)]
    lines = _reference_lines(reference)

    figure = Figure(figsize=(6.4, max(2.5, 0.8 + 0.35 * len(ordered))))
    axes = figure.add_subplot()
    bars = axes.barh(range(len(labels)), lengths, color="#4c72b0")
    axes.set_yticks(range(len(labels)), labels)
    for bar, key in zip(bars, reversed(ordered)):
        text = f"{known[key]:.2f}" if key in known else "n/a"
        end = bar.get_width()
        axes.text(
            end,
            bar.get_y() + bar.get_height() / 2,
            f" {text} ",
            va="center",
            ha="left" if end >= 0 else "right",
            fontsize=8,
        )
    for label, position in lines:
        axes.axvline(position, color="#c44e52", linestyle="--", linewidth=1, label=label or None)
    if any(label for label, _ in lines):
        axes.legend(loc="lower right", fontsize=8)
    everything = list(known.values()) + [p for _, p in lines]
    low = min([0.0, *everything])
    high = max([1.0, *everything])
    axes.set_xlim(xlim or (low - 0.15 * (high - low) if low < 0 else 0.0, high + 0.12 * (high - low)))
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_xlabel(xlabel)
    if title:
        axes.set_title(title)
    return _save(figure, path, fmt)


def saturation_chart(
    new: Mapping[str, Sequence[int]],
    path: str | Path,
    title: str = "",
    *,
    new_categories: Mapping[str, Sequence[int]] | None = None,
    xlabel: str = "Transcript, in coding order",
) -> Path:
    """Saturation curves: for each series (a coder, the consensus), the codes new in each
    transcript (bars of the lower panel, side by side) and their cumulative count (lines of the
    upper panel), transcript 1, 2, ... in that series' coding order. ``new_categories`` adds a
    second column of panels for categories (a CQR codebook)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    path = Path(path)
    fmt = plot_format(path)
    if not new or not any(len(v) for v in new.values()):
        raise QualcodeError(f"{path}: nothing to plot (no transcript has been coded)")
    panels = [("codes", new)] + ([("categories", new_categories)] if new_categories is not None else [])
    figure = Figure(figsize=(6.4 * len(panels), 5.6))
    grid = figure.add_gridspec(2, len(panels), height_ratios=(3, 2), hspace=0.08)
    width = 0.8 / max(1, len(new))
    for column, (what, series) in enumerate(panels):
        top = figure.add_subplot(grid[0, column])
        bottom = figure.add_subplot(grid[1, column], sharex=top)
        for i, (name, counts) in enumerate(series.items()):
            xs = list(range(1, len(counts) + 1))
            cumulative = [sum(counts[: k + 1]) for k in range(len(counts))]
            color = f"C{i % 10}"
            top.plot(xs, cumulative, marker="o", markersize=3, linewidth=1.5, color=color, label=_short(name))
            offset = (i - (len(series) - 1) / 2) * width
            bottom.bar([x + offset for x in xs], counts, width=width, color=color)
        top.set_ylabel(f"Cumulative {what}")
        bottom.set_ylabel(f"New {what}")
        bottom.set_xlabel(xlabel)
        for axes in (top, bottom):
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
            axes.set_ylim(bottom=0)
        top.tick_params(labelbottom=False)
        top.legend(loc="lower right", fontsize=8)
        if len(panels) > 1:
            top.set_title(what.capitalize())
    if title:
        figure.suptitle(title)
    return _save(figure, path, fmt)
