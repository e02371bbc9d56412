"""Why a landed file goes to quarantine: a short reason code plus a message a person can act on."""

from __future__ import annotations


class QuarantineError(Exception):
    """A whole file cannot be ingested. `reason` is a short code, str() the full explanation."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    @property
    def text(self) -> str:
        """What the registry and the `.reason.txt` file record: `<code>: <message>`."""
        return f"{self.reason}: {self}"
