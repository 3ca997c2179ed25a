"""The codebook beside the transcript: a tree of codes (CQR domains hold their categories)
with hotkeys and colours; the highlighted code's rules on demand."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import Static, Tree

from .code_style import CodeLook, ShownCode


class CodebookTree(Tree[int]):
    """Choosing a code (Enter or a click) toggles it on the current segment."""

    class CodeChosen(Message):
        def __init__(self, code_id: int) -> None:
            super().__init__()
            self.code_id = code_id

    class CodeHighlighted(Message):
        def __init__(self, code_id: int) -> None:
            super().__init__()
            self.code_id = code_id

    def __init__(self, codes: list[ShownCode], looks: dict[int, CodeLook], **kw) -> None:
        super().__init__("codebook", **kw)
        self.show_root = False
        self.auto_expand = False
        self.guide_depth = 2
        self.codes = codes
        self.looks = looks
        self._node_of_code = {}

    def on_mount(self) -> None:
        self.build()

    def build(self) -> None:
        self.clear()
        self._node_of_code = {}
        ids = {c.id for c in self.codes}
        children: dict[int | None, list[ShownCode]] = {}
        for code in self.codes:
            parent = code.parent_id if code.parent_id in ids else None
            children.setdefault(parent, []).append(code)

        def add(node, code: ShownCode) -> None:
            kids = children.get(code.id, [])
            label = self.label_for(code)
            child = node.add(label, data=code.id, expand=True) if kids else node.add_leaf(label, data=code.id)
            self._node_of_code[code.id] = child
            for kid in kids:
                add(child, kid)

        for code in children.get(None, []):
            add(self.root, code)
        self.root.expand()

    def label_for(self, code: ShownCode) -> Text:
        look = self.looks[code.id]
        label = Text()
        label.append("■ ", style=look.swatch)
        label.append(f"{code.hotkey} " if code.hotkey else "  ", style="bold")
        if code.key:
            label.append(f"{code.key} ", style="bold")
        label.append(code.name, style="" if code.applicable else "italic dim")
        return label

    def highlight_code(self, code_id: int) -> None:
        node = self._node_of_code.get(code_id)
        if node is not None:
            self.move_cursor(node)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.CodeChosen(event.node.data))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.CodeHighlighted(event.node.data))


def code_details(code: ShownCode, path: str, memo: str = "") -> Text:
    """Definition, inclusion and exclusion rules and example of one code."""
    text = Text()
    text.append(path + "\n", style="bold")
    for title, body in (
        ("Your memo", memo),  # first: short, and the pane may be too small for everything
        ("Definition", code.definition or code.brief),
        ("Use when", code.inclusion),
        ("Do not use when", code.exclusion),
        ("Example", code.example),
    ):
        if body:
            text.append(f"{title}: ", style="bold")
            text.append(body.strip() + "\n")
    if len(text.plain.splitlines()) == 1:
        text.append("No definition in the codebook yet.", style="italic")
    return text


class CodeDetails(Static):
    """Shown or hidden with the details key; follows the highlighted code."""
