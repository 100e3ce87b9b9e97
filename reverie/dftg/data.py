"""Mixing DFTG data into training: the world's data module plus one extra file chosen by ``arm``.

``arm`` = ``none`` (the base mixture), or a key of ``extra`` (e.g. ``untargeted``, ``targeted``) whose LLaVA JSON
(``python -m reverie.targeted``) joins the training sources; ``reflective=true`` reads the file's REVERIE twin
(``<stem>.reverie.json``) instead, so the reflection policy adds the rationales.

The dose is ``extra_weight`` (uses per epoch of the file), or ``extra_share``: the extra file's share of the arm's
records per epoch (the other sources' records times their weights), so arms whose files differ in size get the same
share, and a study can sweep it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from reverie.data.datamodule import ReverieDataModule
from reverie.data.mixture import LlavaSource, ReverieSource, Source
from reverie.errors import InputError


def extra_source(
    arm: str, extra: Mapping[str, str | None], image_root: str, weight: float, reflective: bool
) -> Source | None:
    """The source of ``arm``'s file, or None for ``none``; a clear error for an unknown arm or a missing path."""
    if arm == "none":
        return None
    if arm not in extra:
        raise InputError(f"data.arm={arm!r}: not 'none' nor a key of data.extra ({sorted(extra)})")
    path = extra[arm]
    if not path:
        raise InputError(f"data.arm={arm}: set data.extra.{arm}=<file written by python -m reverie.targeted>")
    path = Path(path)
    if reflective:
        path = path.with_name(path.stem + ".reverie.json")
        return ReverieSource(str(path), image_root, weight, name=f"dftg_{arm}")
    return LlavaSource(str(path), image_root, weight, name=f"dftg_{arm}")


def records(path: str | Path) -> int:
    """How many records a JSON list file holds (a clear error when it is not one)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of records")
    return len(data)


def share_weight(share: float, sources: list[Source], extra_path: str | Path) -> float:
    """The weight that makes the extra file ``share`` of the records per epoch (sources at their own weights)."""
    if not 0.0 <= share < 1.0:
        raise InputError(f"data.extra_share must be in [0, 1), got {share}")
    base = sum(s.weight * records(s.path) for s in sources)
    n = records(extra_path)
    if not n:
        raise InputError(f"{extra_path}: no records to mix in")
    return share / (1.0 - share) * base / n


def world_with_extra(
    train_sources: list[Source],
    arm: str = "none",
    extra: Mapping[str, str | None] | None = None,
    extra_image_root: str | None = None,
    extra_weight: float = 1.0,
    reflective: bool = False,
    extra_share: float | None = None,
    **kwargs,
) -> ReverieDataModule:
    """A ``ReverieDataModule`` over ``train_sources`` plus the ``arm``'s extra file (see the module docstring)."""
    source = extra_source(arm, extra or {}, extra_image_root, extra_weight, reflective)
    if source is not None and extra_share is not None:
        source.weight = share_weight(extra_share, list(train_sources), source.path)
    return ReverieDataModule(train_sources=[*train_sources, *([source] if source else [])], **kwargs)
