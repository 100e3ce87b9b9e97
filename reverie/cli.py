"""The entry points' handling of user errors: one clear line and exit status 2, no traceback.

Bugs keep their traceback. `HYDRA_FULL_ERROR=1` shows the traceback of user errors too.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TypeVar

from reverie.errors import UserError

T = TypeVar("T")
USER_ERRORS = (UserError, FileNotFoundError)  # every missing file here is one the user named


def user_errors(main: Callable[..., T]) -> Callable[..., T]:
    """Wrap an entry point's task function (under `@hydra.main`)."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except Exception as error:
            cause = user_error_in(error)
            if cause is None or os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            print(f"reverie: error: {cause}", file=sys.stderr)
            sys.exit(2)

    return wrapper


def user_error_in(error: BaseException | None) -> BaseException | None:
    """The user error itself, or the one behind a wrapper (Hydra's instantiate and OmegaConf's resolvers wrap what
    they call); None for a bug."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, USER_ERRORS):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None
