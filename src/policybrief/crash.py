"""Internal errors: a fault of policybrief itself reported as one line and a log file.

The CLI (and ``brief watch``) catch every exception that is not one of the project's
own (errors.py) here: the user sees one line saying what happened and where the
traceback was written, never a bare traceback; the exit status is 70 (EX_SOFTWARE).
"""

from __future__ import annotations

INTERNAL = 70  # EX_SOFTWARE: a fault of policybrief itself, not of the inputs


def internal(exc: BaseException, build: object = None) -> str:
    """A one-line report of an unexpected exception, with the traceback written to a
    log file (under ``build/`` when it can be written, else the temporary folder)."""
    import datetime as dt
    import os
    import tempfile
    import traceback
    from pathlib import Path

    text = "".join(traceback.format_exception(exc))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"internal-error-{stamp}-{os.getpid()}.log"
    folders = [Path(str(build)) / ".logs"] if build is not None else []
    folders.append(Path(tempfile.gettempdir()) / "policybrief-logs")
    where = ""
    for folder in folders:
        try:
            if folder.is_symlink() or (folder.parent.exists() and folder.parent.is_symlink()):
                continue
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            with open(path, "x", encoding="utf-8") as handle:
                handle.write(text)
            where = str(path)
            break
        except OSError:
            continue
    summary = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(summary) > 200:
        summary = summary[:199] + "…"
    pointer = f"; the traceback is in {where}" if where else ""
    return (f"internal error (a fault in policybrief, not in your brief): {summary}{pointer}"
            "\n  hint: please report it with that file")
