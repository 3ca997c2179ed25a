"""The transcript as segments, drawn with Textual's Line API: only visible lines are rendered.

The layout (which segment and which characters are on each virtual line) is a flat list
recomputed only when the width or the set of extra lines changes, so moving, coding and
repainting cost the same for 30 turns or 3,000.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.color import Color
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...coding.service import TranscriptWork
from .code_style import CodeLook
from .wrap import display_text, wrap_offsets

HEADER, TEXT, OTHERS, GAP = range(4)
GUTTER = 2
INDENT = 2

# The transcript's colours are theme variables (set in the view's CSS below): Textual's default
# dark theme gets the workbench's own, any other theme colours the transcript from its palette.
TUNED_FOR_DEFAULT_THEME = {
    "transcript-current": "#26323f",
    "transcript-bar": "#5fafff",
    "transcript-muted": "#8a8a8a",
    "transcript-done": "#5fd75f",
    "transcript-memo": "#d7af5f",
}
DEFAULT_THEME = "textual-dark"


def transcript_theme_variables(theme_name: str, theme_colours: dict[str, str]) -> dict[str, str]:
    """The transcript's theme variables for ``theme_name``, whose generated colour variables
    (``$primary``, ``$success``, ...) are ``theme_colours``."""
    if theme_name == DEFAULT_THEME:
        return dict(TUNED_FOR_DEFAULT_THEME)
    foreground, surface = Color.parse(theme_colours["foreground"]), Color.parse(theme_colours["surface"])
    return {
        "transcript-current": theme_colours["primary-muted"],
        "transcript-bar": theme_colours["primary"],
        "transcript-muted": foreground.blend(surface, 0.45).hex,  # opaque: the Line API draws no alpha
        "transcript-done": theme_colours["success"],
        "transcript-memo": theme_colours["warning"],
    }


@dataclass
class Overlay:
    """What the screen knows beyond the saved state: writes in flight, others' codes, the search."""

    pending_codes: dict[int, dict[int, bool]]  # segment id -> code id -> applied once saved
    pending_done: set[int]
    others: dict[int, dict[str, set[int]]]  # segment id -> coder -> code ids (lead's side-by-side)
    search: str = ""

    @classmethod
    def empty(cls) -> Overlay:
        return cls({}, set(), {})


class TranscriptView(ScrollView, can_focus=True, inherit_bindings=False):
    """Segments with speaker, role, wrapped text, code chips, done and memo marks.

    Its keys are the coding screen's (moving by segment), not ScrollView's line scrolling.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "transcript-view--current",  # the current segment's background
        "transcript-view--current-bar",  # the bar in the gutter beside it
        "transcript-view--speaker",
        "transcript-view--role",  # the speaker's role and the segment's number
        "transcript-view--done",  # the done mark
        "transcript-view--memo",  # the memo and core idea marks
        "transcript-view--pending",  # a code or mark not yet saved
        "transcript-view--others",  # other coders' names (the lead's side-by-side view)
        "transcript-view--match",  # a search match
    }

    DEFAULT_CSS = """
    TranscriptView { background: $surface; }
    TranscriptView > .transcript-view--current { background: $transcript-current; }
    TranscriptView > .transcript-view--current-bar { color: $transcript-bar; text-style: bold; }
    TranscriptView > .transcript-view--speaker { text-style: bold; }
    TranscriptView > .transcript-view--role { color: $transcript-muted; text-style: italic; }
    TranscriptView > .transcript-view--done { color: $transcript-done; text-style: bold; }
    TranscriptView > .transcript-view--memo { color: $transcript-memo; }
    TranscriptView > .transcript-view--pending { text-style: dim italic; }
    TranscriptView > .transcript-view--others { color: $transcript-muted; }
    TranscriptView > .transcript-view--match { text-style: reverse; }
    """

    class SegmentClicked(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, work: TranscriptWork, looks: dict[int, CodeLook], overlay: Overlay, **kw) -> None:
        super().__init__(**kw)
        self.work = work
        self.looks = looks
        self.overlay = overlay
        self.current = 0
        self._lines: list[tuple[int, int, int, int]] = []  # (segment index, kind, a, b)
        self._first_line: list[int] = []  # first virtual line of each segment
        self._layout_width = 0
        self._shows_others = False

    # -- layout ---------------------------------------------------------------------------
    @property
    def wrap_width(self) -> int:
        return max(10, self.scrollable_content_region.width - GUTTER - INDENT - 1)

    def relayout(self) -> None:
        text = self.work.text
        width = self.wrap_width
        others = self.overlay.others
        lines: list[tuple[int, int, int, int]] = []
        first: list[int] = []
        for i, seg in enumerate(self.work.segments):
            first.append(len(lines))
            lines.append((i, HEADER, 0, 0))
            lines.extend((i, TEXT, a, b) for a, b in wrap_offsets(text, seg.start, seg.end, width))
            for n, _coder in enumerate(sorted(others.get(seg.id, {}))):
                lines.append((i, OTHERS, n, 0))
            lines.append((i, GAP, 0, 0))
        self._lines, self._first_line, self._layout_width = lines, first, width
        self._shows_others = bool(others)
        self.virtual_size = Size(self.scrollable_content_region.width, len(lines))
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap_width != self._layout_width:
            self.relayout()
            self.scroll_to_current()

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        # The scrollbar takes two cells from the text (or gives them back) without a Resize: wrap
        # again at the new width, or the end of every line would be cut off.
        self.call_after_refresh(self._rewrap)

    def _rewrap(self) -> None:
        if self._first_line and self.wrap_width != self._layout_width:
            self.relayout()
            self.scroll_to_current()

    def on_mount(self) -> None:
        # Before its first layout the view has no width: wrapping now (at the minimum width) would be thrown
        # away by the first Resize, which lays out at the real width. Wrap once, when the width is known.
        if self.scrollable_content_region.width > 0:
            self.relayout()

    # -- moving ---------------------------------------------------------------------------
    def segment_lines(self, index: int) -> tuple[int, int]:
        """First and one-past-last virtual line of segment ``index``."""
        first = self._first_line[index]
        last = self._first_line[index + 1] if index + 1 < len(self._first_line) else len(self._lines)
        return first, last

    def select(self, index: int) -> None:
        if not self.work.segments:
            return
        index = max(0, min(index, len(self.work.segments) - 1))
        if not self._first_line:  # not laid out yet: the first layout scrolls to it
            self.current = index
            return
        if index == self.current:
            self.scroll_to_current()
            return
        old_first, old_last = self.segment_lines(self.current)
        stepping_back = index == self.current - 1
        self.current = index
        self.refresh_lines(old_first, old_last - old_first)
        first, last = self.segment_lines(index)
        self.refresh_lines(first, last - first)
        height = self.scrollable_content_region.height
        if stepping_back and last - 1 - first > height:
            # Reading upwards into a turn taller than the screen starts from its end.
            self.scroll_to(y=max(0, last - 1 - height), animate=False, immediate=True)
            return
        self.scroll_to_current()

    def scroll_within(self, direction: int, page: bool = False) -> bool:
        """Scroll through the current segment where it runs past the screen's edge in
        ``direction`` (a line, or a screenful less two lines of context when ``page``), so a turn
        taller than the screen is read to its end before the next is chosen. False when the
        segment's edge is already on screen (or the segment is not): then the caller moves."""
        if not self._first_line:
            return False
        first, last = self.segment_lines(self.current)
        end = last - 1  # the blank line after every segment
        top, height = int(self.scroll_y), max(1, self.scrollable_content_region.height)
        bottom = top + height
        if first >= bottom or end <= top:
            return False
        step = max(1, height - 2) if page else 1
        if direction > 0 and end > bottom:
            self.scroll_to(y=min(top + step, end - height), animate=False, immediate=True)
            return True
        if direction < 0 and first < top:
            self.scroll_to(y=max(top - step, first), animate=False, immediate=True)
            return True
        return False

    def scroll_to_current(self) -> None:
        if not self._first_line:
            return
        first, last = self.segment_lines(self.current)
        top, height = int(self.scroll_y), self.scrollable_content_region.height
        # Leaving the view re-centres the segment (a third from the edge it came in by), so
        # stepping through the transcript scrolls once every few segments, not on every step.
        if first < top:
            self.scroll_to(y=max(0, min(first, last - height * 2 // 3)), animate=False, immediate=True)
        elif last > top + height:
            self.scroll_to(y=min(first, max(first - height // 3, last - height)), animate=False, immediate=True)

    def page_target(self, direction: int) -> int:
        """The segment one screenful away from the current one."""
        height = max(1, self.scrollable_content_region.height)
        first, _ = self.segment_lines(self.current)
        target_line = max(0, min(len(self._lines) - 1, first + direction * height))
        target = self.segment_at(target_line)
        if target == self.current:  # a turn taller than the screen, already read to its edge
            target = max(0, min(len(self.work.segments) - 1, self.current + direction))
        return target

    def segment_at(self, line: int) -> int:
        return max(0, bisect_right(self._first_line, line) - 1)

    def refresh_segment(self, segment_id: int) -> None:
        index = self.work.index_of.get(segment_id)
        if index is not None and self._first_line:
            first, last = self.segment_lines(index)
            self.refresh_lines(first, last - first)

    # -- drawing --------------------------------------------------------------------------
    def _look(self, part: str) -> Style:
        """The style of one part of the transcript, from the view's component classes (cached by Textual
        until the theme or the CSS changes)."""
        return self.get_component_rich_style(f"transcript-view--{part}", partial=True)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        return self.render_virtual_line(int(self.scroll_y) + y).adjust_cell_length(width)

    def render_virtual_line(self, index: int) -> Strip:
        """One line of the whole transcript, whether or not it is on screen."""
        if index >= len(self._lines):
            return Strip.blank(self.scrollable_content_region.width)
        seg_index, kind, a, b = self._lines[index]
        seg = self.work.segments[seg_index]
        current = seg_index == self.current
        base = self._look("current") if current else Style()
        gutter = [Segment("▌ ", self._look("current-bar") + base) if current else Segment(" " * GUTTER)]
        if kind == HEADER:
            body = self._header(seg)
        elif kind == TEXT:
            body = [Segment(" " * INDENT)] + self._text(seg, a, b)
        elif kind == OTHERS:
            body = self._others_line(seg, a)
        else:
            body = []
        segments = [Segment(t, base + s if s else base) for t, s, _ in Segment.simplify(gutter + body)]
        strip = Strip(segments)
        if current:
            strip = strip.extend_cell_length(self.scrollable_content_region.width, base)
        return strip

    def _header(self, seg) -> list[Segment]:
        # The segment's state (done, memos, codes) comes before the speaker, so that a narrow
        # terminal crops the name rather than what the coder needs to see.
        work, overlay = self.work, self.overlay
        out = [Segment(f"{seg.position:>4} ", self._look("role"))]
        if seg.id in overlay.pending_done:
            out.append(Segment("… ", self._look("pending")))
        elif seg.id in work.done:
            out.append(Segment("✓ ", self._look("done")))
        if work.memo(seg.id):
            out.append(Segment("✎ ", self._look("memo")))
        if work.core_idea(seg.id):
            out.append(Segment("◆ ", self._look("memo")))
        saved = work.applied.get(seg.id, ())
        pending = overlay.pending_codes.get(seg.id, {})
        for code in work.codes:
            look = self.looks[code.id]
            is_saved = code.id in saved
            wanted = pending.get(code.id)
            if wanted is None and is_saved:
                out += [Segment(f" {look.label} ", look.chip), Segment(" ")]
            elif wanted is not None and wanted != is_saved:
                # in flight: shown apart from saved chips until the write commits
                marker = "+" if wanted else "−"
                out += [Segment(f"{marker}{look.label}…", self._look("pending") + look.swatch), Segment(" ")]
            elif wanted is not None and is_saved:
                out += [Segment(f" {look.label} ", look.chip), Segment(" ")]
        out.append(Segment(seg.speaker or "(no speaker)", self._look("speaker")))
        if seg.role and seg.role != "unknown":
            out.append(Segment(f" ({seg.role})", self._look("role")))
        return out

    def _text(self, seg, a: int, b: int) -> list[Segment]:
        text = self.work.text
        if a == b:
            return []
        styles: list[Style | None] = [None] * (b - a)
        for code_id in self.work.applied.get(seg.id, ()):
            span = self.work.quotes.get((seg.id, code_id))
            if span is None or code_id not in self.looks:
                continue
            lo, hi = max(a, span[0]), min(b, span[1])
            for k in range(lo - a, hi - a):
                styles[k] = self.looks[code_id].quote
        query = self.overlay.search.casefold()
        if query:
            match = self._look("match")
            line = text[a:b].casefold()
            hit = line.find(query)
            while hit >= 0:
                for k in range(hit, min(hit + len(query), b - a)):
                    styles[k] = (styles[k] or Style()) + match
                hit = line.find(query, hit + 1)
        # Drawn as the wrap measured it: tabs expanded to the next stop, control characters left out.
        out: list[Segment] = []
        run_start, column = 0, 0
        for k in range(1, b - a + 1):
            if k == b - a or styles[k] is not styles[run_start]:
                shown, column = display_text(text[a + run_start : a + k], column)
                out.append(Segment(shown, styles[run_start]))
                run_start = k
        return out

    def _others_line(self, seg, n: int) -> list[Segment]:
        coders = self.overlay.others.get(seg.id, {})
        names = sorted(coders)
        if n >= len(names):
            return []
        name = names[n]
        out = [Segment(" " * INDENT), Segment(f"{name}: ", self._look("others"))]
        for code in self.work.codes:
            if code.id in coders[name]:
                look = self.looks[code.id]
                out += [Segment(f" {look.label} ", look.chip), Segment(" ")]
        return out

    def plain_line(self, index: int) -> str:
        """The text of virtual line ``index`` (for search results and screen readers' logs)."""
        return self.render_virtual_line(index).text

    @property
    def line_count(self) -> int:
        return len(self._lines)

    # -- mouse ------------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        line = int(self.scroll_y) + event.y
        if 0 <= line < len(self._lines):
            self.post_message(self.SegmentClicked(self._lines[line][0]))
