"""The citation syntax: pandoc's, plus a verbatim quote that pandoc never sees.

    [@rasanah2024rifts, ¶ 14, quote "a stark division among Shiite groups"]
    [@a, quote "…"; @b, ¶ 3]

``¶ N`` is the paragraph of the source (its passage number); the quote is evidence,
checked against the source and shown in the evidence appendix, and removed before
pandoc renders the note. ``parse`` reads citations out of Markdown with their lines;
``to_pandoc`` rewrites assembled Markdown into plain pandoc citations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

KEY = r"[A-Za-z0-9_][\w:.#$%&+?<>~/-]*(?<![.:#$%&+?<>~/-])"
GROUP = re.compile(r"(?<![!\]\\])\[(?P<body>[^\[\]]*?@[^\[\]]*)\](?![(\[{])")
ITEM = re.compile(rf"^(?P<prefix>[^@]*?)(?P<suppress>-?)@(?P<key>{KEY})(?P<rest>.*)$", re.S)
QUOTE = re.compile(r",?\s*quote\s*(?:\"(?P<a>[^\"]*)\"|“(?P<b>[^”]*)”)\s*", re.S)
PARAGRAPH = re.compile(r"^(?:¶|para\.?|paragraph)\s*(?P<n>\d+)$")
BARE = re.compile(rf"(?<![\w\\@.`])@(?P<key>{KEY})")
CODE = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`", re.S)


@dataclass(frozen=True)
class Cite:
    """One cited item as written, with its offset in the text it was read from."""

    key: str
    locator: str | None
    quote: str | None
    prefix: str
    suppress: bool
    offset: int


class SyntaxProblem(ValueError):
    """A citation that is written wrongly; ``offset`` is where, in the text."""

    def __init__(self, message: str, offset: int, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


def _mask_code(text: str) -> str:
    """The text with code spans and blocks blanked out (same length, same lines)."""
    return CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def split_items(body: str) -> Iterator[tuple[int, str]]:
    """``;``-separated items of a group, ignoring ``;`` inside quotes."""
    start, quoted = 0, ""
    for i, ch in enumerate(body):
        if quoted:
            if ch == quoted:
                quoted = ""
        elif ch in "\"“":
            quoted = '"' if ch == '"' else "”"
        elif ch == ";":
            yield start, body[start:i]
            start = i + 1
    yield start, body[start:]


def parse_item(text: str, offset: int) -> Cite:
    match = ITEM.match(text)
    if not match:
        raise SyntaxProblem("a citation item must start with @key", offset,
                            "separate cited items with ';', e.g. [@a, ¶ 2; @b, ¶ 5]")
    rest = match.group("rest")
    quote = None
    found = QUOTE.search(rest)
    if found:
        quote = " ".join((found.group("a") or found.group("b") or "").split())
        if not quote:
            raise SyntaxProblem("the quote is empty", offset)
        rest = rest[: found.start()] + rest[found.end():]
    elif re.search(r"\bquote\b", rest):
        raise SyntaxProblem("a quote must be in double quotes: quote \"exact words\"", offset)
    locator = rest.strip().lstrip(",").strip() or None
    return Cite(match.group("key"), locator, quote, match.group("prefix").strip(),
                bool(match.group("suppress")), offset)


def parse(text: str) -> tuple[list[Cite], list[SyntaxProblem]]:
    """Every citation in Markdown ``text``, and the problems in how they are written."""
    cites: list[Cite] = []
    problems: list[SyntaxProblem] = []
    masked = _mask_code(text)
    spans = []
    for group in GROUP.finditer(masked):
        spans.append(group.span())
        base = group.start("body")
        for start, item in split_items(text[base: group.end("body")]):
            if not item.strip():
                continue
            try:
                cites.append(parse_item(item, base + start))
            except SyntaxProblem as problem:
                problems.append(problem)
    for bare in BARE.finditer(masked):
        if any(a <= bare.start() < b for a, b in spans):
            continue
        problems.append(SyntaxProblem(
            f"bare '@{bare.group('key')}' would be read by pandoc as a citation",
            bare.start(), f"cite it in brackets, [@{bare.group('key')}], or escape it "
            f"as \\@{bare.group('key')}"))
    return cites, problems


def paragraph_number(locator: str | None) -> int | None:
    """``¶ 14`` → 14; None for other locators (pages, sections) or none."""
    if not locator:
        return None
    match = PARAGRAPH.match(locator.strip())
    return int(match.group("n")) if match else None


def format_cite(key: str, locator: str | None = None, quote: str | None = None) -> str:
    """One item in the project's own syntax (used by templates for structured citations)."""
    text = f"@{key}"
    if locator:
        text += f", {locator}"
    if quote:
        text += f', quote "{quote}"'
    return text


def join_last_group(text: str, items: list[str]) -> str | None:
    """``text`` with ``items`` (in the project's syntax) added to its last citation
    group, so that they print in the same note; None if the text cites nothing."""
    groups = list(GROUP.finditer(_mask_code(text)))
    if not groups or not items:
        return None
    end = groups[-1].end("body")
    return text[:end].rstrip() + "; " + "; ".join(items) + text[end:]


Resolver = Callable[[Cite], tuple[str | None, str | None]]


def to_pandoc(text: str, resolve: Resolver) -> str:
    """Rewrite every citation group for pandoc.

    ``resolve(cite)`` gives the locator to print (filled in or corrected) and an
    evidence id; the quote is dropped, and the id becomes an empty marker span in the
    note's suffix, which the HTML stage turns into links to the source passage.
    """
    masked = _mask_code(text)
    out, last = [], 0
    for group in GROUP.finditer(masked):
        base = group.start("body")
        parts: list[list[str]] = []  # [head, locator, markers] per item, in order
        for start, item in split_items(text[base: group.end("body")]):
            if not item.strip():
                continue
            cite = parse_item(item, base + start)
            locator, evidence = resolve(cite)
            head = (cite.prefix + " " if cite.prefix else "") + ("-" if cite.suppress else "")
            head += f"@{cite.key}"
            marker = f'[]{{.ev data-ev="{evidence}"}}' if evidence else ""
            _add(parts, head, locator or "", marker, cite.prefix)
        items = []
        for head, locator, markers in parts:
            part = head + (f", {locator}" if locator else "")
            items.append(part + (" " + markers if markers else ""))
        out.append(text[last: group.start()])
        out.append("[" + "; ".join(items) + "]")
        last = group.end()
    out.append(text[last:])
    return "".join(out)


def _add(parts: list[list[str]], head: str, locator: str, marker: str, prefix: str) -> None:
    """One cited item added to a note's items: an exact repeat of an earlier item (same
    key and locator) is dropped, its evidence marker kept on that item; a paragraph
    cited right after another of the same source joins it ("¶ 4, 13")."""
    for earlier in parts:
        if earlier[0] == head and earlier[1] == locator:
            if marker and marker not in earlier[2]:
                earlier[2] += marker
            return
    if parts and not prefix and parts[-1][0] == head:
        numbers = _paragraphs(parts[-1][1])
        number = paragraph_number(locator)
        if numbers and number is not None:
            if number not in numbers:
                numbers.append(number)
            parts[-1][1] = "¶ " + ", ".join(str(n) for n in sorted(numbers))
            parts[-1][2] += marker
            return
    parts.append([head, locator, marker])


def _paragraphs(locator: str) -> list[int]:
    """``¶ 4`` or ``¶ 4, 13`` → [4] or [4, 13]; [] for any other locator."""
    match = re.fullmatch(r"(?:¶|para\.?|paragraph)\s*(\d+(?:\s*,\s*\d+)*)", locator.strip())
    return [int(n) for n in re.split(r"\s*,\s*", match.group(1))] if match else []
