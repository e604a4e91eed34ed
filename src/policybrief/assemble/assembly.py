"""Stage 5, assemble: the checked brief through Jinja into one pandoc Markdown document.

One Jinja environment serves every template: the project's ``templates/`` first, the
packaged defaults second, ``StrictUndefined`` (a missing variable is an error, not an
empty string), autoescape on for the HTML and SVG templates and off for Markdown.
Citations in the project's own syntax are rewritten for pandoc last, with the locators
the checks found and a marker that links each note to its source passage.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Collection, Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .. import citations as cit
from .. import kept
from ..errors import BriefError
from ..model import Brief, Citation, Project, QuoteMatch
from ..typography import smart

HTML_SUFFIXES = ("html", "htm", "xml", "svg", "html.j2", "svg.j2", "xml.j2")


def default_templates() -> Path:
    return Path(str(resources.files("policybrief").joinpath("templates")))


def environment(project: Project) -> Any:
    """The one Jinja environment of ``project``."""
    templates = project.templates if project.templates.is_dir() else None
    return _environment(templates, kept.cache_folder(project.build, kept.JINJA_CACHE))


@cache
def _environment(templates: Path | None, compiled: Path | None) -> Any:
    """The one Jinja environment for a project (``templates`` may be missing); the
    compiled templates kept in ``compiled`` (None: compiled on each run)."""
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if templates is not None and templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    loaders.append(jinja2.FileSystemLoader(str(default_templates())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(HTML_SUFFIXES, default_for_string=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_compiled(compiled) if compiled is not None else None,
    )
    env.filters["cite"] = cite_filter
    env.filters["with_cites"] = with_cites_filter
    env.filters["cell"] = cell_filter
    env.filters["smart"] = smart
    return env


LARGEST_COMPILED = 8 * 2**20


def _compiled(folder: Path) -> Any:
    """The templates as Jinja compiled them, kept between builds in ``folder`` (under
    build/.cache), so that a build need not compile them again (about 0.1 s). Each is
    checked by Jinja against its template's source; its file is named by the folder's
    identity as well as the template (kept.py), so that none is ever loaded that this
    folder's builds did not write: a compiled template is code. What a build compiles
    is written only once it publishes (:func:`keep_compiled`): a build that fails
    writes nothing."""
    import jinja2

    class Kept(jinja2.BytecodeCache):
        def __init__(self) -> None:
            self.folder = folder
            self.pending: dict[str, bytes] = {}  # bucket key → compiled, to be written

        def path(self, key: str, make: bool = False) -> Path:
            here = kept.identity(folder, make)
            name = hashlib.sha256(f"{here}\0{key}".encode()).hexdigest()
            return folder / f"{_tag(here)}-{name}.jinja"

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with contextlib.suppress(OSError, ValueError):  # (none kept yet, or damaged)
                bucket.bytecode_from_string(kept.read(self.path(bucket.key),
                                                      LARGEST_COMPILED))

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            self.pending[bucket.key] = bucket.bytecode_to_string()

    return Kept()


def keep_compiled(project: Project) -> None:
    """Write the templates this process compiled for ``project`` to its cache (by a
    build that publishes, under build/'s lock). A full disk: compiled again next time."""
    cache = environment(project).bytecode_cache
    pending = getattr(cache, "pending", None)
    if not pending:
        return
    with contextlib.suppress(OSError):
        for key, data in list(pending.items()):
            kept.write(cache.path(key, make=True), data)
            del pending[key]
        # what no build of this folder loads (written under another identity: the folder
        # was copied; half written by a build that was killed) goes, so that it holds
        # one set of compiled templates (a build holds build/'s lock as it writes here)
        mine = f"{_tag(kept.identity(cache.folder, make=False))}-"
        kept.clear(cache.folder, lambda name: name == kept.MADE or name.startswith(mine))


def _tag(identity: str) -> str:
    """What begins the names of the compiled templates a cache folder's builds write."""
    return hashlib.sha256(f"tag\0{identity}".encode()).hexdigest()[:16]


def cite_filter(refs: Iterable[Mapping[str, str]]) -> str:
    """Structured citations (``key``, ``locator``, ``quote``) as one citation group."""
    items = [cit.format_cite(r["key"], r.get("locator"), r.get("quote")) for r in refs]
    return "[" + "; ".join(items) + "]" if items else ""


def with_cites_filter(text: str, refs: Iterable[Mapping[str, str]]) -> str:
    """``text`` and its structured citations: joined to the text's last citation group
    (one note, not two side by side, and not on the brief's own closing judgment),
    or as a group after the text if it cites nothing itself."""
    items = [cit.format_cite(r["key"], r.get("locator"), r.get("quote")) for r in refs or []]
    joined = cit.join_last_group(text, items)
    return joined if joined is not None else text + cite_filter(refs or [])


def cell_filter(text: object) -> str:
    """Text made safe for one cell of a pandoc pipe table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def render(project: Project, name: str, **context: Any) -> str:
    """Render template ``name``; a template problem is a BriefError at its file and line."""
    import jinja2

    env = environment(project)
    try:
        return str(env.get_template(name).render(**context))
    except jinja2.TemplateSyntaxError as exc:
        where = _template_path(project, exc.name or name, exc.filename)
        raise BriefError(f"template error: {exc.message}", where, exc.lineno,
                         hint="close every {% if %} and {% for %} with {% endif %} and "
                              f"{{% endfor %}}; or delete {where} to use the packaged "
                              "template again", rule="template") from None
    except jinja2.UndefinedError as exc:
        path, line = _traceback_location(project, name)
        raise BriefError(f"template error: {exc.message}", path, line,
                         hint="a template uses a variable the brief does not have",
                         rule="template") from None
    except jinja2.TemplateNotFound as exc:
        raise BriefError(f"template '{exc.name}' not found", f"templates/{name}", 1,
                         rule="template") from None


def _template_path(project: Project, name: str, filename: str | None) -> str:
    """A template's path as messages print it; packaged defaults are marked so."""
    if not filename:
        return f"templates/{name}"
    path = Path(filename).resolve()
    if path.is_relative_to(project.root.resolve()):
        return project.rel(path)
    return f"templates/{path.relative_to(default_templates().resolve()).as_posix()} (default)"


def _traceback_location(project: Project, name: str) -> tuple[str, int]:
    """The innermost template frame of the exception being handled."""
    import sys
    import traceback

    frames = traceback.extract_tb(sys.exc_info()[2])
    for frame in reversed(frames):
        if frame.filename.endswith(".j2") or "/templates/" in frame.filename:
            return _template_path(project, name, frame.filename), frame.lineno or 1
    return f"templates/{name}", 1


def evidence_id(key: str, quote: str) -> str:
    return "ev-" + hashlib.sha1(f"{key}\0{quote}".encode()).hexdigest()[:10]


UNVERIFIED = r"[\[unverified\]]{.unverified}"  # plain text, so every format shows it


def resolver(brief: Brief, locators: Mapping[Citation, str],
             matches: Mapping[Citation, QuoteMatch],
             stale: Collection[Citation] = ()) -> cit.Resolver:
    """Map a citation as written in assembled text back to what the checks found.

    ``stale`` citations (their evidence vanished; built with --allow-stale) are marked.
    """
    by_text: dict[tuple[str, str | None, str | None], tuple[str | None, str | None]] = {}
    for c in brief.citations:
        loc = locators.get(c, c.locator)
        if c in stale:
            loc = f"{loc} {UNVERIFIED}" if loc else UNVERIFIED
        ev = evidence_id(c.key, c.quote) if c in matches and c.quote else None
        by_text[(c.key, c.locator, c.quote)] = (loc, ev)

    def resolve(cite: cit.Cite) -> tuple[str | None, str | None]:
        return by_text.get((cite.key, cite.locator, cite.quote), (cite.locator, None))

    return resolve


def assemble(brief: Brief, locators: Mapping[Citation, str],
             matches: Mapping[Citation, QuoteMatch], extra: Mapping[str, Any],
             stale: Collection[Citation] = ()) -> str:
    """The whole brief as pandoc Markdown."""
    context = {"meta": brief.meta.fields, "sections": brief.sections, **extra}
    text = render(brief.project, "brief.md.j2", **context)
    return cit.to_pandoc(text, resolver(brief, locators, matches, stale))
