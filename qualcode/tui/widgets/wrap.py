"""Word-wrap a span of text into line offsets (fast enough for 300,000 characters at once).

Widths are terminal cells: a Chinese, Japanese or Korean character or an emoji takes two, a
combining mark none, and a tab reaches the next stop (every ``TAB`` cells from the line's start).
"""

from __future__ import annotations

from rich.cells import get_character_cell_size

TAB = 4
_SIZES: dict[str, int] = {}  # cells of each character met so far (tabs depend on the column)


def is_control(char: str) -> bool:
    return char < " " or "\x7f" <= char < "\xa0"


def char_cells(char: str, column: int) -> int:
    """Cells ``char`` takes when it starts at ``column`` of a line: a tab reaches the next stop,
    other control characters take none (they are not drawn)."""
    if char == "\t":
        return TAB - column % TAB
    if is_control(char):
        return 0
    return get_character_cell_size(char)


def display_text(text: str, column: int = 0) -> tuple[str, int]:
    """``text`` as drawn from ``column``: tabs expanded to spaces, other control characters
    dropped; and the column after it."""
    if text.isascii() and text.isprintable():
        return text, column + len(text)
    out: list[str] = []
    for char in text:
        size = char_cells(char, column)
        if char == "\t":
            out.append(" " * size)
        elif not is_control(char):
            out.append(char)
        column += size
    return "".join(out), column


def wrap_offsets(text: str, start: int, end: int, width: int) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into lines of at most ``width`` terminal cells.

    Returns absolute ``(a, b)`` offsets per line; breaks at newlines, else at the last space
    that fits, else mid-word (text without spaces, such as Chinese, breaks between characters).
    Leading spaces of a wrapped line are skipped.
    """
    width = max(1, width)
    chunk = text[start:end]
    if chunk.isascii() and "\t" not in chunk:
        return _wrap_plain(text, start, end, width)
    return _wrap_cells(text, start, end, width)


def _wrap_plain(text: str, start: int, end: int, width: int) -> list[tuple[int, int]]:
    """ASCII without tabs: one character is one cell."""
    lines: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        stop = end if newline < 0 else newline
        while pos < stop:
            if stop - pos <= width:
                lines.append((pos, stop))
                pos = stop
                break
            space = text.rfind(" ", pos, pos + width + 1)
            cut = space if space > pos else pos + width
            lines.append((pos, cut))
            pos = cut
            while pos < stop and text[pos] == " ":
                pos += 1
        if newline >= 0:
            if pos == newline and (not lines or lines[-1][1] != newline):
                lines.append((newline, newline))  # an empty line kept from the transcript
            pos = newline + 1
    return lines or [(start, start)]


def _wrap_cells(text: str, start: int, end: int, width: int) -> list[tuple[int, int]]:
    """Any text: each character measured in cells."""
    lines: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        stop = end if newline < 0 else newline
        while pos < stop:
            used, k, space = 0, pos, -1
            while k < stop:
                char = text[k]
                if char == "\t":
                    size = TAB - used % TAB
                else:
                    size = _SIZES.get(char, -1)
                    if size < 0:
                        size = _SIZES[char] = char_cells(char, 0)
                if used + size > width:
                    break
                used += size
                if char == " ":
                    space = k
                k += 1
            if k >= stop:
                lines.append((pos, stop))
                pos = stop
                break
            if text[k] == " ":
                cut = k
            elif space > pos:
                cut = space
            else:
                cut = max(k, pos + 1)  # a character wider than the line still gets one
            lines.append((pos, cut))
            pos = cut
            while pos < stop and text[pos] == " ":
                pos += 1
        if newline >= 0:
            if pos == newline and (not lines or lines[-1][1] != newline):
                lines.append((newline, newline))
            pos = newline + 1
    return lines or [(start, start)]
