"""Our own human-editable codebook format (documented in docs/codebook.md).

Reading composes the YAML node graph rather than loading plain data so that every problem can
name its line.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..decoding import read_text
from ..errors import InputError, located
from .model import TEXT_FIELDS, CodebookModel, CodeNode, Origin, parse_bool
from .tree import MAX_DEPTH, FlatCode, build_tree

CODEBOOK_FIELDS = ("name", "kind", "description", "codes")
CODE_FIELDS = ("name", "key", *TEXT_FIELDS, "color", "colour", "hotkey", "applicable", "guid", "parent", "codes")
_NULL = "tag:yaml.org,2002:null"
# Each level of codes is a mapping inside a list, under the codebook's own mapping.
MAX_YAML_DEPTH = 2 * MAX_DEPTH + 1


def read_yaml(path: str | Path, text: str | None = None) -> tuple[CodebookModel, list[str]]:
    """The codebook in a YAML file and the problems found while reading it (not yet validated)."""
    path = Path(path)
    source = str(path)
    if text is None:
        text = read_text(path)  # as the importer decodes: UTF-8, UTF-16 or cp1252; binary is refused
    try:
        _refuse_aliases_and_depth(text, source)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: its own message spans lines
        line = text.count("\n", 0, exc.position) + 1
        raise InputError(located(source, f"not valid YAML: character {exc.character!r} is not allowed", line)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).split("\n", 1)[0]
        raise InputError(located(source, f"not valid YAML: {problem}", mark.line + 1 if mark else None)) from exc
    if not isinstance(root, yaml.MappingNode):
        raise InputError(located(source, "a codebook file is a mapping with name, kind and codes", _line(root)))

    problems: list[str] = []
    model = CodebookModel(name=path.stem, source=source)
    top = _mapping(root, CODEBOOK_FIELDS, source, model.warnings)
    model.name = _scalar(top.get("name"), source, problems) or path.stem
    model.kind = _scalar(top.get("kind"), source, problems) or "provisional"
    model.description = _scalar(top.get("description"), source, problems) or ""
    flat: list[FlatCode] = []
    codes_node = top.get("codes")
    if codes_node is not None and not _is_null(codes_node):
        model.codes = _read_codes(codes_node, source, problems, model.warnings, flat)
    model.codes = build_tree(flat, problems, roots=model.codes)
    return model, problems


def _refuse_aliases_and_depth(text: str, source: str) -> None:
    """Refuse anchors and aliases (an alias bomb expands exponentially; a recursive alias never ends) and
    nesting deeper than a codebook can be, from the event stream, before any node graph is built."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise InputError(
                located(source, "YAML anchors and aliases (&name, *name) are not allowed in a codebook", _mark(event))
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise InputError(
                    located(source, f"nested deeper than a codebook can be ({MAX_DEPTH} levels of codes)", _mark(event))
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _mark(event: yaml.Event) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _read_codes(
    seq: yaml.Node, source: str, problems: list[str], warnings: list[str], flat: list[FlatCode]
) -> list[CodeNode]:
    if not isinstance(seq, yaml.SequenceNode):
        problems.append(located(source, "`codes` must be a list of codes (each starting with '- name:')", _line(seq)))
        return []
    nested: list[CodeNode] = []
    for item in seq.value:
        if not isinstance(item, yaml.MappingNode):
            problems.append(located(source, "each code must be a mapping with at least a name", _line(item)))
            continue
        fields = _mapping(item, CODE_FIELDS, source, warnings)
        node = CodeNode(name=_scalar(fields.get("name"), source, problems) or "", origin=Origin(source, _line(item)))
        node.key = _scalar(fields.get("key"), source, problems) or None
        for name in TEXT_FIELDS:
            setattr(node, name, _scalar(fields.get(name), source, problems) or "")
        node.color = _scalar(fields.get("color") or fields.get("colour"), source, problems) or None
        node.hotkey = _scalar(fields.get("hotkey"), source, problems) or None
        node.guid = _scalar(fields.get("guid"), source, problems) or None
        if "applicable" in fields:
            value = parse_bool(_scalar(fields["applicable"], source, problems))
            if value is None:
                problems.append(
                    located(source, f"applicable of {node.name!r} must be true or false", _line(fields["applicable"]))
                )
            else:
                node.applicable = value
        if "codes" in fields and not _is_null(fields["codes"]):
            node.children = _read_codes(fields["codes"], source, problems, warnings, flat)
        parent = _scalar(fields.get("parent"), source, problems)
        if parent:
            flat.append(FlatCode(node, parent))
        else:
            nested.append(node)
    return nested


def _mapping(node: yaml.MappingNode, known: tuple[str, ...], source: str, warnings: list[str]) -> dict[str, yaml.Node]:
    out: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value).strip().casefold()
        if key not in known:
            warnings.append(located(source, f"unknown field {key_node.value!r} ignored", _line(key_node)))
            continue
        out[key] = value_node
    return out


def _scalar(node: yaml.Node | None, source: str, problems: list[str]) -> str | None:
    if node is None or _is_null(node):
        return None
    if not isinstance(node, yaml.ScalarNode):
        problems.append(located(source, "expected a single value here, not a list or mapping", _line(node)))
        return None
    return str(node.value).strip()


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


# -- writing ------------------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def code_to_dict(node: CodeNode, with_guids: bool = True) -> dict:
    out: dict = {"name": node.name}
    if node.key:
        out["key"] = node.key
    if node.hotkey:
        out["hotkey"] = node.hotkey
    if node.color:
        out["color"] = node.color
    if not node.applicable:
        out["applicable"] = False
    for name in TEXT_FIELDS:
        if getattr(node, name):
            out[name] = getattr(node, name)
    if with_guids and node.guid:
        out["guid"] = node.guid
    if node.children:
        out["codes"] = [code_to_dict(c, with_guids) for c in node.children]
    return out


def model_to_dict(model: CodebookModel, with_guids: bool = True) -> dict:
    out: dict = {"name": model.name, "kind": model.kind}
    if model.description:
        out["description"] = model.description
    out["codes"] = [code_to_dict(c, with_guids) for c in model.codes]
    return out


def write_yaml(model: CodebookModel, with_guids: bool = True) -> str:
    return yaml.dump(model_to_dict(model, with_guids), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
