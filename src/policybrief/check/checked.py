"""What the check stage hands on: the brief, its evidence, and every finding.

In: made by :func:`policybrief.pipeline.load` from the loaded brief and what each
check found, then given the sources' changes by :func:`policybrief.check.changes.reconcile`.
Out: the one value that assembling, rendering and the commands read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model import Brief, Finding
from .checks import Evidence

if TYPE_CHECKING:
    from .changes import Report


@dataclass(frozen=True)
class Checked:
    """A loaded and checked brief, with everything the checks found."""

    brief: Brief
    evidence: Evidence
    findings: tuple[Finding, ...]
    changes: Report | None = None  # when seeds/sources.lock exists

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]
