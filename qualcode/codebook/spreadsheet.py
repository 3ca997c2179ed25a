"""Codebooks as spreadsheets (CSV and XLSX), one row per code, in the team-codebook tradition.

Headers are matched case-insensitively with common aliases; a code's place is given by a
``parent`` column (a name or a ``A > B`` path) or by writing the code itself as a path.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..decoding import Archive, csv_rows, first_line, read_bytes, read_text
from ..errors import InputError, located
from .lookup import PATH_SEP
from .model import CodebookModel, CodeNode, Origin, optional_text, parse_bool, text_or_empty
from .tree import FlatCode, build_tree, split_path

# field -> accepted headers (after normalising case, spaces, '_' and '-'). Besides our own names, the
# columns other tools write (Taguette: ``tag, description``; requal: ``code_name, code_description,
# code_color``; NVivo and MAXQDA codebook tables) and the names codebook guides use (DeCuir-Gunby et
# al.'s "code, definition, when to use, when not to use, example"; theme/category for the level above).
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("code", "name", "code name", "label", "code label", "tag", "tag name", "node", "node name", "subcode"),
    "parent": (
        "parent",
        "parent code",
        "parent name",
        "category",
        "parent category",
        "theme",
        "parent theme",
        "group",
        "code group",
        "domain",
    ),
    "path": ("path", "code path", "hierarchy", "full path", "code system"),
    "key": ("key", "short key", "abbreviation", "code key", "short name", "mnemonic"),
    "brief": ("brief definition", "brief", "short definition", "short description", "summary"),
    "definition": (
        "full definition",
        "definition",
        "description",
        "code description",
        "tag description",
        "meaning",
        "operational definition",
        "memo",
        "code memo",
    ),
    "inclusion": (
        "when to use",
        "inclusion",
        "inclusion criteria",
        "inclusion criterion",
        "include",
        "include when",
        "use when",
        "criteria for inclusion",
    ),
    "exclusion": (
        "when not to use",
        "exclusion",
        "exclusion criteria",
        "exclusion criterion",
        "exclude",
        "exclude when",
        "do not use when",
        "don't use when",
        "criteria for exclusion",
    ),
    "example": (
        "example",
        "examples",
        "typical exemplar",
        "exemplar",
        "example quote",
        "examples of use",
        "sample quote",
    ),
    "color": ("colour", "color", "code color", "code colour", "tag color", "tag colour", "hex"),
    "hotkey": ("hotkey", "shortcut"),
    "applicable": ("applicable", "codable", "iscodable"),
    "guid": ("guid",),
    # requal's export: the categories a code is in, ``name (description) | name`` (it allows several)
    "categories": ("categories", "code categories"),
}
# Parent columns that name a grouping (a theme, a category) rather than another code row: a theme
# named there but never given a row of its own is made a grouping code (not applied to text).
GROUPING_HEADERS = ("category", "parent category", "theme", "parent theme", "group", "code group", "domain")
# Columns other tools write that hold no part of a code's meaning: named in a warning as left out.
COUNT_COLUMNS = (
    "number of highlights",  # Taguette
    "number of documents",  # Taguette, newer versions
    "highlights",
    "documents",
    "count",
    "frequency",
    "frq",
    "codings",
    "references",
)
# The other tool's own row ids (requal's ``code_id``): left out with a warning saying so.
ID_COLUMNS = ("code id", "id", "tag id", "node id")
_CATEGORY_TITLE = re.compile(r"^(?P<name>.*?) \((?P<description>.*)\)$", re.DOTALL)
# What we write: the first alias of each field, in this order.
WRITTEN_FIELDS = (
    "name",
    "parent",
    "key",
    "brief",
    "definition",
    "inclusion",
    "exclusion",
    "example",
    "color",
    "hotkey",
    "applicable",
    "guid",
)
_HEADER_TO_FIELD = {alias: field for field, aliases in ALIASES.items() for alias in aliases}


def _normal_header(text: object) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[_\-]", " ", text_or_empty(text))).casefold()


def read_rows(source: str, rows: Iterable[Sequence[object]]) -> tuple[CodebookModel, list[str]]:
    """A codebook from a header row and data rows (row numbers count the header as row 1)."""
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        raise InputError(located(source, "the spreadsheet is empty: it has no header row"))
    model = CodebookModel(name=Path(source).stem, source=source)
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        label = _normal_header(cell)
        if not label:
            continue
        field = _HEADER_TO_FIELD.get(label)
        if field is None and label in COUNT_COLUMNS:
            model.warnings.append(
                located(source, f"column {text_or_empty(cell)!r} left out: counts of codings in the other tool")
            )
        elif field is None and label in ID_COLUMNS:
            model.warnings.append(located(source, f"column {text_or_empty(cell)!r} left out: the other tool's own ids"))
        elif field is None:
            model.warnings.append(located(source, f"unknown column {text_or_empty(cell)!r} ignored"))
        elif field not in columns:
            columns[field] = index
        else:
            model.warnings.append(
                located(
                    source,
                    f"column {text_or_empty(cell)!r} ignored: column "
                    f"{text_or_empty(header[columns[field]])!r} already gives the {field}",
                )
            )
    if "name" not in columns and "path" not in columns:
        raise InputError(
            located(source, "no `code` column (expected a column named code, name, tag, label or path)", 1)
        )

    problems: list[str] = []
    entries: list[FlatCode] = []
    grouping = "parent" in columns and _normal_header(header[columns["parent"]]) in GROUPING_HEADERS
    if "categories" in columns and "parent" in columns:
        model.warnings.append(
            located(source, f"column {text_or_empty(header[columns.pop('categories')])!r} ignored: a parent is given")
        )
    elif "categories" in columns:
        grouping = True
    described: dict[str, str] = {}  # a category's name -> its description (requal writes both)
    for number, row in enumerate(iterator, start=2):
        cells = {field: (row[i] if i < len(row) else None) for field, i in columns.items()}
        if not any(text_or_empty(v) for v in cells.values()):
            continue  # blank rows between groups are common
        origin = Origin(source, number, unit="row")
        path = text_or_empty(cells.get("path")) or text_or_empty(cells.get("name"))
        parts = split_path(path) if PATH_SEP.strip() in path else [path]
        node = CodeNode(name=parts[-1], origin=origin)
        node.key = optional_text(cells.get("key"))
        for field in ("brief", "definition", "inclusion", "exclusion", "example"):
            setattr(node, field, text_or_empty(cells.get(field)))
        node.color = css_color(optional_text(cells.get("color")))
        node.hotkey = optional_text(cells.get("hotkey"))
        node.guid = optional_text(cells.get("guid"))
        if text_or_empty(cells.get("applicable")):
            value = parse_bool(cells["applicable"])
            if value is None:
                problems.append(
                    origin.message(f"applicable must be yes or no, not {text_or_empty(cells['applicable'])!r}")
                )
            else:
                node.applicable = value
        parent = text_or_empty(cells.get("parent")) or PATH_SEP.join(parts[:-1])
        if "categories" in columns and not parent:
            parent = _first_category(text_or_empty(cells.get("categories")), node.name, origin, described, model)
        if grouping and not path and parent:
            node.name, parent = parent, ""  # a row that describes the theme itself
            if not text_or_empty(cells.get("applicable")):
                node.applicable = False
        entries.append(FlatCode(node, parent or None))
    if grouping:
        column = header[columns["parent"]] if "parent" in columns else header[columns["categories"]]
        entries = _with_groupings(entries, text_or_empty(column), model, described)
    model.codes = build_tree(entries, problems)
    return model, problems


_RGB = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*[\d.]+%?\s*)?\)", re.IGNORECASE)


def css_color(text: str | None) -> str | None:
    """``rgb(31, 119, 180)`` (as web tools write colours) as ``#rrggbb``; anything else as given
    (validation normalises ``#rgb`` and refuses what is not a colour, naming the row)."""
    if text is None:
        return None
    m = _RGB.fullmatch(text.strip())
    if m:
        channels = [int(v) for v in m.groups()]
        if all(v <= 255 for v in channels):
            return "#" + "".join(f"{v:02x}" for v in channels)
    return text


def _first_category(cell: str, code: str, origin: Origin, described: dict[str, str], model: CodebookModel) -> str:
    """The first of requal's ``name (description) | name`` categories (qualcode keeps one parent per
    code; the others are named in a warning). ``NA`` (R's missing value) is no category."""
    names: list[str] = []
    for title in (part.strip() for part in cell.split(" | ")):
        if not title or title == "NA":
            continue
        m = _CATEGORY_TITLE.match(title)
        name = (m.group("name") if m else title).strip()
        if m and name:
            described.setdefault(name.casefold(), m.group("description").strip())
        if name and name not in names:
            names.append(name)
    if len(names) > 1:
        others = ", ".join(repr(n) for n in names[1:])
        model.warnings.append(
            origin.message(f"{code!r} is in {len(names)} categories: placed in {names[0]!r}, not in {others}")
        )
    return names[0] if names else ""


def _with_groupings(
    entries: list[FlatCode], column: str, model: CodebookModel, described: dict[str, str] | None = None
) -> list[FlatCode]:
    """A grouping code, just before its first member, for each theme the parent column names that
    no row gives."""
    names = {e.node.name.strip().casefold() for e in entries}
    added: dict[str, FlatCode] = {}
    ordered: list[FlatCode] = []
    for entry in entries:
        ref = (entry.parent_ref or "").strip()
        if ref and PATH_SEP.strip() not in ref and ref.casefold() not in names and ref.casefold() not in added:
            node = CodeNode(name=ref, applicable=False, origin=entry.node.origin)
            node.definition = (described or {}).get(ref.casefold(), "")
            added[ref.casefold()] = FlatCode(node, None)
            ordered.append(added[ref.casefold()])
        ordered.append(entry)
    if added:
        themes = ", ".join(repr(e.node.name) for e in added.values())
        model.warnings.append(
            located(model.source, f"{len(added)} grouping code(s) made from column {column!r}: {themes}")
        )
    return ordered


def read_csv(path: str | Path) -> tuple[CodebookModel, list[str]]:
    text = read_text(Path(path))  # UTF-8 (BOM or not), UTF-16 or cp1252, as Excel saves them; binary is refused
    # Excel writes ';' or tabs in some locales; the header row tells which (the Sniffer misreads quoted newlines).
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    from .qualcoder import looks_like_code_list, read_code_list_rows

    if looks_like_code_list(text, path, delimiter, _header_fields(text, path, delimiter)):
        return read_code_list_rows(str(path), csv_rows(text, path, delimiter=delimiter))
    return read_rows(str(path), csv_rows(text, path, delimiter=delimiter))


def _header_fields(text: str, path: str | Path, delimiter: str) -> set[str]:
    """The fields the first row's cells name (empty when the first row is data, not a header)."""
    header = next(csv_rows(text, path, delimiter=delimiter), [])
    names = {_normal_header(cell) for cell in header}
    return {_HEADER_TO_FIELD[n] for n in names if n in _HEADER_TO_FIELD} | (names & set(COUNT_COLUMNS))


def read_xlsx(path: str | Path) -> tuple[CodebookModel, list[str]]:
    import openpyxl

    archive = Archive(read_bytes(Path(path)), path, ".xlsx workbook")
    archive.check()  # encrypted, oddly packed or oversized: refused before openpyxl unpacks anything
    archive.close()
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for files that are not workbooks
        raise InputError(located(path, f"cannot read as an .xlsx workbook ({first_line(str(exc))})")) from exc
    try:
        sheet = book["Codebook"] if "Codebook" in book.sheetnames else book.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    except Exception as exc:  # read-only sheets are parsed as they are read: the same errors come late
        raise InputError(located(path, f"cannot read as an .xlsx workbook ({first_line(str(exc))})")) from exc
    finally:
        book.close()
    return read_rows(str(path), rows)


# -- writing ------------------------------------------------------------------------------------------
def model_rows(model: CodebookModel) -> list[list[str]]:
    header = [ALIASES[f][0] for f in WRITTEN_FIELDS]
    rows = [header]
    parents: dict[int, str] = {}
    for path, node, parent, _ in model.paths():
        parents[id(node)] = path
        values = {
            "name": node.name,
            "parent": parents[id(parent)] if parent is not None else "",
            "applicable": "yes" if node.applicable else "no",
        }
        rows.append([values[f] if f in values else (getattr(node, f) or "") for f in WRITTEN_FIELDS])
    return rows


def write_csv(model: CodebookModel) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(model_rows(model))
    return buffer.getvalue()


def write_xlsx(model: CodebookModel) -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Codebook"
    for row in model_rows(model):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.columns:
        letter = column[0].column_letter
        sheet.column_dimensions[letter].width = (
            40 if column[0].value in ("full definition", "when to use", "when not to use", "example") else 18
        )
        for cell in column[1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
