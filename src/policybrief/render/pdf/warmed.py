"""Imported only by the forkserver of the PDF layout processes (pdf.Workers), after
WeasyPrint: the house faces loaded once, there, before any layout process is forked
from it. Each process then starts with fontconfig, Pango's font map and the faces
ready (pdf._faces finds them), instead of loading them again, one after the other, on
cores the build needs for the layout itself.

The forkserver learns which faces from :data:`FACES`, an environment variable that
Workers sets for the moment the forkserver starts (the preload takes module names
only). Whatever goes wrong here only costs the processes their head start: each then
loads the faces itself, as it would without this.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FACES = "POLICYBRIEF_LAYOUT_FACES"

# The faces loaded here, kept for the life of the forkserver and of every process
# forked from it: a process that lets go of them (new faces, another brief) must not
# free what its siblings still use (a font configuration removes its folder of faces
# when freed).
KEPT: list[Any] = []


def _load() -> None:
    wanted = os.environ.pop(FACES, None)  # (not handed on to the processes forked)
    if not wanted:
        return
    try:
        spec = json.loads(wanted)
        faces = Path(spec["faces"]) if spec.get("faces") else None
        allowed = [Path(p) for p in spec.get("allowed", [])]
    except (ValueError, TypeError, KeyError):
        return
    from . import _FACES, _warm

    try:
        _warm(faces, allowed)
    except Exception:  # noqa: BLE001 — each process loads its faces itself, as before
        return
    KEPT.extend(_FACES.values())


_load()
