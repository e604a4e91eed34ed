"""``build/changes.md``: what the sources' changes mean for the brief, published.

In: the check stage's :class:`~policybrief.check.changes.Report` (or the failure that
stopped the check). Out: ``build/changes.md``, published like every output.
"""

from __future__ import annotations

from ..check.changes import NAME, Report, report_text
from ..errors import BriefError
from ..load import lockfile
from ..model import Project
from . import outputs


def write_report(project: Project, report: Report | None,
                 failure: BaseException | None = None) -> bool:
    """Publish ``build/changes.md`` when it would say something else than it says now.

    ``brief check`` and every build, failed or not, call this, so the file is a report
    of the last check and never a stale one. Without a lock (and no report written
    before) nothing is written. A build writing at the same moment, or an unwritable
    ``build/``, leaves the file to that build.
    """
    target = project.build / NAME
    if report is None and not target.is_file() and (
            failure is None or not lockfile.lock_path(project).is_file()):
        return False
    data = report_text(report, failure).encode("utf-8")
    try:
        if target.is_file() and target.read_bytes() == data:
            return False
        with outputs.locked(project.build):
            outputs.publish(project.build, {NAME: data}, {})
    except (BriefError, OSError):
        return False
    return True
