"""Word (.docx) in APA 7 style: bold "Table N", italic title, horizontal rules only, a note.

Borders are written twice on purpose: on the table (tblBorders) for Word, and on each
cell (tcBorders) because LibreOffice draws cell borders and ignores some table ones.
Every vertical border is set to "nil" explicitly so no default style can add one back.
"""

from __future__ import annotations

import io
from copy import deepcopy
from typing import TYPE_CHECKING

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from .cells import PreparedTable

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument  # what docx.Document() returns

FONT = "Times New Roman"
FONT_SIZE = Pt(12)
TABLE_FONT_SIZE = Pt(10)
OUTER_RULE = "8"  # eighths of a point: 1 pt above and below the table
INNER_RULE = "4"  # 0.5 pt under the column heads
LANDSCAPE_AFTER_COLUMNS = 6

# Children of w:tblPr / w:tcPr that must come after the borders element (schema order).
_AFTER_TBL_BORDERS = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")
_AFTER_TC_BORDERS = ("w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark")


def _borders(tag: str, sides: dict[str, str | None]) -> BaseOxmlElement:
    """A borders element; a side maps to a rule size, or None for no line."""
    element = OxmlElement(tag)
    for side, size in sides.items():
        edge = OxmlElement(f"w:{side}")
        if size is None:
            edge.set(qn("w:val"), "nil")
        else:
            edge.set(qn("w:val"), "single")
            edge.set(qn("w:sz"), size)
            edge.set(qn("w:space"), "0")
            edge.set(qn("w:color"), "000000")
        element.append(edge)
    return element


def _replace(parent: BaseOxmlElement, element: BaseOxmlElement, successors: tuple[str, ...]) -> None:
    for old in parent.findall(element.tag):
        parent.remove(old)
    parent.insert_element_before(element, *successors)


def _set_table_rules(table) -> None:
    sides = {"top": OUTER_RULE, "left": None, "bottom": OUTER_RULE, "right": None, "insideH": None, "insideV": None}
    _replace(table._tbl.tblPr, _borders("w:tblBorders", sides), _AFTER_TBL_BORDERS)


def _set_cell_rules(cell, top: str | None, bottom: str | None) -> None:
    sides = {"top": top, "left": None, "bottom": bottom, "right": None}
    _replace(cell._tc.get_or_add_tcPr(), _borders("w:tcBorders", sides), _AFTER_TC_BORDERS)


def _repeat_as_header(row) -> None:
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _write(cell, text: str, *, align, bold: bool = False) -> None:
    """Fill a cell; each line of ``text`` after the first starts with a line break."""
    _fill(cell.paragraphs[0], text, align=align, bold=bold)


def _fill(paragraph: Paragraph, text: str, *, align, bold: bool) -> None:
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    for number, line in enumerate(text.split("\n")):
        run = paragraph.add_run()
        if number:
            run.add_break()
        run.add_text(line)
        run.bold = bold or None
        run.font.size = TABLE_FONT_SIZE


class _BodyCellWriter:
    """Writes body cells as ``_write`` does, by copying a paragraph ``_write`` formatted once per kind of cell:
    python-docx's property setters cost about half a millisecond a cell, 12 s for a 500-case matrix."""

    def __init__(self) -> None:
        # (align, bold) -> (paragraph with its properties only, first-line run, later-line run)
        self._templates: dict[tuple[object, bool], tuple[BaseOxmlElement, BaseOxmlElement, BaseOxmlElement]] = {}

    def _template(self, cell, align, bold: bool) -> tuple[BaseOxmlElement, BaseOxmlElement, BaseOxmlElement]:
        key = (align, bold)
        if key not in self._templates:
            paragraph = Paragraph(OxmlElement("w:p"), cell)  # not in the cell: the cell only lends its part
            _fill(paragraph, "first\nlater", align=align, bold=bold)
            element = paragraph._p
            first, later = element.r_lst
            element.remove(first)
            element.remove(later)
            self._templates[key] = (element, first, later)
        return self._templates[key]

    def write(self, cell, text: str, *, align, bold: bool) -> None:
        empty_paragraph, first, later = self._template(cell, align, bold)
        paragraph = deepcopy(empty_paragraph)
        for number, line in enumerate(text.split("\n")):
            run = deepcopy(later if number else first)
            line_text = run.t_lst[0]
            line_text.text = line
            if len(line.strip()) < len(line):  # as python-docx's add_t
                line_text.set(qn("xml:space"), "preserve")
            paragraph.append(run)
        cell._tc.replace(cell._tc.p_lst[0], paragraph)


def _apa_document(columns: int) -> DocxDocument:
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = FONT_SIZE
    if columns > LANDSCAPE_AFTER_COLUMNS:
        section = document.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    return document


def _paragraph(document, text: str, *, bold: bool = False, italic: bool = False):
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.keep_with_next = True
    run = paragraph.add_run(text)
    run.bold = bold
    run.italic = italic
    return paragraph


def render_docx(prepared: PreparedTable) -> bytes:
    table_model = prepared.table
    width = len(prepared.columns)
    document = _apa_document(width)
    if prepared.heading:
        _paragraph(document, prepared.heading, bold=True)
    for text in (table_model.title, table_model.caption):
        if text:
            _paragraph(document, text, italic=True)

    if width:
        table = document.add_table(rows=1 + len(prepared.texts), cols=width)
        _set_table_rules(table)
        # python-docx rebuilds a row's cells (and table.rows walks the table) on every access:
        # read each once, or a wide matrix costs rows x columns x columns.
        rows = list(table.rows)
        last = len(rows) - 1
        header = rows[0]
        _repeat_as_header(header)
        for j, (name, cell) in enumerate(zip(prepared.columns, header.cells)):
            align = WD_ALIGN_PARAGRAPH.CENTER if prepared.numeric[j] else WD_ALIGN_PARAGRAPH.LEFT
            _write(cell, name, align=align)
            _set_cell_rules(cell, OUTER_RULE, INNER_RULE if last else OUTER_RULE)
        body_cells = _BodyCellWriter()
        for i, texts in enumerate(prepared.texts):
            row = rows[i + 1]
            cells = row.cells
            # The rule under the heads is drawn on both sides of the line so that Word and
            # LibreOffice, which resolve border conflicts differently, agree.
            top = INNER_RULE if i == 0 else None
            bottom = OUTER_RULE if i + 1 == last else None
            bold = prepared.is_group(i)
            for cell in cells:
                _set_cell_rules(cell, top, bottom)
            if prepared.spans(i):
                merged = cells[0].merge(cells[-1]) if width > 1 else cells[0]
                _write(merged, texts[0], align=WD_ALIGN_PARAGRAPH.LEFT, bold=True)
                continue
            for j, (text, cell) in enumerate(zip(texts, cells)):
                align = WD_ALIGN_PARAGRAPH.RIGHT if prepared.numeric[j] else WD_ALIGN_PARAGRAPH.LEFT
                body_cells.write(cell, text, align=align, bold=bold)

    # A paragraph always follows the table: Word wants one before the section end.
    note = document.add_paragraph()
    if table_model.note:
        note.add_run("Note.").italic = True
        note.add_run(f" {table_model.note}")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
