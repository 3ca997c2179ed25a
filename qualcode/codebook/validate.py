"""Check a codebook before anything is stored, collecting every problem with where it is."""

from __future__ import annotations

import re

from ..errors import InputError
from .model import KINDS, CodebookModel, CodeNode

_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


class CodebookInvalid(InputError):
    """Every problem found, one ``file:line: message`` per line; nothing was loaded."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def normalise_color(text: str | None) -> str | None:
    """``#RGB``/``#RRGGBB`` (the ``#`` optional) as lower-case ``#rrggbb``; ValueError otherwise."""
    if text is None or not str(text).strip():
        return None
    match = _HEX.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"bad colour {text!r} (write #rrggbb, e.g. #1f77b4)")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return f"#{digits}"


def problems_in(model: CodebookModel, *, report_empty: bool = True) -> list[str]:
    """All problems in ``model`` (empty when it may be stored). Colours are normalised in place.

    ``report_empty=False`` when reading already found problems: codes left out for those
    (a parent cycle, an unknown parent) would otherwise also read as "the codebook is empty".
    """
    problems: list[str] = []
    where = _locator(model)
    if model.kind not in KINDS:
        problems.append(where(None, f"unknown codebook kind {model.kind!r} (use {' or '.join(KINDS)})"))
    if not model.name.strip():
        problems.append(where(None, "the codebook has no name"))
    if report_empty and not model.codes:
        problems.append(where(None, "the codebook is empty: it has no codes"))

    hotkeys: dict[str, CodeNode] = {}
    keys: dict[str, CodeNode] = {}
    guids: dict[str, CodeNode] = {}

    def check_siblings(siblings: list[CodeNode], parent: CodeNode | None) -> None:
        seen: dict[str, CodeNode] = {}
        for node in siblings:
            name = node.name.strip()
            if not name:
                problems.append(where(node, "a code has an empty name"))
            else:
                node.name = name
                first = seen.setdefault(name.casefold(), node)
                if first is not node:
                    under = f"under {parent.name!r}" if parent else "at the top level"
                    problems.append(where(node, f"duplicate code name {name!r} {under}{_also(first)}"))
            try:
                node.color = normalise_color(node.color)
            except ValueError as exc:
                problems.append(where(node, f"{exc} for {node.name!r}"))
            _unique(node, node.hotkey, hotkeys, "hotkey", problems, where)
            _unique(node, node.key, keys, "key", problems, where)
            _unique(node, node.guid, guids, "guid", problems, where)
            if node.hotkey is not None and (len(node.hotkey) == 0 or any(ch.isspace() for ch in node.hotkey)):
                problems.append(where(node, f"hotkey {node.hotkey!r} of {node.name!r} must be one key, without spaces"))
            check_siblings(node.children, node)

    check_siblings(model.codes, None)
    return problems


def validate(model: CodebookModel, earlier: list[str] | None = None) -> CodebookModel:
    """Raise ``CodebookInvalid`` with ``earlier`` problems (from reading) plus any found here."""
    problems = list(earlier or []) + problems_in(model, report_empty=not earlier)
    if problems:
        raise CodebookInvalid(problems)
    return model


def _unique(
    node: CodeNode, value: str | None, seen: dict[str, CodeNode], what: str, problems: list[str], where
) -> None:
    if value is None:
        return
    first = seen.setdefault(str(value).casefold(), node)
    if first is not node:
        problems.append(
            where(node, f"{what} {value!r} of {node.name!r} is already used by {first.name!r}{_also(first)}")
        )


def _also(first: CodeNode) -> str:
    origin = first.origin
    if origin is None or origin.number is None:
        return ""
    return f" ({origin.unit} {origin.number})"


def _locator(model: CodebookModel):
    def where(node: CodeNode | None, text: str) -> str:
        if node is not None and node.origin is not None:
            return node.origin.message(text)
        return f"{model.source}: {text}" if model.source else text

    return where
