"""The one error the document raises for bad input: a ``ValueError`` with one clear line."""

from __future__ import annotations

from pathlib import Path


class DocumentError(ValueError):
    """A file or argument the document cannot use.

    The message is one line that names the file (where there is one) and the problem, fit to show
    the user as is. The original exception, if any, is chained as ``__cause__``.
    """

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        message = " ".join(str(message).split())  # one line, whatever the cause said
        if path is not None:
            message = f"{Path(path).name}: {message}"
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class DocumentWriteError(DocumentError):
    """The disk refused a write (full, read-only, no permission): a runtime failure, not bad input.

    Still a :class:`DocumentError` (and so a ``ValueError``) for code that catches those.
    """
