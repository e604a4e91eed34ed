"""Internal errors: a fault of policybrief itself reported as one line and a log file.

The CLI (and ``brief watch``) catch every exception that is not one of the project's
own (errors.py) here: the user sees one line saying what happened and where the
traceback was written, never a bare traceback; the exit status is 70 (EX_SOFTWARE).
"""

from __future__ import annotations

INTERNAL = 70  # EX_SOFTWARE: a fault of policybrief itself, not of the inputs


def internal(exc: BaseException, build: object = None) -> str:
    """A one-line report of an unexpected exception, with the traceback written to a
    log file under ``build/.logs`` (``build``: the project's build/ folder, made if need
    be). Nothing is written outside the project: with no project, or a build/ that
    cannot be written, the line says where in policybrief the fault was raised."""
    import datetime as dt
    import os
    import traceback
    from pathlib import Path

    text = "".join(traceback.format_exception(exc))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"internal-error-{stamp}-{os.getpid()}.log"
    where = ""
    if build is not None:
        folder = Path(str(build)) / ".logs"
        try:
            if not (folder.is_symlink() or folder.parent.is_symlink()):
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / name
                with open(path, "x", encoding="utf-8") as handle:
                    handle.write(text)
                where = str(path)
        except OSError:
            where = ""
    summary = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(summary) > 200:
        summary = summary[:199] + "…"
    said = f"internal error (a fault in policybrief, not in your brief): {summary}"
    if where:
        return f"{said}; the traceback is in {where}\n  hint: please report it with that file"
    frames = traceback.extract_tb(exc.__traceback__)
    at = f" (raised at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{said}{at}\n  hint: please report it with the command you ran"
