"""Finding a run's checkpoint and loading its model weights safely (`weights_only=True`: no pickled code runs).

Used by `reverie.evaluate` (evaluate a run), `init_from` (start a new run from a trained one's weights) and the
export and generation entry points.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


def find_checkpoint(run_dir: str | Path, ckpt: str = "last") -> Path:
    """`last`, `best` (the newest epoch checkpoint) or a path; a clear error naming the folder when there is none."""
    run_dir = Path(run_dir)
    if ckpt in ("last", "best"):
        folder = run_dir / "checkpoints"
        found = (
            [folder / "last.ckpt"]
            if ckpt == "last"
            else sorted(p for p in folder.glob("*.ckpt") if p.name != "last.ckpt")
        )
        found = [p for p in found if p.is_file()]
        if not found:
            raise FileNotFoundError(f"no {ckpt} checkpoint in {folder}")
        return found[-1]
    path = Path(ckpt)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return path


def model_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The LVLM's weights from a Lightning checkpoint (keys without the module's `model.` prefix)."""
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    return {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")}


def load_model_weights(model: nn.Module, path: str | Path) -> None:
    """Load a checkpoint's LVLM weights into `model`; every key must match (names a missing or unexpected one)."""
    result = model.load_state_dict(model_state(path), strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(
            f"{path}: weights do not fit the model (missing {list(result.missing_keys)[:5]}, "
            f"unexpected {list(result.unexpected_keys)[:5]}); was it trained with another model or stage config?"
        )


def resolve_init(init_from: str | Path) -> tuple[Path, Path | None]:
    """`init_from` as (checkpoint file, the run folder's tokenizer folder or None): a run dir means its last.ckpt."""
    path = Path(init_from)
    if path.is_dir():
        return find_checkpoint(path, "last"), (path / "tokenizer" if (path / "tokenizer").is_dir() else None)
    if not path.is_file():
        raise FileNotFoundError(f"init_from: neither a run folder nor a checkpoint file: {path}")
    run_dir = path.parent.parent  # <run>/checkpoints/x.ckpt
    return path, (run_dir / "tokenizer" if (run_dir / "tokenizer").is_dir() else None)
