"""The errors aelab raises on purpose, each with a message written for the user.

Everything that enters from outside (a file, a flag, a training run that diverges) is checked where it
enters and, when wrong, raises one of these. The CLI prints the message on one line and the app shows it
in an error box; neither shows a traceback for them.
"""

from __future__ import annotations


class AelabError(Exception):
    """Base class: a problem the user can act on, described in their words."""


class UnsupportedFile(AelabError):
    """A file (dataset or upload) that is not in a format aelab reads, or whose contents are invalid."""


class BadCheckpoint(AelabError):
    """A checkpoint that is not an aelab checkpoint, is damaged, or disagrees with itself."""


class UnknownName(AelabError):
    """A dataset or model kind that is not in its registry."""


class TrainingDiverged(AelabError):
    """The loss became NaN or infinite; the model holds the last good weights."""

    def __init__(self, message: str, history: object | None = None) -> None:
        super().__init__(message)
        self.history = history
