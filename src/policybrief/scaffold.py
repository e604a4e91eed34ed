"""Starting and growing a brief project: ``brief init``, ``brief new-section`` and
``brief templates list|copy``.

``init`` lays out a new project like this repository's, with a stub section of every
kind; ``new_section`` adds one stub and lists it in ``report/brief.yaml``, editing the
text of the file (one line added) so its comments and layout survive. Stubs (front
matter ``status: stub``) are left out of the build until filled in; see
``sections.read_section``. The starter files live in ``policybrief/defaults/``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from . import frontmatter, schemas
from .errors import BriefError, UsageError
from .model import Project

# The stubs `brief init` writes: (kind, title), in reading order.
STARTER = (
    ("summary", "Key judgments"),
    ("background", "Background"),
    ("motives", "Motives and drivers"),
    ("opportunities", "Opportunities"),
    ("challenges", "Challenges"),
    ("scenarios", "Scenarios"),
    ("implications", "Implications"),
    ("recommendations", "Recommendations"),
    ("method", "Sources and method"),
)
TEMPLATE_SUFFIXES = (".j2", ".css")
WIDTH = 80  # the longest description `brief templates list` prints
NUMBERED = re.compile(r"^(\d+)-")


def defaults() -> Path:
    return Path(str(resources.files("policybrief").joinpath("defaults")))


def today() -> dt.date:
    """``SOURCE_DATE_EPOCH`` as a date when it is set (reproducible runs), else today."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.date.today()


def yaml_string(text: str) -> str:
    """``text`` as a double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def title_from_folder(folder: Path) -> str:
    """``water-brief`` → ``Water brief``."""
    words = re.sub(r"[-_.]+", " ", folder.name).strip()
    return (words[:1].upper() + words[1:]) if words else "New brief"


# --- stubs ---------------------------------------------------------------------------


def check_kind(kind: str) -> str:
    """``kind`` if it is a section kind; else a usage error with a did-you-mean."""
    if kind in schemas.KINDS:
        return kind
    hint = schemas.suggest(kind, schemas.KINDS)
    raise UsageError(f"'{kind}' is not a section kind",
                     hint=(hint + " " if hint else "") + "kinds: " + ", ".join(schemas.KINDS))


def stub_text(kind: str, title: str) -> str:
    """The stub section of ``kind``: every required field with a starter value."""
    check_kind(kind)
    text = (defaults() / "sections" / f"{kind}.md").read_text("utf-8")
    return text.replace("__TITLE__", yaml_string(title))


# --- brief init ----------------------------------------------------------------------


def init(dest: Path, title: str | None = None) -> list[str]:
    """Lay out a new brief project in ``dest``; the files written, relative to it."""
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"'{dest}' exists and is not a folder",
                         hint="give the path of a new folder: brief init ../my-brief")
    if dest.is_dir():
        present = sorted(p.name for p in dest.iterdir() if not p.name.startswith("."))
        if present:
            shown = ", ".join(present[:4]) + (" …" if len(present) > 4 else "")
            raise UsageError(f"'{dest}' is not empty ({shown})",
                             hint="give the path of a new or empty folder: brief init "
                                  "../my-brief")
    title = (title or "").strip() or title_from_folder(dest.resolve())
    date = today().isoformat()
    # (nothing of this machine: the project works in another folder, on another machine)
    fills = {"__TITLE_TEXT__": title, "__TITLE__": yaml_string(title), "__DATE__": date}
    written: list[str] = []
    source = defaults() / "project"
    for path in sorted(source.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(source)
        if rel.name == "gitignore":
            rel = rel.with_name(".gitignore")
        text = path.read_text("utf-8")
        for placeholder, value in fills.items():
            text = text.replace(placeholder, value)
        _write(dest / rel, text)
        written.append(rel.as_posix())
    for i, (kind, section_title) in enumerate(STARTER, start=1):
        rel = Path("report", "sections", f"{i:02d}-{kind}.md")
        _write(dest / rel, stub_text(kind, section_title))
        written.append(rel.as_posix())
    return sorted(written)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


# --- brief new-section ---------------------------------------------------------------


@dataclass(frozen=True)
class NewSection:
    path: str  # relative to the project root
    name: str  # as listed in brief.yaml


def next_number(project: Project, listed: list[str]) -> int:
    """One more than the highest ``NN-`` of the section files and listed names."""
    names = [p.name for p in project.sections_dir.glob("*.md")] + listed
    numbers = [int(m.group(1)) for n in names if (m := NUMBERED.match(n))]
    return max(numbers, default=0) + 1


def new_section(project: Project, kind: str, title: str) -> NewSection:
    """Write a stub section of ``kind`` and list it at the end of ``sections:``."""
    from .sections import slugify

    check_kind(kind)
    if not title.strip():
        raise UsageError("the section needs a title", hint='brief new-section motives '
                                                          '"Why now"')
    yaml_path = project.report / "brief.yaml"
    rel_yaml = project.rel(yaml_path)
    if not yaml_path.is_file():
        raise UsageError(f"no brief project in {project.root} (no report/brief.yaml "
                         "there or in a folder above)", hint="run the command inside a "
                         "project, give one with -C DIR, or start one with 'brief init DIR'")
    text = yaml_path.read_text("utf-8")
    meta = frontmatter.parse(text, rel_yaml)
    listed = [n for n in meta.data.get("sections") or [] if isinstance(n, str)]
    name = f"{next_number(project, listed):02d}-{slugify(title)}.md"
    path = project.sections_dir / name
    if path.exists():
        raise UsageError(f"{project.rel(path)} already exists", hint="choose another title")
    updated = append_section(text, name, rel_yaml)
    check = frontmatter.parse(updated, rel_yaml).data.get("sections")
    if not isinstance(check, list) or check[-1:] != [name]:
        raise BriefError("could not add the section to 'sections:' in report/brief.yaml",
                         rel_yaml, meta.lines.get("sections", 1),
                         hint=f"add the line  - \"{name}\"  at the end of its sections: list")
    _write(path, stub_text(kind, title.strip()))
    yaml_path.write_text(updated, "utf-8")
    return NewSection(project.rel(path), name)


ITEM = re.compile(r"^(?P<indent>[ \t]*)-[ \t]+(?P<value>.*?)[ \t]*(?:#.*)?$")


def append_section(text: str, name: str, path: str = "report/brief.yaml") -> str:
    """``text`` (brief.yaml) with ``- "name"`` added as the last item of ``sections:``.

    Only one line is inserted: comments, quoting and the order of fields stay as they
    were. A flow-style list (``sections: [a, b]``) is refused with a hint.
    """
    lines = text.split("\n")
    start = next((i for i, row in enumerate(lines)
                  if re.match(r"^sections[ \t]*:", row)), None)
    if start is None:
        tail = "" if text.endswith("\n") or not text else "\n"
        return f'{text}{tail}sections:\n  - {yaml_string(name)}\n'
    rest = re.sub(r"#.*$", "", lines[start].split(":", 1)[1]).strip()
    if rest:
        raise BriefError("'sections:' is written on one line, which cannot be extended "
                         "safely", path, start + 1,
                         hint=f"write it as a list, one '- \"file.md\"' per line, or add "
                              f"\"{name}\" yourself")
    last, indent, quote = start, "  ", '"'
    for i in range(start + 1, len(lines)):
        row = lines[i]
        if not row.strip() or row.lstrip().startswith("#"):
            continue
        item = ITEM.match(row)
        if item is None:  # the next field: the list ended on the line before
            break
        last, indent = i, item.group("indent")
        value = item.group("value")
        quote = value[0] if value[:1] in ("\"", "'") else ""
    entry = yaml_string(name) if quote == '"' else f"'{name}'" if quote == "'" else name
    lines.insert(last + 1, f"{indent}- {entry}")
    return "\n".join(lines)


# --- brief templates -----------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    name: str  # relative to templates/, forward slashes
    description: str
    overridden: bool  # the project has its own copy
    packaged: bool = True  # False: the project's own, with no packaged default


def packaged_templates() -> dict[str, Path]:
    """Every packaged template and stylesheet by name: of the fonts, only their
    stylesheet ``fonts/fonts.css`` (copied with the faces it names, see
    :func:`companions`)."""
    from .assembly import default_templates

    root = default_templates()
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and path.suffix in TEMPLATE_SUFFIXES and (
                rel.parts[0] != "fonts" or rel.as_posix() == FONTS_CSS):
            found[rel.as_posix()] = path
    return found


FONTS_CSS = "fonts/fonts.css"


def companions(name: str, path: Path) -> dict[str, Path]:
    """The files a packaged stylesheet needs beside it: for ``fonts/fonts.css``, the
    font files its ``url()``s name and their licence (the project's copy replaces the
    packaged one, so it must bring its faces along)."""
    if name != FONTS_CSS:
        return {}
    folder = path.parent
    names = re.findall(r"url\(\s*[\"']?([^\"')]+)[\"']?\s*\)", path.read_text("utf-8"))
    found = {f"fonts/{n}": folder / n for n in [*names, "OFL.txt"]
             if "/" not in n and (folder / n).is_file()}
    return dict(sorted(found.items()))


def describe(path: Path) -> str:
    """The first sentence of a template's leading comment (``{#- … -#}`` or ``/* … */``)."""
    text = path.read_text("utf-8", errors="replace")[:4000]
    found = re.match(r"\s*(?:\{#-?(?P<jinja>.*?)-?#\}|/\*(?P<css>.*?)\*/)", text, re.S)
    if not found:
        return ""
    comment = " ".join((found.group("jinja") or found.group("css") or "").split())
    sentence = re.split(r"(?<=[.!?])\s", comment, maxsplit=1)[0]
    if len(sentence) <= WIDTH:
        return sentence
    head = sentence[:WIDTH]
    cut = max(head.rfind(","), head.rfind(";"))
    return (head[:cut] if cut > WIDTH // 3 else head.rsplit(" ", 1)[0]).rstrip(" ,;:") + " …"


def list_templates(project: Project) -> list[Template]:
    packaged = packaged_templates()
    own = project.templates
    found = [Template(name, describe(own / name if (own / name).is_file() else path),
                      (own / name).is_file())
             for name, path in packaged.items()]
    if own.is_dir():
        for path in sorted(own.rglob("*")):
            rel = path.relative_to(own).as_posix()
            if path.is_file() and path.suffix in TEMPLATE_SUFFIXES and rel not in packaged:
                found.append(Template(rel, describe(path), True, packaged=False))
    return found


def copy_templates(project: Project, names: list[str], force: bool = False) -> list[str]:
    """Copy packaged templates (a file, or every template of a folder) into templates/."""
    packaged = packaged_templates()
    todo: dict[str, Path] = {}
    for raw in names:
        name = raw.strip().strip("/").removeprefix("templates/")
        chosen = {n: p for n, p in packaged.items() if n == name or n.startswith(name + "/")}
        if not chosen:
            hint = schemas.suggest(name, packaged) or schemas.suggest(
                Path(name).name, [Path(n).name for n in packaged])
            raise UsageError(f"there is no packaged template '{raw}'",
                             hint=(hint + " " if hint else "") + "'brief templates list' "
                             "shows them all")
        todo.update(chosen)
    clashes = [n for n in todo if (project.templates / n).exists()]
    if clashes and not force:
        raise UsageError(f"templates/{clashes[0]} already exists in the project"
                         + (f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""),
                         hint="keep your copy, or add --force to overwrite it with the "
                              "packaged default")
    for name, path in list(todo.items()):
        todo.update({n: p for n, p in companions(name, path).items()
                     if force or not (project.templates / n).exists()})
    written = []
    for name, path in todo.items():
        target = project.templates / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        written.append(f"templates/{name}")
    return written
