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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import BriefError

FENCE = "---"


@dataclass(frozen=True)
class Document:
    """A parsed YAML mapping with the line of every value."""

    data: dict[str, Any]
    lines: dict[str, int]
    cols: dict[str, int] = field(default_factory=dict)  # 1-based, like the lines


class _Loader(yaml.SafeLoader):
    """Composes nodes only; refuses anchors and aliases."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _Refused("YAML aliases (*name) are not allowed; write the value out",
                           event.start_mark.line, event.start_mark.column)
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if getattr(event, "anchor", None):
            raise _Refused("YAML anchors (&name) are not allowed; write the value out",
                           event.start_mark.line, event.start_mark.column)
        return super().compose_node(parent, index)


# Text libyaml may parse: nothing that could be an anchor, alias or tag (& * !), a
# directive, a tab, a line break other than \n, a BOM, a block scalar header with more
# than indicators after | or >, or a character PyYAML's reader refuses.
_C_LOADER = getattr(yaml, "CSafeLoader", None)
_NOT_FOR_C = re.compile(r"[&*!\t\r\x85\u2028\u2029\ufeff]|^%|[|>][-+0-9]*[^-+0-9\s]", re.M)


def _compose(text: str) -> Node | None:
    """``yaml.compose`` with :class:`_Loader`, through libyaml when that cannot differ.

    libyaml (about 20 times faster) is used only for text ``_NOT_FOR_C`` lets through,
    and only its mappings without a flow collection (``[a, b]``, ``{a: b}``, where the
    two parsers differ) are kept: an error, a refusal or any other result comes from the
    pure-Python loader, exactly as before. A ``[`` that is text (``[Sadr returns.]{.own}``
    in a block scalar) does not send a file to the slow loader. libyaml marks plain
    scalars with style ``''`` where PyYAML has None; :func:`_plain` treats the two alike.
    """
    return _libyaml(text) or yaml.compose(text, Loader=_Loader)


def _libyaml(text: str) -> MappingNode | None:
    """libyaml's mapping for ``text`` where the Python loader's would be the same."""
    if _C_LOADER is not None and not _NOT_FOR_C.search(text) \
            and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        try:
            node = yaml.compose(text, Loader=_C_LOADER)
        except Exception:  # noqa: BLE001 — the fast path only; the full loader reports
            node = None
        if isinstance(node, MappingNode) and not _flow(node):
            return node
    return None


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)`` (YAML 1.1 types, anchors allowed), through libyaml
    where that cannot differ, as :func:`_compose` does."""
    node = _libyaml(text)
    if node is None:
        return yaml.safe_load(text)
    return yaml.constructor.SafeConstructor().construct_document(node)


def _flow(node: Node) -> bool:
    """Whether ``node`` holds a flow collection (without recursion)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, MappingNode):
            if current.flow_style:
                return True
            stack.extend(child for pair in current.value for child in pair)
        elif isinstance(current, SequenceNode):
            if current.flow_style:
                return True
            stack.extend(current.value)
    return False


class _Refused(Exception):
    def __init__(self, message: str, line: int, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


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
        raise BriefError(exc.message, path, exc.line + 1 + offset, rule="yaml.alias",
                         col=exc.column + 1,
                         hint="YAML's &anchor and *alias repeat a value by reference; "
                              "write the value out in full where it is needed") from None
    except yaml.MarkedYAMLError as exc:
        raise explain(exc, text, path, offset) from None
    except yaml.YAMLError as exc:
        raise BriefError(f"this is not valid YAML ({exc})", path, first_line,
                         hint="check indentation and quoting", rule="yaml.syntax") from None
    except RecursionError:
        raise BriefError("YAML: nested too deeply", path, first_line,
                         hint=f"no field of a brief is nested more than {MAX_DEPTH} deep",
                         rule="yaml.too-deep") from None
    if node is None:
        return Document({}, {})
    if not isinstance(node, MappingNode):
        kind = "a list" if isinstance(node, SequenceNode) else "a single value"
        raise BriefError(f"expected a mapping of fields (name: value), found {kind}",
                         path, node.start_mark.line + 1 + offset,
                         hint="write one field a line, 'name: value'",
                         rule="yaml.not-a-mapping")
    depth = _depth(node)
    if depth > MAX_DEPTH:
        raise BriefError(f"YAML: nested {depth} deep; a brief's fields are at most "
                         f"{MAX_DEPTH}", path, node.start_mark.line + 1 + offset,
                         hint="flatten the structure", rule="yaml.too-deep")
    lines: dict[str, int] = {}
    cols: dict[str, int] = {}
    data = _plain(node, "", lines, path, offset, cols)
    assert isinstance(data, dict)
    return Document(data, lines, cols)


def explain(exc: yaml.MarkedYAMLError, text: str, path: str, offset: int) -> BriefError:
    """A YAML syntax error in plain words: what is wrong with the line, and the fix."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or ""
    context = exc.context or ""
    lines = text.split("\n")

    def at(m: Any, message: str, hint: str, rule: str) -> BriefError:
        row = m.line if m is not None else 0
        col = m.column + 1 if m is not None else 0
        return BriefError(message, path, row + 1 + offset, hint=hint, rule=rule, col=col)

    def line_of(m: Any) -> str:
        return lines[m.line] if m is not None and m.line < len(lines) else ""

    row = line_of(mark)
    if "'\\t'" in problem or (mark is not None and "\t" in row[: mark.column + 1]):
        tab = row.find("\t")
        if mark is not None and tab >= 0:
            mark.column = tab
        return at(mark, "tabs are not allowed in YAML; indent with spaces",
                  "replace the tab with spaces (two for each level); editors have a "
                  "setting to insert spaces when Tab is pressed", "yaml.tab")
    unclosed = _unclosed_quote(lines, mark.line if mark is not None else len(lines) - 1)
    if unclosed is not None and "quoted scalar" not in context:
        row_no, column = unclosed
        quote = lines[row_no][column]
        return BriefError(f"the quote {quote} opened here is never closed on its line", path,
                          row_no + 1 + offset, rule="yaml.unclosed-quote", col=column + 1,
                          hint=f"end the value with a {quote} on the same line; YAML went on "
                               f"reading the next lines as part of it")
    if "quoted scalar" in context:
        opened = exc.context_mark
        quote = line_of(opened)[opened.column] if opened is not None else '"'
        return at(opened, f"the quote {quote} opened here is never closed",
                  f"end the value with a {quote} on the same line; a {quote} inside the text "
                  + ("is written twice: ''" if quote == "'" else "is written \\\""),
                  "yaml.unclosed-quote")
    if problem == "mapping values are not allowed here" and mark is not None:
        before = row[: mark.column].lstrip()
        before = before[2:] if before.startswith("- ") else before
        if ": " in before:
            key, _, value = row.partition(": ")
            fixed = value.strip().replace("\\", "\\\\").replace('"', '\\"')
            return at(mark, "a colon followed by a space inside an unquoted value",
                      f"put the value in double quotes: {key.strip()}: \"{fixed}\"",
                      "yaml.colon-in-value")
        return _indentation(at, mark, lines)
    if problem.startswith("expected <block end>") and mark is not None:
        value = row.partition(":")[2].strip() if ":" in row else ""
        if "'<scalar>'" in problem and value[:1] in ("[", "{"):
            mark.column = row.index(value)
            return at(mark, f"a value starting with '{value[0]}' is read as a "
                            f"{'list' if value[0] == '[' else 'mapping'} in YAML",
                      f"put the whole value in double quotes: "
                      f"{row.partition(':')[0].strip()}: \"{value}\"", "yaml.syntax")
        if "'<scalar>'" in problem and value[:1] in ("'", '"'):
            return at(mark, "text after the closing quote",
                      "put the whole value in one pair of quotes, or nothing after them",
                      "yaml.syntax")
        return _indentation(at, mark, lines)
    if problem == "could not find expected ':'" and exc.context_mark is not None:
        name = line_of(exc.context_mark).strip()
        return at(exc.context_mark, f"'{name}' is neither 'name: value' nor a list item",
                  "write the field as 'name: value', with a space after the colon",
                  "yaml.syntax")
    return at(mark, f"this is not valid YAML ({problem or 'cannot be read'})",
              "check the indentation, and quote text that contains ': ' or ' #'",
              "yaml.syntax")


_QUOTED_VALUE = re.compile(r"""^\s*(?:-\s+)?(?:[\w.-]+:\s+)?(["'])""")


def _unclosed_quote(lines: list[str], upto: int) -> tuple[int, int] | None:
    """(line, column) of the first value, up to line ``upto``, that opens a quote and does
    not close it on its line: YAML reads on into the next lines, and the error it reports
    later is only a consequence."""
    for number, line in enumerate(lines[: upto + 1]):
        m = _QUOTED_VALUE.match(line)
        if m is None:
            continue
        quote, rest = m.group(1), line[m.end():]
        if quote == '"':
            closed = re.search(r'(?<!\\)(?:\\\\)*"', rest) is not None
        else:
            closed = re.search(r"'(?!')", rest.replace("''", "")) is not None
        if not closed:
            return number, m.start(1)
    return None


def _indentation(at: Callable[[Any, str, str, str], BriefError], mark: Any,
                 lines: list[str]) -> BriefError:
    row = lines[mark.line] if mark.line < len(lines) else ""
    indent = len(row) - len(row.lstrip(" "))
    above = next((line for line in reversed(lines[: mark.line]) if line.strip()), "")
    above_indent = len(above) - len(above.lstrip(" "))
    mark.column = indent
    if indent > above_indent:
        what = "this line is indented further than the line above allows"
    else:
        what = "this line is not indented like the list or fields it belongs to"
    return at(mark, what,
              "line up the fields of one mapping, and the '- ' of one list, at the same "
              "column, with spaces; indent only under a field whose value follows on the "
              "next lines (items:)", "yaml.indentation")


def _plain(node: Node, pointer: str, lines: dict[str, int], path: str, offset: int,
           cols: dict[str, int]) -> Any:
    lines[pointer] = node.start_mark.line + 1 + offset
    cols[pointer] = node.start_mark.column + 1
    if isinstance(node, ScalarNode):
        if not node.style and node.value in ("", "~", "null", "Null", "NULL"):
            return None
        return node.value
    if isinstance(node, SequenceNode):
        return [_plain(item, _join(pointer, str(i)), lines, path, offset, cols)
                for i, item in enumerate(node.value)]
    assert isinstance(node, MappingNode)
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1 + offset
        if not isinstance(key_node, ScalarNode):
            raise BriefError("a field name must be plain text", path, line,
                             hint="write 'name: value' with a plain word as the name",
                             rule="yaml.syntax")
        key = key_node.value
        if key == "<<":
            raise BriefError("YAML merge keys (<<) are not allowed; write the fields out",
                             path, line, rule="yaml.alias")
        if key in out:
            first = lines[_join(pointer, key)]
            raise BriefError(f"duplicate field '{key}' (first given on line {first})",
                             path, line, hint="remove one of the two",
                             rule="yaml.duplicate-key", col=key_node.start_mark.column + 1)
        out[key] = _plain(value_node, _join(pointer, key), lines, path, offset, cols)
        lines[_join(pointer, key)] = line
        cols[_join(pointer, key)] = key_node.start_mark.column + 1
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
                         hint="add '---\\nkind: background\\ntitle: \"…\"\\n---' at the top",
                         rule="front-matter.missing")
    for i in range(1, len(lines)):
        if lines[i].rstrip() in (FENCE, "..."):
            doc = parse("\n".join(lines[1:i]), path, first_line=2)
            return doc, "\n".join(lines[i + 1:]), i + 2
    raise BriefError("front matter is not closed: no second '---' line", path, len(lines),
                     hint="add a line '---' after the last field", rule="front-matter.unclosed")
