"""The few exception types of policybrief.

Only the CLI catches them; it maps each to an exit status. Content problems are not
exceptions while they are being found: the checks collect them as findings, and the
pipeline raises one ContentError carrying all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Finding


class BriefError(Exception):
    """Something in the inputs stops the build. Printed as ``path:line: message``."""

    exit_code = 1

    def __init__(self, message: str, path: str | None = None, line: int | None = None,
                 hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint

    def __reduce__(self) -> tuple[object, ...]:
        # Raised in a worker process (the PDF laid out in parts) and re-raised here.
        return (self.__class__, (self.message, self.path, self.line, self.hint))

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line or 1}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ContentError(BriefError):
    """One or more findings of severity error (or warnings under --strict)."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        first = self.findings[0] if self.findings else None
        super().__init__(
            first.message if first else "content errors",
            first.path if first else None,
            first.line if first else None,
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (self.__class__, (self.findings,))

    def __str__(self) -> str:
        return "\n".join(str(f) for f in self.findings)


class RenderError(BriefError):
    """pandoc or WeasyPrint failed, hung, or ran out of memory."""


class UsageError(BriefError):
    """The command line itself is wrong (exit status 2)."""

    exit_code = 2
