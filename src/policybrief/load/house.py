"""House style without touching templates: colours, logo and faces from YAML.

A team keeps its house style in ``report/_house.yaml`` (shared across briefs); a brief
can override any of it under ``house:`` in ``report/brief.yaml``. ``_house.yaml`` may also
give the defaults of the brief's ``institution``, ``series``, ``licence`` and
``suggested_citation``. The templates read the result as ``house``: the CSS of the PDF
and the web page, the cover and masthead (the logo), and the DOCX reference document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import confine, schemas
from ..errors import BriefError
from ..model import DEFAULT_ACCENT, Finding, House, Meta, Project
from . import frontmatter, textfile

FILE = "_house.yaml"
SHARED = ("institution", "series", "licence", "suggested_citation")
STYLE = ("accent", "logo", "serif", "sans")
MEDIA = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
         ".jpeg": "image/jpeg"}
LOGO_LIMIT = 2 * 2**20


def read_shared(project: Project) -> tuple[dict[str, Any], dict[str, int], list[Finding]]:
    """``report/_house.yaml``, validated, or nothing when there is none (or it cannot be
    read: then the finding says why, and loading goes on)."""
    path = project.report / FILE
    if not path.is_file():
        return {}, {}, []
    rel = project.rel(path)
    try:
        doc = frontmatter.parse(textfile.read(path, rel), rel)
    except BriefError as exc:
        return {}, {}, [exc.finding()]
    return doc.data, doc.lines, schemas.validate(doc.data, doc.lines, rel, "house",
                                                 cols=doc.cols)


Origin = dict[str, tuple[str, int]]


def merge(brief: dict[str, Any], brief_lines: dict[str, int], brief_rel: str,
          shared: dict[str, Any], shared_lines: dict[str, int], shared_rel: str
          ) -> tuple[dict[str, Any], Origin]:
    """The brief's fields over the shared ones: ``_house.yaml`` only fills gaps.

    This is the one precedence rule (docs/templates.md): a field set in
    ``report/brief.yaml`` wins over the same field in ``report/_house.yaml``; ``brief
    check`` warns when both set it (``house.shadowed``). Returns the merged fields and,
    for each value that came from ``_house.yaml``, its file and line: what a finding
    about it points at.
    """
    merged = dict(brief)
    origin: Origin = {}

    def take(pointer: str, shared_pointer: str) -> None:
        for key, line in shared_lines.items():
            if key == shared_pointer or key.startswith(shared_pointer + "/"):
                origin[pointer + key[len(shared_pointer):]] = (shared_rel, line)

    for name in SHARED:
        if name not in merged and name in shared:
            merged[name] = shared[name]
            take(name, name)
    style = {k: v for k, v in shared.items() if k in STYLE}
    if style or "house" in merged:
        mine = merged.get("house")
        mine = mine if isinstance(mine, dict) else {}
        merged["house"] = {**style, **mine}
        for name in style:
            if name not in mine:
                take(f"house/{name}", name)
    return merged, origin


def shadowed(brief: dict[str, Any], brief_lines: dict[str, int], brief_rel: str,
             shared: dict[str, Any], shared_lines: dict[str, int], shared_rel: str
             ) -> list[Finding]:
    """A warning for each field both files set: the brief's value hides the house one."""
    found = []
    mine = brief.get("house") if isinstance(brief.get("house"), dict) else {}
    pairs = [(name, name, brief) for name in SHARED] + \
        [(f"house/{name}", name, mine) for name in STYLE]
    for pointer, name, where in pairs:
        if name not in shared or not isinstance(where, dict) or name not in where:
            continue
        label = pointer.replace("/", ".")
        same = where[name] == shared[name]
        found.append(Finding(
            "warning", brief_rel, brief_lines.get(pointer, 1),
            f"'{label}' is set both here and in {shared_rel}:{shared_lines.get(name, 1)}"
            + ("; the two are the same" if same else "; this value wins over the house one"),
            f"remove '{name}' from {brief_rel} to use the house style's value"
            + ("" if same else ", or keep it to override the house style on purpose "
               "(ignore: [house.shadowed] silences this)"), "house.shadowed"))
    return found


def resolve(project: Project, meta: Meta) -> tuple[House, list[Finding]]:
    """The House for the brief's merged fields; a missing or unusable logo is an error,
    at the file and line that set the logo (brief.yaml or _house.yaml)."""
    style = meta.fields.get("house") or {}
    if not isinstance(style, dict):
        return House(), []
    findings = []
    logo = str(style.get("logo") or "")
    logo_type, data = "", b""
    if logo:
        meta_path, line = meta.where("house/logo")  # brief.yaml or _house.yaml
        path = confine.inside(project, logo, ("assets",))
        kind = MEDIA.get(Path(logo).suffix.lower(), "")

        def bad(message: str, hint: str) -> None:
            findings.append(Finding("error", meta_path, line, message, hint, "house.logo"))

        if path is None or not path.is_file():
            bad(f"logo '{logo}' is not a file in assets/", "put the logo in the project's "
                "assets/ folder and give its path, e.g. assets/logo.svg")
        elif not kind:
            bad(f"logo '{logo}' is neither SVG, PNG nor JPEG", "export the logo as .svg or .png")
        elif path.stat().st_size > LOGO_LIMIT:
            bad(f"logo '{logo}' is larger than 2 MB", "export a smaller logo")
        else:
            content = path.read_bytes()
            problem = image_problem(content, kind)
            if problem:
                bad(f"logo '{logo}': {problem}", "export the logo again as a plain SVG "
                    "(no script, no linked images or fonts) or as PNG")
            else:
                logo_type, data = kind, content
    house = House(accent=str(style.get("accent", DEFAULT_ACCENT)).lower(),
                  serif=str(style.get("serif", "Noto Serif")),
                  sans=str(style.get("sans", "Noto Sans")),
                  logo_path=logo if data else "", logo_type=logo_type, logo_bytes=data,
                  logo_at=meta_path if logo else "", logo_line=line if logo else 1)
    return house, findings


MAGIC = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}


def image_problem(content: bytes, kind: str) -> str:
    """"" when ``content`` is the image ``kind`` says and safe to draw, else what is
    wrong: a PNG or JPEG must be one (its signature, and Pillow can read it); an SVG must
    parse and be inert and self-contained (links.svg_problem)."""
    if kind == "image/svg+xml":
        from ..links import svg_problem

        return svg_problem(content) or ""
    if not content.startswith(MAGIC[kind]):
        return f"the file is not a {kind.split('/')[1].upper()} image"
    try:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except Exception as exc:  # noqa: BLE001 — Pillow raises many kinds for a damaged file
        return f"the {kind.split('/')[1].upper()} image is damaged ({type(exc).__name__})"
    return ""


def style_of(house: House) -> dict[str, Any]:
    """What the DOCX reference document needs."""
    return {"accent": house.accent, "serif": house.serif, "sans": house.sans}


def assets(project: Project) -> Path:
    return project.root / "assets"
