"""Mixing DFTG data into training: the world's data module plus one extra file chosen by ``arm``.

``arm`` = ``none`` (the base mixture), or a key of ``extra`` (e.g. ``untargeted``, ``targeted``) whose LLaVA JSON
(``python -m reverie.targeted``) joins the training sources; ``reflective=true`` reads the file's REVERIE twin
(``<stem>.reverie.json``) instead, so the reflection policy adds the rationales.
"""

from __future__ import annotations

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


def world_with_extra(
    train_sources: list[Source],
    arm: str = "none",
    extra: Mapping[str, str | None] | None = None,
    extra_image_root: str | None = None,
    extra_weight: float = 1.0,
    reflective: bool = False,
    **kwargs,
) -> ReverieDataModule:
    """A ``ReverieDataModule`` over ``train_sources`` plus the ``arm``'s extra file (see the module docstring)."""
    source = extra_source(arm, extra or {}, extra_image_root, extra_weight, reflective)
    return ReverieDataModule(train_sources=[*train_sources, *([source] if source else [])], **kwargs)
