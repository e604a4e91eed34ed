"""The few exception types of policybrief.

Only the CLI catches them; it maps each to an exit status. Content problems are not
exceptions while they are being found: the checks collect them as findings, and the
pipeline raises one ContentError carrying all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .model import Finding


class BriefError(Exception):
    """Something in the inputs stops the build.

    Printed as every message is (policybrief.messages): ``path:line:col: error[rule]:
    message``, the line, the hint. ``rule`` names its entry in docs/checks.md; each
    class has a default. ``shown`` is the line to show when the file itself cannot be
    read as text (a Latin-1 line decoded as Latin-1).
    """

    exit_code = 1
    default_rule = "input"
    severity: Literal["error"] = "error"

    def __init__(self, message: str, path: str | None = None, line: int | None = None,
                 hint: str = "", rule: str = "", col: int = 0, shown: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint
        self.rule = rule or self.default_rule
        self.col = col
        self.shown = shown

    def __reduce__(self) -> tuple[object, ...]:
        # Raised in a worker process (the PDF laid out in parts) and re-raised here.
        return (self.__class__, (self.message, self.path, self.line, self.hint, self.rule,
                                 self.col, self.shown))

    def __str__(self) -> str:
        from .messages import render

        return render(self)

    def finding(self) -> Finding:
        """The error as a finding, so that loading can go on and report the others."""
        from .model import Finding

        return Finding("error", self.path or "", self.line or 1, self.message, self.hint,
                       self.rule, self.col, self.shown)


class ContentError(BriefError):
    """One or more findings of severity error (or warnings under --strict)."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        first = self.findings[0] if self.findings else None
        super().__init__(
            first.message if first else "content errors",
            first.path if first else None,
            first.line if first else None,
            rule=first.rule if first else "",
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (self.__class__, (self.findings,))

    def __str__(self) -> str:
        return "\n".join(str(f) for f in self.findings)


class RenderError(BriefError):
    """pandoc or WeasyPrint failed, hung, or ran out of memory."""

    default_rule = "render"


class UsageError(BriefError):
    """The command line itself is wrong (exit status 2)."""

    exit_code = 2
    default_rule = "usage"
