"""What the rendered brief may point at: nothing that leaks a file or runs code.

pandoc renders whatever a section file links or embeds, and WeasyPrint (or a reader's
browser) would then fetch it. Before any output is made, pandoc's HTML rendering is
checked here: an image may only be a ``data:`` URL or a file under the project's
``assets/``; a link may only go to the web (http, https), to an e-mail address, or
within the brief; no element may carry an ``on…`` handler. Anything else fails the
build, at the line of the section file where it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import BriefError
from ..model import Project

LINK_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class Problem:
    what: str
    target: str


def problems(fragment: str, project: Project) -> list[Problem]:
    """Every unsafe image, link or attribute in pandoc's HTML ``fragment``."""
    from lxml import html as lhtml

    root = lhtml.fragment_fromstring(fragment, create_parent="div")
    found = []
    assets = (project.root / "assets").resolve()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                found.append(Problem(f"an '{name}' handler (active content)", value))
        for name in ("src", "poster", "data"):
            value = element.get(name)
            if value is None:
                continue
            parts = urlsplit(value.strip())
            if parts.scheme == "data" and value.strip().lower().startswith("data:image/"):
                continue
            if not parts.scheme and not parts.netloc:
                path = (project.root / unquote(parts.path)).resolve()
                if path.is_relative_to(assets) and path.is_file():
                    continue
            found.append(Problem("an image that is neither a data: URL nor a file in assets/",
                                 value))
        href = element.get("href")
        if href is not None and element.tag == "a":
            parts = urlsplit(href.strip())
            scheme = parts.scheme.lower()
            if scheme in LINK_SCHEMES or (not scheme and not parts.netloc and
                                          (href.startswith("#") or _inside(parts.path))):
                continue
            found.append(Problem("a link that leaves the web and the brief", href))
    return found


def _inside(path: str) -> bool:
    parts = Path(unquote(path)).parts
    return bool(parts) and ".." not in parts and not Path(unquote(path)).is_absolute()


def check(fragment: str, project: Project) -> None:
    """Raise BriefError for the first unsafe target, at the line that writes it."""
    found = problems(fragment, project)
    if not found:
        return
    first = found[0]
    path, line = locate(project, first.target)
    raise BriefError(f"{first.what}: '{first.target}'", path, line,
                     hint="images must be data: URLs or files in assets/; links must be "
                          "http(s), mailto or within the brief", rule="links.policy")


def locate(project: Project, needle: str) -> tuple[str, int]:
    """The first section or template file and line that contains ``needle``."""
    needles = list(dict.fromkeys([needle, unquote(needle), needle.rstrip("/")]))
    for folder in (project.sections_dir, project.templates):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            try:
                text = path.read_text("utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            for candidate in needles:
                at = text.find(candidate)
                if at >= 0:
                    return project.rel(path), text.count("\n", 0, at) + 1
    return "report/sections", 1
