"""``brief sources lock``: accept the current state of every source into the lock.

The lock file itself (what it records, how it is read and written) is
:mod:`policybrief.load.lockfile`; this is the command that rewrites it as a whole,
refusing, unless forced, while locking would hide evidence the brief has lost.
"""

from __future__ import annotations

from ..errors import BriefError
from ..load.lockfile import Locked, current, lock_path, read, record, today, write
from ..model import Project


def losses(project: Project) -> list[str]:
    """What locking now would drop: each cited source whose file is missing and each
    quote (or ¶) that vanished from a changed source, as ``path:line: what`` lines."""
    from .. import pipeline
    from ..check import changes

    checked = pipeline.load(project)
    brief = checked.brief
    cited: dict[str, list[str]] = {}
    for c in brief.citations:
        cited.setdefault(c.key, []).append(f"{c.path}:{c.line}")
    lost = []
    for key, entry in sorted(brief.entries.items()):
        if entry.file and key not in brief.sources and key in cited:
            its = "its" if len(cited[key]) == 1 else "their"
            lost.append(f"{entry.path}:{entry.line}: the file of '{key}' ({entry.file}) is "
                        f"missing; {_count(len(cited[key]))} would lose {its} source, "
                        f"first at {cited[key][0]}")
    report = changes.compare(checked, read(project) or {})
    for ch in report.changed:
        for gone in ch.vanished:
            c = gone.citation
            what = f"the quote “{changes._short(c.quote, 60)}”" if c.quote else c.locator
            lost.append(f"{c.path}:{c.line}: {what} is gone from '{ch.key}' "
                        f"({ch.path}); locking would accept its loss")
    return lost


def _count(n: int) -> str:
    return f"{n} citation" + ("" if n == 1 else "s")


def accept(project: Project, added: str | None = None,
           force: bool = True) -> tuple[dict[str, Locked], bool]:
    """``brief sources lock``: record the current state of all sources.

    A source already in the lock keeps the day it was added; a new one gets ``added``
    (or today). Sources that are gone drop out. Returns the lock and whether it changed.
    Unless ``force``, refuses (BriefError listing them) while a cited source is missing
    or a quote has vanished from a changed source: locking would hide those losses.
    """
    if not force:
        try:
            lost = losses(project)
        except BriefError as exc:
            raise BriefError(f"cannot tell what locking would drop: {exc.message}",
                             exc.path, exc.line,
                             hint="fix that first, or lock anyway with --force",
                             rule=exc.rule) from None
        if lost:
            raise BriefError(
                "not locked: locking now would drop evidence the brief cites:\n"
                + "\n".join("  " + line for line in lost),
                project.rel(lock_path(project)), 1,
                hint="restore the source or quote the new text; or accept the loss with "
                     "'brief sources lock --force'", rule="sources.lock")
    before = read(project) or {}
    day = today(added)
    locked = {key: record(key, source, before[key].added if key in before else day)
              for key, source in sorted(current(project).items())}
    return locked, write(project, locked)
