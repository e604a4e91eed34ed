"""Strict YAML: every scalar a string, no duplicate keys, no aliases, lines kept.

PyYAML's ``safe_load`` turns ``NO`` into False, ``012345`` into 5349, ``1.10`` into 1.1
and ``12:30`` into 750, and lets a duplicate key win silently. Here the document is
only *composed* (parsed into nodes, no type resolution) and the nodes are turned into
plain data by hand: mappings, lists and strings exactly as written, with a map from
each value's JSON pointer (``items/0/title``) to its 1-based line. Types are then the
schema's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import BriefError

FENCE = "---"


@dataclass(frozen=True)
class Document:
    """A parsed YAML mapping with the line of every value."""

    data: dict[str, Any]
    lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    """Composes nodes only; refuses anchors and aliases."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise _Refused("YAML aliases (*name) are not allowed; write the value out",
                           event.start_mark.line)
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise _Refused("YAML anchors (&name) are not allowed; write the value out",
                           event.start_mark.line)
        return super().compose_node(parent, index)


# Text libyaml may parse: nothing that could be an anchor, alias or tag (& * !), a
# directive, a flow collection, a tab, a line break other than \n, a BOM, a block scalar
# header with more than indicators after | or >, or a character PyYAML's reader refuses.
_C_LOADER = getattr(yaml, "CSafeLoader", None)
_NOT_FOR_C = re.compile(r"[&*!\t\r\x85\u2028\u2029\ufeff]|^%|[|>][-+0-9]*[^-+0-9\s]"
                        r"|(?:^|[-:?,\[{])[ ]*[\[{]", re.M)


def _compose(text: str) -> Node | None:
    """``yaml.compose`` with :class:`_Loader`, through libyaml when that cannot differ.

    libyaml (about 20 times faster) is used only for text ``_NOT_FOR_C`` lets through,
    and only its mappings are kept: an error, a refusal or any other result comes from
    the pure-Python loader, exactly as before. libyaml marks plain scalars with style
    ``''`` where PyYAML has None; :func:`_plain` treats the two alike.
    """
    if _C_LOADER is not None and not _NOT_FOR_C.search(text) \
            and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        try:
            node = yaml.compose(text, Loader=_C_LOADER)
        except Exception:
            node = None
        if isinstance(node, MappingNode):
            return node
    return yaml.compose(text, Loader=_Loader)


class _Refused(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


MAX_DEPTH = 32  # mappings and lists inside one another: far beyond any brief's


def _depth(node: Node) -> int:
    """How deeply ``node``'s mappings and lists nest (without recursion)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        if isinstance(current, MappingNode):
            stack.extend((child, level + 1) for pair in current.value for child in pair)
        elif isinstance(current, SequenceNode):
            stack.extend((child, level + 1) for child in current.value)
    return deepest


def parse(text: str, path: str, first_line: int = 1) -> Document:
    """Parse ``text`` (the file ``path`` from ``first_line`` on) into a Document.

    The top level must be a mapping. Raises BriefError naming the file and line.
    """
    offset = first_line - 1
    try:
        node = _compose(text)
    except _Refused as exc:
        raise BriefError(exc.message, path, exc.line + 1 + offset) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + offset
        problem = exc.problem or "not valid YAML"
        raise BriefError(f"YAML: {problem}", path, line,
                         hint="check indentation, and quote text that contains ': ' or '#'"
                         ) from None
    except yaml.YAMLError as exc:
        raise BriefError(f"YAML: {exc}", path, first_line,
                         hint="check indentation and quoting") from None
    except RecursionError:
        raise BriefError("YAML: nested too deeply", path, first_line,
                         hint=f"no field of a brief is nested more than {MAX_DEPTH} deep"
                         ) from None
    if node is None:
        return Document({}, {})
    if not isinstance(node, MappingNode):
        kind = "a list" if isinstance(node, SequenceNode) else "a single value"
        raise BriefError(f"expected a mapping of fields (name: value), found {kind}",
                         path, node.start_mark.line + 1 + offset,
                         hint="write one field a line, 'name: value'")
    depth = _depth(node)
    if depth > MAX_DEPTH:
        raise BriefError(f"YAML: nested {depth} deep; a brief's fields are at most "
                         f"{MAX_DEPTH}", path, node.start_mark.line + 1 + offset,
                         hint="flatten the structure")
    lines: dict[str, int] = {}
    data = _plain(node, "", lines, path, offset)
    assert isinstance(data, dict)
    return Document(data, lines)


def _plain(node: Node, pointer: str, lines: dict[str, int], path: str, offset: int) -> Any:
    lines[pointer] = node.start_mark.line + 1 + offset
    if isinstance(node, ScalarNode):
        if not node.style and node.value in ("", "~", "null", "Null", "NULL"):
            return None
        return node.value
    if isinstance(node, SequenceNode):
        return [_plain(item, _join(pointer, str(i)), lines, path, offset)
                for i, item in enumerate(node.value)]
    assert isinstance(node, MappingNode)
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1 + offset
        if not isinstance(key_node, ScalarNode):
            raise BriefError("a field name must be plain text", path, line,
                             hint="write 'name: value' with a plain word as the name")
        key = key_node.value
        if key == "<<":
            raise BriefError("YAML merge keys (<<) are not allowed; write the fields out",
                             path, line)
        if key in out:
            first = lines[_join(pointer, key)]
            raise BriefError(f"duplicate field '{key}' (first given on line {first})",
                             path, line, hint="remove one of the two")
        out[key] = _plain(value_node, _join(pointer, key), lines, path, offset)
        lines[_join(pointer, key)] = line
    return out


def _join(pointer: str, name: str) -> str:
    return f"{pointer}/{name}" if pointer else name


def split(text: str, path: str) -> tuple[Document, str, int]:
    """Split a Markdown file into its front matter and body.

    Returns the parsed front matter, the body, and the 1-based line the body starts on.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        raise BriefError("no front matter: the file must start with a line '---', the "
                         "YAML fields, and another '---'", path, 1,
                         hint="add '---\\nkind: background\\ntitle: \"…\"\\n---' at the top")
    for i in range(1, len(lines)):
        if lines[i].rstrip() in (FENCE, "..."):
            doc = parse("\n".join(lines[1:i]), path, first_line=2)
            return doc, "\n".join(lines[i + 1:]), i + 2
    raise BriefError("front matter is not closed: no second '---' line", path, len(lines),
                     hint="add a line '---' after the last field")
