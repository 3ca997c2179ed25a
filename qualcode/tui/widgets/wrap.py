"""Word-wrap a span of text into line offsets (fast enough for 300,000 characters at once)."""

from __future__ import annotations


def wrap_offsets(text: str, start: int, end: int, width: int) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into lines of at most ``width`` characters.

    Returns absolute ``(a, b)`` offsets per line; breaks at newlines, else at the last space
    that fits, else mid-word. Leading spaces of a wrapped line are skipped.
    """
    width = max(1, width)
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
