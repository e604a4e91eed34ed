"""House style without touching templates: colours, logo and faces from YAML.

A team keeps its house style in ``report/_house.yaml`` (shared across briefs); a brief
can override any of it under ``house:`` in ``report/brief.yaml``. ``_house.yaml`` may also
give the defaults of the brief's ``institution``, ``series``, ``licence`` and
``suggested_citation``. The templates read the result as ``house``: the CSS of the PDF
and the web page, the cover and masthead (the logo), and the DOCX reference document.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import confine, frontmatter, schemas, textfile
from .errors import BriefError
from .model import Finding, Meta, Project

FILE = "_house.yaml"
SHARED = ("institution", "series", "licence", "suggested_citation")
STYLE = ("accent", "logo", "serif", "sans")
DEFAULT_ACCENT = "#1f4e79"
MEDIA = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
         ".jpeg": "image/jpeg"}
LOGO_LIMIT = 2 * 2**20


@dataclass(frozen=True)
class House:
    """The resolved house style, as templates and the DOCX writer use it."""

    accent: str = DEFAULT_ACCENT
    serif: str = "Noto Serif"
    sans: str = "Noto Sans"
    logo_path: str = ""
    logo_type: str = ""
    logo_bytes: bytes = b""
    logo_at: str = ""  # the file and line that name the logo
    logo_line: int = 1

    @property
    def accent_dark(self) -> str:
        return _mix(self.accent, "#000000", 0.28)

    @property
    def accent_soft(self) -> str:
        return _mix(self.accent, "#ffffff", 0.9)

    @property
    def logo(self) -> str:
        """The logo as a ``data:`` URL (self-contained HTML, nothing for PDF to fetch)."""
        if not self.logo_bytes:
            return ""
        return f"data:{self.logo_type};base64,{base64.b64encode(self.logo_bytes).decode()}"

    def fingerprint(self) -> str:
        # sha256, not hash(): bytes hash differently in every process
        return repr((self.accent, self.serif, self.sans, self.logo_path,
                     hashlib.sha256(self.logo_bytes).hexdigest()))


def _mix(colour: str, other: str, amount: float) -> str:
    a = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * amount):02x}" for x, y in zip(a, b, strict=True))


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
        from .links import svg_problem

        return svg_problem(content) or ""
    if not content.startswith(MAGIC[kind]):
        return f"the file is not a {kind.split('/')[1].upper()} image"
    try:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except Exception as exc:  # Pillow raises many kinds for a damaged file
        return f"the {kind.split('/')[1].upper()} image is damaged ({type(exc).__name__})"
    return ""


def logo_png(house: House, width_px: int = 600) -> bytes:
    """The logo as PNG, for Word (which takes no SVG): SVG is drawn by WeasyPrint."""
    if house.logo_type != "image/svg+xml":
        return house.logo_bytes
    from lxml import etree

    from .figures import to_png

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(house.logo_bytes, parser)
    box = (root.get("viewBox") or "").replace(",", " ").split()
    try:
        width, height = (float(box[2]), float(box[3])) if len(box) == 4 else (
            float(str(root.get("width", "300")).rstrip("px")),
            float(str(root.get("height", "100")).rstrip("px")))
    except ValueError:
        width, height = 300.0, 100.0
    if not (0 < width < 10_000 and 0 < height < 10_000):
        width, height = 300.0, 100.0
    return to_png(house.logo_bytes.decode("utf-8"), width, height,
                  dpi=max(72, round(width_px / max(width, 1) * 96)))


def style_of(house: House) -> dict[str, Any]:
    """What the DOCX reference document needs."""
    return {"accent": house.accent, "serif": house.serif, "sans": house.sans}


def assets(project: Project) -> Path:
    return project.root / "assets"
