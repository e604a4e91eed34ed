"""The one link policy: what any output of the brief may point at.

Every URL that reaches an output passes here, wherever it was written: links in a
section, a bibliography entry's ``url``, ``doi`` or ``\\url{…}``, the fields of
``report/brief.yaml`` and ``report/_house.yaml`` (pandoc reads title, subtitle and
author names as Markdown), figure captions, a source page's canonical link (``brief
sources add``), the templates. Allowed: ``http`` and ``https`` with a host, ``mailto``,
and fragments within the document (``#id``). Everything else is an error at the file
and line that writes it: ``javascript:``, ``file:``, ``data:``, backslash forms
(``\\\\host\\share``, which browsers read as ``//host/share``), protocol-relative
``//host`` and relative file links (``annex.pdf``, which a PDF reader resolves against
the build machine's folders).

The URL is read as a browser reads it (leading and trailing spaces and control
characters dropped, tabs and newlines inside it removed) before it is judged.

Images are judged separately (:func:`image_problem`): a ``data:`` image or a file under
``assets/``; an SVG only when it is inert (no script, no handler, nothing it would fetch).

Before anything is published, the outputs themselves are checked once more
(:func:`output_problems`): the HTML pages' links, the DOCX's external relationships and
the PDF's link annotations, so a link that arrives by a path not checked at its source
(a template, say) still stops the build.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import BriefError
from .model import Finding, Project

LINK_SCHEMES = {"http", "https", "mailto"}
RULE = "link.not-allowed"
HINT = ("links may only be http(s) with a host, mailto: or #fragments within the brief; "
        "put a file you want to link on the web and link its http(s) address")
IMAGE_HINT = "images must be data: URLs or files in assets/ (an SVG without script or links)"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_STRIP = "".join(chr(c) for c in range(0x21))  # C0 controls and space
_INNER = re.compile(r"[\t\n\r]")
RASTER = ("data:image/png", "data:image/jpeg", "data:image/jpg", "data:image/gif",
          "data:image/webp")


def normal(url: str) -> str:
    """``url`` as a browser reads it: outer controls and spaces gone, tabs and newlines
    inside it removed."""
    return _INNER.sub("", url.strip(_STRIP))


LEAVES = "a link that leaves the web and the brief"


def verdict(url: str) -> str | None:
    """None when the link policy allows ``url``, else what is wrong with it."""
    text = normal(url)
    if "\\" in text:
        return f"{LEAVES} (a backslash: browsers read '\\\\host\\x' as '//host/x')"
    if text.startswith("#"):
        return None
    if text.startswith("//"):
        return f"{LEAVES} (protocol-relative, '//host')"
    match = _SCHEME.match(text)
    if match is None:
        return f"{LEAVES} (a relative link to a file, resolved against the reader's folders)"
    scheme = match.group(1).lower()
    if scheme in ("http", "https"):
        try:
            host = urlsplit(text).hostname
        except ValueError:
            host = None
        if not text[len(scheme) + 1:].startswith("//") or not host:
            return f"{LEAVES} ({scheme}: without a host)"
        return None
    if scheme == "mailto":
        return None
    return f"{LEAVES} ({scheme}:)"


def relative(url: str) -> bool:
    """True for a relative reference (``annex.pdf``, ``/en/page``): no scheme, no host."""
    text = normal(url)
    return bool(text) and "\\" not in text and not text.startswith(("//", "#")) and \
        _SCHEME.match(text) is None


def allowed(url: str) -> bool:
    return verdict(url) is None


def shown(url: str, width: int = 80) -> str:
    """``url`` for a message: a long one (a data: URL) cut short, never a blob."""
    one = unblob(" ".join(url.split()))
    return one if len(one) <= width else one[: width - 1] + "…"


_BLOB = re.compile(r"(data:[\w/+.\-]*(?:;[\w=.\-]*)*,)[^\s'\"<>)]{24,}")


def unblob(text: str) -> str:
    """``text`` with every long ``data:`` URL in it cut to its head: a message names the
    image, never its bytes."""
    return _BLOB.sub(lambda m: m.group(1) + "…", text)


# --- images ----------------------------------------------------------------------------

SVG_ACTIVE = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
XLINK = "{http://www.w3.org/1999/xlink}href"


def svg_problem(data: bytes) -> str | None:
    """None when the SVG ``data`` is inert and self-contained, else what is wrong.

    Inert: it parses, has no script or foreign content, no ``on…`` handler, and every
    reference (``href``, ``xlink:href``, ``url(…)`` in styles) is a fragment within the
    image or a raster ``data:`` image."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return f"the SVG does not parse ({shown(str(exc), 100)})"
    except RecursionError:
        return "the SVG is nested too deeply"
    if not isinstance(root.tag, str) or etree.QName(root).localname != "svg":
        return "the file is not an SVG image"
    info = root.getroottree().docinfo
    if info.internalDTD is not None or info.system_url or b"<!ENTITY" in data.upper():
        return "the SVG declares a document type or entities (which can read files)"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname.lower()
        if local in SVG_ACTIVE:
            return f"the SVG has a <{etree.QName(element).localname}> element (active content)"
        for name, value in element.attrib.items():
            attr = etree.QName(name).localname.lower()
            if attr.startswith("on"):
                return f"the SVG has an '{attr}' handler (active content)"
            if attr == "href" or name == XLINK:
                if not _inert_reference(value):
                    return f"the SVG refers to '{shown(value)}'"
            elif "url(" in value.lower():
                for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", value, re.I):
                    if not _inert_reference(target):
                        return f"the SVG refers to '{shown(target)}'"
        if local == "style" and element.text and re.search(r"url\(|@import", element.text,
                                                          re.I):
            for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", element.text, re.I):
                if not _inert_reference(target):
                    return f"the SVG refers to '{shown(target)}'"
            if "@import" in element.text.lower():
                return "the SVG's style imports another stylesheet"
    return None


def _inert_reference(value: str) -> bool:
    text = normal(value)
    return text.startswith("#") or text.lower().startswith(RASTER)


def _data_bytes(url: str) -> bytes | None:
    """The bytes of a ``data:`` URL (None when it is malformed)."""
    import base64
    import binascii

    head, _, body = normal(url).partition(",")
    try:
        if head.lower().endswith(";base64"):
            return base64.b64decode(unquote(body), validate=False)
        return unquote(body).encode("utf-8")
    except (binascii.Error, ValueError):
        return None


def image_problem(url: str, project: Project) -> str | None:
    """None when ``url`` is an image the brief may show, else what is wrong."""
    text = normal(url)
    lower = text.lower()
    if lower.startswith(RASTER):
        return None
    if lower.startswith("data:image/svg+xml"):
        data = _data_bytes(text)
        return "a data: URL that does not decode" if data is None else svg_problem(data)
    parts = urlsplit(text)
    if not parts.scheme and not parts.netloc and "\\" not in text:
        from . import confine

        path = confine.inside(project, unquote(parts.path), ("assets",))
        if path is not None and path.is_file():
            if path.suffix.lower() == ".svg":
                try:
                    return svg_problem(path.read_bytes())
                except OSError as exc:
                    return f"cannot read '{shown(url)}': {exc.strerror}"
            return None
    return "an image that is neither a data: URL nor a file in assets/"


# --- pandoc's HTML fragment ------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    what: str
    target: str


def problems(fragment: str, project: Project) -> list[Problem]:
    """Every unsafe image, link or attribute in pandoc's HTML ``fragment``."""
    from lxml import html as lhtml

    root = lhtml.fragment_fromstring(fragment, create_parent="div")
    found = []
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
            problem = image_problem(value, project)
            if problem is not None:
                found.append(Problem(problem, value))
        href = element.get("href")
        if href is not None:
            problem = verdict(href)
            if problem is not None:
                found.append(Problem(problem, href))
    return found


def check(fragment: str, project: Project) -> None:
    """Raise BriefError for the first unsafe target, at the line that writes it."""
    found = problems(fragment, project)
    if not found:
        return
    first = found[0]
    where = locate(project, first.target)  # no place is made up when none is found
    path, line = where if where else (None, None)
    hint = IMAGE_HINT if "image" in first.what or "SVG" in first.what else HINT
    raise BriefError(f"{first.what}: '{shown(first.target)}'", path, line, hint=hint,
                     rule=RULE)


# --- where a link was written ----------------------------------------------------------


def _inputs(project: Project) -> Iterator[Path]:
    """The files a link can be written in, most specific first."""
    for folder in (project.sections_dir,):
        if folder.is_dir():
            yield from sorted(p for p in folder.rglob("*") if p.is_file())
    for name in ("brief.yaml", "_house.yaml", "timeline.yaml", "actors.yaml"):
        yield project.report / name
    yield project.bibliography
    if project.templates.is_dir():
        yield from sorted(p for p in project.templates.rglob("*") if p.is_file())


def locate(project: Project, needle: str) -> tuple[str, int] | None:
    """The first input file and line that contains ``needle`` (None when none does)."""
    needles = [n for n in dict.fromkeys([
        needle, unquote(needle), needle.rstrip("/"), normal(needle),
        unquote(needle).replace("\\\\", "\\"), needle.replace("&", "&amp;")]) if n]
    for path in _inputs(project):
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > 20 * 2**20:
                continue
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for candidate in needles:
            at = text.find(candidate)
            if at >= 0:
                return project.rel(path), text.count("\n", 0, at) + 1
    return None


# --- links written in input text (Markdown, BibTeX) ---------------------------------

_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<([^>]*)>|!\[[^\]]*\]\(\s*([^\s)]*)")
_MD_LINK = re.compile(r"\]\(\s*<([^>]*)>|\]\(\s*([^\s)]*)")
_AUTO = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]*:[^<>\s]*|\\\\[^<>\s]*|//[^<>\s]*)>")
_HTML_ATTR = re.compile(r"""(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)", re.M)
_TEX = re.compile(r"\\(?:url|href)\s*\{([^{}]*)\}")


def targets(text: str) -> list[str]:
    """The link targets written in ``text``: Markdown links and autolinks, reference
    definitions, raw HTML ``href``/``src``, TeX ``\\url{…}`` and ``\\href{…}``."""
    found: list[str] = []
    for match in _MD_LINK.finditer(text):
        found.append(match.group(1) if match.group(1) is not None else match.group(2))
    found += [m.group(1) for m in _AUTO.finditer(text)]
    found += [next(g for g in m.groups() if g is not None) for m in _HTML_ATTR.finditer(text)]
    found += [m.group(1) for m in _REF_DEF.finditer(text)]
    found += [m.group(1) for m in _TEX.finditer(text)]
    return [t for t in found if t is not None]


def field_findings(data: Any, lines: Mapping[str, int], rel: str, pointer: str = ""
                   ) -> list[Finding]:
    """A finding for every link in the strings of ``data`` (YAML read by frontmatter,
    with its line map) that the policy does not allow."""
    found: list[Finding] = []
    if isinstance(data, Mapping):
        for name, value in data.items():
            found += field_findings(value, lines, rel, f"{pointer}/{name}".lstrip("/"))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += field_findings(value, lines, rel, f"{pointer}/{index}".lstrip("/"))
    elif isinstance(data, str):
        images = {m.group(1) if m.group(1) is not None else m.group(2)
                  for m in _MD_IMAGE.finditer(data)}
        for target in targets(data):
            if target in images:
                # pandoc would fetch it for the DOCX: only an image given as data
                ok = normal(target).lower().startswith(RASTER)
                problem = None if ok else "an image that is not a data: URL (a field of " \
                    "text can hold no file and fetch nothing)"
            else:
                problem = verdict(target)
            if problem is not None:
                found.append(Finding("error", rel, _line(lines, pointer),
                                     f"{problem}: '{shown(target)}'",
                                     IMAGE_HINT if target in images else HINT, RULE))
    return found


def _line(lines: Mapping[str, int], pointer: str) -> int:
    while pointer and pointer not in lines:
        pointer = pointer.rpartition("/")[0]
    return lines.get(pointer, 1)


def url_field_problem(name: str, value: str) -> str | None:
    """What is wrong with a bibliography field ``name`` (url, doi, any other): its
    value as a link (url), a DOI (doi), or the links written inside it."""
    text = normal(value)
    if name == "url" and text:
        inner = targets(text)
        for target in inner or [text]:
            problem = verdict(target)
            if problem is not None:
                return f"{problem}: '{shown(target)}'"
        return None
    if name == "doi" and text:
        if "\\" in text or re.search(r"[\s<>\"]", text):
            return f"a DOI with a backslash, space or bracket: '{shown(text)}'"
        if _SCHEME.match(text):
            problem = verdict(text)
            return None if problem is None else f"{problem}: '{shown(text)}'"
        return None
    for target in targets(text):
        problem = verdict(target)
        if problem is not None:
            return f"{problem}: '{shown(target)}'"
    return None


# --- the outputs, before they are published -------------------------------------------


@dataclass(frozen=True)
class OutputProblem:
    output: str
    what: str
    target: str


def output_problems(files: Mapping[str, bytes], names: Iterable[str] = ()) -> list[
        OutputProblem]:
    """Every link in the outputs ``files`` (name under build/ → bytes) the policy does not
    allow. Relative links are allowed only to another output of the set (``names``, the
    files of the set, and ``files`` themselves)."""
    present = set(names) | set(files)
    found: list[OutputProblem] = []
    for name, data in sorted(files.items()):
        if name.endswith(".html"):
            found += _html_links(name, data, present)
        elif name.endswith(".docx"):
            found += _docx_links(name, data)
        elif name.endswith(".pdf"):
            found += _pdf_links(name, data)
        elif name.endswith(".svg"):
            problem = svg_problem(data)
            if problem is not None:
                found.append(OutputProblem(name, problem, name))
    return found


def _relative_ok(name: str, target: str, present: set[str]) -> bool:
    text = normal(target)
    if "\\" in text or text.startswith("/") or _SCHEME.match(text):
        return False
    path = urlsplit(text).path
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(name), unquote(path)))
    return joined in present


def _beside(name: str, target: str) -> bool:
    """A relative image path that stays inside build/ (an image beside the page)."""
    text = normal(target)
    if not text or "\\" in text or text.startswith("/") or _SCHEME.match(text):
        return False
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(name),
                                               unquote(urlsplit(text).path)))
    return not joined.startswith(("../", "/")) and joined != ".."


def _html_links(name: str, data: bytes, present: set[str]) -> list[OutputProblem]:
    from lxml import etree
    from lxml import html as lhtml

    try:
        root = lhtml.document_fromstring(data, parser=lhtml.HTMLParser(huge_tree=True))
    except (etree.ParserError, ValueError):
        return []
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attr in ("href", "src", "action", "formaction", "poster", "data", "xlink:href"):
            value = element.get(attr)
            if value is None or _relative_ok(name, value, present):
                continue
            if attr == "src" and (normal(value).lower().startswith(RASTER)
                                  or _beside(name, value)):
                continue
            if attr == "src" and normal(value).lower().startswith("data:image/svg+xml"):
                image = _data_bytes(value)
                problem = "a data: URL that does not decode" if image is None else \
                    svg_problem(image)
            else:
                problem = verdict(value)
            if problem is not None:
                found.append(OutputProblem(name, problem, value))
        for attr in ("srcset", "imagesrcset"):
            for candidate in (element.get(attr) or "").split(","):
                target = candidate.strip().split(" ")[0]
                if target and not normal(target).lower().startswith(RASTER) and \
                        not _beside(name, target):
                    found.append(OutputProblem(name, "an image set that fetches", target))
        if element.tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            found.append(OutputProblem(name, "a page that sends the reader elsewhere",
                                       element.get("content") or ""))
        css = element.text if element.tag == "style" else element.get("style")
        if css:
            found += [OutputProblem(name, problem, target) for problem, target in
                      _css_problems(css)]
    return found


_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?["']?([^"')\s;]*)""", re.I)


def _css_problems(css: str) -> list[tuple[str, str]]:
    """What a style sheet in an output refers to that a browser would fetch: only data:
    fonts and images (an SVG inert) and #fragments may be referred to."""
    found = []
    for match in _CSS_IMPORT.finditer(css):
        found.append(("a style sheet that imports another", match.group(1)))
    for match in _CSS_URL.finditer(css):
        target = next((g for g in match.groups() if g is not None), "")
        text = normal(target).lower()
        if text.startswith("#") or text.startswith(RASTER) or text.startswith("data:font/") \
                or text.startswith(("data:application/font", "data:application/x-font")):
            continue
        if text.startswith("data:image/svg+xml"):
            image = _data_bytes(target)
            problem = svg_problem(image) if image is not None else "a data: URL that " \
                "does not decode"
            if problem is None:
                continue
            found.append((problem, target))
            continue
        found.append(("a style that refers to something a browser would fetch", target))
    return found


def _docx_links(name: str, data: bytes) -> list[OutputProblem]:
    import io
    import zipfile

    from lxml import etree

    found = []
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return []
    for item in package.namelist():
        if not item.endswith(".rels"):
            continue
        root = etree.fromstring(package.read(item),
                                etree.XMLParser(resolve_entities=False, huge_tree=True))
        for rel in root:
            target = rel.get("Target") or ""
            if rel.get("TargetMode") == "External" or _SCHEME.match(target) or \
                    "\\" in target or target.startswith("//"):
                problem = verdict(target)
                if problem is not None:
                    found.append(OutputProblem(name, problem, target))
    for item in package.namelist():
        if item.startswith("word/media/") and item.lower().endswith(".svg"):
            problem = svg_problem(package.read(item))
            if problem is not None:
                found.append(OutputProblem(name, problem, item))
    return found


def _pdf_links(name: str, data: bytes) -> list[OutputProblem]:
    import io

    import pikepdf

    found = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            for annotation in page.obj.get("/Annots") or []:
                action = annotation.get("/A")
                if action is None:
                    continue
                kind = str(action.get("/S", ""))
                if kind == "/URI":
                    target = str(action.get("/URI", ""))
                    problem = verdict(target)
                    if problem is not None:
                        found.append(OutputProblem(name, problem, target))
                elif kind in ("/Launch", "/GoToR", "/GoToE", "/JavaScript", "/ImportData",
                              "/SubmitForm", "/Rendition"):
                    found.append(OutputProblem(name, f"a {kind[1:]} action", kind))
        if ("/Names" in pdf.Root and "/JavaScript" in pdf.Root.Names) or ("/OpenAction" in \
                pdf.Root and str(pdf.Root.OpenAction.get("/S", "")) == "/JavaScript"):
            found.append(OutputProblem(name, "a JavaScript action", "/JavaScript"))
    return found


def check_outputs(project: Project, files: Mapping[str, bytes], names: Iterable[str] = ()
                  ) -> None:
    """Raise BriefError for the first output link the policy does not allow, at the input
    file and line that writes it (else at the output)."""
    found = output_problems(files, names)
    if not found:
        return
    first = found[0]
    where = locate(project, first.target) or (f"build/{first.output}", 1)
    raise BriefError(f"{first.what}: '{shown(first.target)}' (in {first.output})", *where,
                     hint=HINT, rule="link.not-allowed")
