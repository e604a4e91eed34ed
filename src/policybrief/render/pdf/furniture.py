"""The running heads and "Page N of M" of a PDF laid out in parts (see parts.py).

A part cannot know its page numbers or the running heads carried over from the parts
before it, so the parts are laid out without margin boxes and the margin boxes of the
whole document are laid out afterwards, by WeasyPrint, from the same stylesheet: one
empty "sheet" per page, on the same named page, setting the same named strings in the
same order. binding.py lays each sheet over its page.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

# each page's name, the named strings set on it in order, and (optionally) the names
# of the strings its first element sets
Pages = Sequence[tuple[Any, ...]]

# The sheets draw nothing but the margin boxes: no page or canvas background (it would
# cover the page it is laid over), no content.
RULES = ("html,body{background:transparent!important}"
         "@page{background:transparent!important;border:0!important}"
         ".pb-sheet{break-before:page;height:0;margin:0;padding:0;border:0}"
         ".pb-sheet:first-child{break-before:auto}"
         ".pb-sheet>div{height:0;margin:0;padding:0}")


def _css_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return f'"{escaped}"'


def sheets(page: str, pages: Pages) -> str:
    """The furniture document for ``pages`` (each page's name and the named strings set
    on it, in order), with the head (and so the stylesheet) of ``page``."""
    head_end = page.index("</head>")
    body_at = page.index("<body", head_end)
    body_open = page[body_at:page.index(">", body_at) + 1]
    out = [page[:head_end], f"<style>{RULES}</style>", page[head_end:body_at], body_open]
    for page_record in pages:
        name, strings = page_record[0], page_record[1]
        # the strings set by the first element of the page (string(x, start) takes
        # them, else the value carried over): set by the sheet's first element too;
        # the others after an empty first element
        starting = set(page_record[2]) if len(page_record) > 2 else set()
        style = f' style="page: {escape(name)}"' if name else ""
        out.append(f'<div class="pb-sheet"{style}>')
        first = [(s, v) for s, v in strings if s in starting]
        seen: set[str] = set()
        first = [(s, v) for s, v in first if not (s in seen or seen.add(s))]  # type: ignore[func-returns-value]
        if first:
            declaration = "string-set: " + ", ".join(f"{s} {_css_string(v)}" for s, v in first)
            out.append(f'<div style="{escape(declaration)}"></div>')
        else:
            out.append("<div></div>")
        for string, value in strings:
            if (string, value) in first:
                first.remove((string, value))
                continue
            declaration = f"string-set: {string} {_css_string(value)}"
            out.append(f'<div style="{escape(declaration)}"></div>')
        out.append("</div>")
    out.append("</body></html>")
    return "".join(out)
