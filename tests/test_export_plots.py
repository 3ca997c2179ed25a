"""Heatmap and bar chart files: PNG or SVG by suffix, real content, clear errors."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from lxml import etree

from qualcode.errors import QualcodeError
from qualcode.export.plots import bar_chart, bar_order, heatmap

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def counts() -> pd.DataFrame:
    return pd.DataFrame(
        {"SV": [3, 0, 5], "SA": [1, 2, 0], "CE": [4, 4, 1]},
        index=["Adams Elementary", "Baker Middle", "Clark High"],
    )


def _svg_texts(path) -> list[str]:
    root = etree.parse(str(path)).getroot()
    assert root.tag == f"{SVG_NS}svg"
    return ["".join(node.itertext()).strip() for node in root.iter(f"{SVG_NS}text")]


def test_heatmap_png(counts, tmp_path):
    path = heatmap(counts, tmp_path / "codes.png", title="Codes by school")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000


def test_heatmap_svg_has_labels_and_counts(counts, tmp_path):
    texts = _svg_texts(heatmap(counts, tmp_path / "codes.svg", title="Codes by school"))
    for label in ["Codes by school", "Adams Elementary", "Clark High", "SV", "SA", "CE", "5"]:
        assert label in texts


def test_heatmap_rejects_other_suffix_and_writes_nothing(counts, tmp_path):
    with pytest.raises(QualcodeError, match=r"codes\.pdf: plots are written as \.png or \.svg"):
        heatmap(counts, tmp_path / "codes.pdf")
    assert not (tmp_path / "codes.pdf").exists()


def test_heatmap_of_empty_matrix_is_a_user_error(tmp_path):
    with pytest.raises(QualcodeError, match="nothing to plot"):
        heatmap(pd.DataFrame(), tmp_path / "empty.png")


def test_bar_order_sorts_and_puts_undefined_last():
    values = {"SA": 0.2, "SV": 0.9, "RC": math.nan, "WD": 0.5, "SI": None}
    assert bar_order(values)[0] == ["SV", "WD", "SA", "RC", "SI"]
    assert bar_order(values, descending=False)[0] == ["SA", "WD", "SV", "RC", "SI"]


def test_bar_chart_svg_with_reference_lines(tmp_path):
    kappas = {
        "Shared vision and strategy": 0.86,
        "Work design": 0.41,
        "Collective efficacy": -0.05,
        "Shared influence": None,
    }
    path = bar_chart(kappas, tmp_path / "kappa.svg", title="Per-code agreement", reference={"substantial": 0.61})
    texts = _svg_texts(path)
    for label in [
        "Per-code agreement",
        "Shared vision and strategy",
        "Work design",
        "0.86",
        "0.41",
        "-0.05",
        "n/a",
        "substantial",
    ]:
        assert label in texts


def test_bar_chart_png(tmp_path):
    data = bar_chart({"SV": 0.86, "SA": 0.7}, tmp_path / "kappa.PNG", reference=[0.61, 0.81]).read_bytes()
    assert data.startswith(PNG_MAGIC)


def test_bar_chart_errors(tmp_path):
    with pytest.raises(QualcodeError, match="nothing to plot"):
        bar_chart({}, tmp_path / "kappa.png")
    with pytest.raises(QualcodeError, match=r"kappa\.jpg"):
        bar_chart({"SV": 0.5}, tmp_path / "kappa.jpg")
