"""CSV with one row per turn: a speaker column, a text column, optional timestamps."""

from __future__ import annotations

from ..decoding import csv_rows
from ..errors import InputError, located
from .model import ParsedTranscript, TextBuilder
from .speakers import parse_seconds

SPEAKER_COLUMNS = ("speaker", "name", "participant", "speaker_name")
TEXT_COLUMNS = ("text", "utterance", "content", "transcript", "dialogue", "words")
START_COLUMNS = ("timestamp", "time", "start", "time_start", "start_time")
END_COLUMNS = ("end", "time_end", "end_time")


def _pick(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().casefold() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def is_turn_table(text: str, source: object = "") -> bool:
    """Whether the first row names a speaker and a text column (folders skip other CSVs)."""
    header = next(csv_rows(text, source), [])
    return _pick(header, SPEAKER_COLUMNS) is not None and _pick(header, TEXT_COLUMNS) is not None


def parse_csv(text: str, source: object) -> ParsedTranscript:
    rows = csv_rows(text, source)
    header = next(rows, None)
    if not header:
        raise InputError(located(source, "empty CSV", 1))
    speaker_col, text_col = _pick(header, SPEAKER_COLUMNS), _pick(header, TEXT_COLUMNS)
    if speaker_col is None or text_col is None:
        raise InputError(
            located(
                source, f"a turn table needs columns speaker and text; found {', '.join(header)}".replace("\n", " "), 1
            )
        )
    start_col, end_col = _pick(header, START_COLUMNS), _pick(header, END_COLUMNS)
    builder = TextBuilder()
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(speaker_col, text_col):
            raise InputError(located(source, f"row has {len(row)} cells, expected {len(header)}", line))
        builder.add_turn(
            row[speaker_col].strip() or None,
            row[text_col],
            _seconds(source, row, start_col, line),
            _seconds(source, row, end_col, line),
        )
    if not builder.turns:
        raise InputError(located(source, "no turns with text in this CSV"))
    return builder.result("csv")


def _seconds(source: object, row: list[str], col: int | None, line: int) -> float | None:
    """The timestamp in ``row[col]`` in seconds; None where the column is absent or empty."""
    if col is None or col >= len(row) or not row[col].strip():
        return None
    value = parse_seconds(row[col])
    if value is None:
        raise InputError(located(source, f"not a timestamp: {row[col]!r}", line))
    return value
