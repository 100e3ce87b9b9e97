"""Errors caused by what the user gave (a missing file, a bad record, an unknown key), told apart from bugs.

The entry points print these as one line and exit with status 2, without a traceback (`reverie.cli.user_errors`);
`HYDRA_FULL_ERROR=1` shows the traceback. Each subclasses the built-in error it refines, so callers that catch
`ValueError` or `FileNotFoundError` still do.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user; the message says what and where."""


class MissingFileError(UserError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class InputError(UserError, ValueError):
    """A record, file or value the user gave is not valid."""


class UnknownKeyError(UserError, KeyError):
    """A name (config key, template, role) the user gave is not one reverie knows."""

    def __str__(self) -> str:  # KeyError quotes its message; this one is a sentence
        return str(self.args[0]) if self.args else ""
