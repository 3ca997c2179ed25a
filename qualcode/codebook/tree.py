"""Build the code tree from flat entries that name their parent (spreadsheet rows, YAML ``parent:``).

Parents are named by name or by path (``Domain > Category``). Unknown parents and cycles are
collected as problems (with each entry's origin) rather than raised one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from .lookup import PATH_SEP
from .model import CodeNode

# Deeper trees are refused (no codebook needs them; recursion over them would fail, not the file).
MAX_DEPTH = 100


@dataclass
class FlatCode:
    node: CodeNode
    parent_ref: str | None = None  # a name or a " > " path; None for a top-level code


def split_path(text: str) -> list[str]:
    return [part.strip() for part in text.split(PATH_SEP.strip())]


def build_tree(entries: list[FlatCode], problems: list[str], roots: list[CodeNode] | None = None) -> list[CodeNode]:
    """Attach each entry under its parent, in entry order; return the top-level codes.

    ``roots`` are codes already placed (e.g. nested YAML) that entries may also name as parents.
    """
    roots = list(roots or [])
    placed = _all_nodes(roots + [e.node for e in entries])
    candidates: dict[str, list[CodeNode]] = {}
    for node in placed:
        candidates.setdefault(node.name.strip().casefold(), []).append(node)

    parent_of: dict[int, CodeNode] = {}
    for node in placed:
        for child in node.children:
            parent_of[id(child)] = node

    def path_of(node: CodeNode, seen: set[int]) -> list[str]:
        parts = [node.name.strip().casefold()]
        while id(node) in parent_of and id(node) not in seen:
            seen.add(id(node))
            node = parent_of[id(node)]
            parts.append(node.name.strip().casefold())
        return parts[::-1]

    pending: list[tuple[FlatCode, list[str]]] = []
    for entry in entries:
        if entry.parent_ref:
            pending.append((entry, [p.casefold() for p in split_path(entry.parent_ref)]))
    # Unambiguous names first, so that paths through them are known when ambiguous ones are tried.
    pending.sort(key=lambda item: len(candidates.get(item[1][-1], [])) > 1)
    resolved: dict[int, CodeNode] = {}
    for entry, parts in pending:
        hits = list(candidates.get(parts[-1], []))  # itself included: a self-parent is a cycle
        if len(parts) > 1 or len(hits) > 1:
            hits = [c for c in hits if path_of(c, set())[-len(parts) :] == parts]
        if len(hits) != 1:
            reason = "is not a code in this codebook" if not hits else "names more than one code; give its path"
            problems.append(_where(entry.node, f"parent {entry.parent_ref!r} of {entry.node.name!r} {reason}"))
            continue
        resolved[id(entry.node)] = hits[0]
        parent_of[id(entry.node)] = hits[0]

    in_cycle = _cycles(entries, parent_of, problems)
    for entry in entries:
        node = entry.node
        if id(node) in in_cycle or (entry.parent_ref and id(node) not in resolved):
            continue
        parent = resolved.get(id(node))
        (parent.children if parent is not None else roots).append(node)
    cut_too_deep(roots, problems)
    return roots


def cut_too_deep(roots: list[CodeNode], problems: list[str]) -> None:
    """Report codes nested deeper than ``MAX_DEPTH`` levels and drop what lies below (without recursion)."""
    stack = [(node, 1) for node in roots]
    while stack:
        node, depth = stack.pop()
        if depth >= MAX_DEPTH and node.children:
            problems.append(_where(node.children[0], f"codes nest deeper than {MAX_DEPTH} levels"))
            node.children = []
            continue
        stack.extend((child, depth + 1) for child in node.children)


def _cycles(entries: list[FlatCode], parent_of: dict[int, CodeNode], problems: list[str]) -> set[int]:
    """Report each parent cycle once (at its first entry); return the ids of codes in cycles."""
    in_cycle: set[int] = set()
    walked: set[int] = set()  # codes whose chain of parents an earlier entry has followed already
    for entry in entries:
        chain: list[CodeNode] = []
        position: dict[int, int] = {}  # id -> index in chain: linear time however long the chains
        node: CodeNode | None = entry.node
        while node is not None and id(node) not in in_cycle and id(node) not in walked:
            if id(node) in position:
                loop = chain[position[id(node)] :]
                in_cycle.update(id(n) for n in loop)
                names = " > ".join(n.name for n in loop + [node])
                problems.append(_where(loop[0], f"parents form a cycle: {names}"))
                break
            position[id(node)] = len(chain)
            chain.append(node)
            node = parent_of.get(id(node))
        walked.update(position)
    return in_cycle


def _all_nodes(nodes: list[CodeNode]) -> list[CodeNode]:
    """Every node under ``nodes``, parents before children (without recursion: trees may be deep)."""
    out: list[CodeNode] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def _where(node: CodeNode, text: str) -> str:
    return node.origin.message(text) if node.origin else text
