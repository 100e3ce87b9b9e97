"""No silent overwrite: the checks every entry point makes on its outputs before it does any work.

An existing output file or non-empty output folder is refused with one line unless the command is given
`overwrite=true`; an output may never be one of the command's inputs (nor a folder that holds one), whatever
`overwrite` says. Resumable outputs (annotate's folder) use `check_own_folder`: they may continue their own work
but refuse a folder holding files they did not write.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from reverie.errors import InputError

HYDRA_FILES = frozenset({".hydra"})  # Hydra's folder, written before the command starts


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(Path(path).expanduser()))


def check_not_input(name: str, out: str | Path, inputs: Mapping[str, str | Path | None]) -> None:
    """Refuse an output that is one of the inputs, or a folder that holds one (writing it would destroy that input)."""
    target = _real(out)
    for key, value in inputs.items():
        if value is None:
            continue
        source = _real(value)
        if source == target:
            raise InputError(f"{name}={out} is also the input {key}={value}; write to another path")
        if source.is_relative_to(target) and target.is_dir():
            raise InputError(f"{name}={out} holds the input {key}={value}; write to another folder")


def check_new_files(name: str, paths: Iterable[str | Path], overwrite: bool) -> None:
    """Refuse files that exist (unless `overwrite`), and paths that are folders."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            raise InputError(f"{name}: {path} is a folder; give a file path")
        if path.exists() and not overwrite:
            raise InputError(f"{name}: {path} exists; give overwrite=true to replace it")


def check_new_folder(name: str, folder: str | Path, overwrite: bool) -> None:
    """Refuse a file, or a folder that holds anything (unless `overwrite`)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{name}={folder} is a file; give a folder")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise InputError(f"{name}={folder} exists and is not empty; give overwrite=true to write into it")


def check_own_folder(name: str, folder: str | Path, own: Iterable[str]) -> None:
    """A resumable output folder: refuse one that holds files other than `own` (names or `*.suffix` patterns),
    Hydra's folder and logs; its own files are continued from."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{name}={folder} is a file; give a folder")
    if not folder.is_dir():
        return
    own = set(own)
    foreign = sorted(
        p.name
        for p in folder.iterdir()
        if p.name not in own
        and p.name not in HYDRA_FILES
        and p.suffix != ".log"
        and not (p.name.endswith(".tmp") and p.name[: -len(".tmp")] in own)
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise InputError(
            f"{name}={folder} holds files this command did not write ({shown}); give an empty or new folder"
        )
