"""Errors the iJw reader raises: a short machine `reason` plus a message fit for a quarantine note."""

from __future__ import annotations


class IjwReadError(Exception):
    """A file that cannot be read as an iJw 3.2 message.

    `reason` is a short stable code (for grouping quarantined files); `str(error)` is the human
    message, specific enough that whoever opens the quarantine folder knows what to fix.
    """

    reason = "unreadable"

    def __init__(self, message: str, *, reason: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        if reason is not None:
            self.reason = reason


class MalformedXmlError(IjwReadError):
    """The file is not well-formed XML (or not XML at all)."""

    reason = "malformed_xml"

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message, line=line)
        self.column = column


class ForbiddenDtdError(IjwReadError):
    """The file carries a DOCTYPE (and with it possible entity tricks); iJw messages never do."""

    reason = "forbidden_dtd"


class UnknownMessageError(IjwReadError):
    """The root element is not an iJw message this pipeline reads (e.g. JW302, or unrelated XML)."""

    reason = "unknown_message"


class WrongVersionError(IjwReadError):
    """An iJw message of another release (e.g. 3.0) where release 3.2 is expected."""

    reason = "wrong_version"

    def __init__(self, message: str, *, release: str, line: int | None = None) -> None:
        super().__init__(message, line=line)
        self.release = release


class InvalidMessageError(IjwReadError):
    """An iJw 3.2 message whose content breaks the standard: missing element, bad date or number.

    `path` names the element (e.g. `Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie/
    IngediendBedrag/Bedrag`); `line` is where it is (or where its parent is, when it is missing).
    """

    reason = "invalid_message"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message, reason=reason, line=line)
        self.path = path
