"""Finding a run's checkpoint and loading its model weights safely (`weights_only=True`: no pickled code runs).

Used by `reverie.evaluate` (evaluate a run), `init_from` (start a new run from a trained one's weights) and the
export and generation entry points. `safe_load` is the one way reverie reads a torch file (checkpoints, resume, the
base and tower caches): `weights_only=True` given explicitly, whatever torch's default is (it may be turned off by
`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`), and a file that holds pickled code is refused with a one-line user error.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf, open_dict
from torch import nn

from reverie.errors import InputError, MissingFileError


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
            raise MissingFileError(f"no {ckpt} checkpoint in {folder}")
        return found[-1]
    path = Path(ckpt)
    if not path.is_file():
        raise MissingFileError(f"checkpoint not found: {path}")
    return path


def safe_load(path: str | Path) -> Any:
    """`torch.load(path, weights_only=True)` on the CPU: tensors, containers and plain values only. A file that
    holds anything else (a pickled object or function, which could run code) or is not a torch file is an
    `InputError` naming the file; nothing in it runs."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        what = f"pickled code ({found.group(1)})" if found else "data that is not plain weights"
        raise InputError(
            f"{path}: refused to load: it holds {what}, which reverie never unpickles (weights_only=True); "
            f"is it a checkpoint reverie or Lightning wrote?"
        ) from error
    except (RuntimeError, EOFError) as error:
        raise InputError(f"{path}: not a torch checkpoint file ({str(error).strip().splitlines()[0]})") from error


# Checkpoints written before the projector took transformers' names kept it as an nn.Sequential (0, 2, 4, ...).
_LEGACY_PROJECTOR = re.compile(r"^multi_modal_projector\.(\d+)\.")


def _current_name(key: str) -> str:
    match = _LEGACY_PROJECTOR.match(key)
    if match is None:
        return key
    return f"multi_modal_projector.linear_{int(match.group(1)) // 2 + 1}." + key[match.end() :]


def model_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The LVLM's weights from a Lightning checkpoint (keys without the module's `model.` prefix)."""
    checkpoint = safe_load(path)
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise InputError(f"{path}: not a Lightning checkpoint (no 'state_dict')")
    state = checkpoint["state_dict"]
    return {_current_name(k.removeprefix("model.")): v for k, v in state.items() if k.startswith("model.")}


def load_model_weights(model: nn.Module, path: str | Path, state: dict[str, torch.Tensor] | None = None) -> None:
    """Load a checkpoint's LVLM weights (`state`, when already read with `model_state`) into `model`; every key must
    match (names a missing or unexpected one)."""
    result = model.load_state_dict(model_state(path) if state is None else state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise InputError(
            f"{path}: weights do not fit the model (missing {list(result.missing_keys)[:5]}, "
            f"unexpected {list(result.unexpected_keys)[:5]}); was it trained with another model or stage config?"
        )


def resolve_init(init_from: str | Path) -> tuple[Path, Path | None]:
    """`init_from` as (checkpoint file, its run folder or None): a run folder means its last.ckpt."""
    path = Path(init_from)
    if path.is_dir():
        return find_checkpoint(path, "last"), path
    if not path.is_file():
        raise MissingFileError(f"init_from: neither a run folder nor a checkpoint file: {path}")
    run_dir = path.parent.parent  # <run>/checkpoints/x.ckpt
    return path, (run_dir if (run_dir / ".hydra" / "config.yaml").is_file() else None)


def inherit_model_config(cfg: DictConfig, run_dir: Path) -> bool:
    """With `init_from` a reverie run, the new run takes that run's `model` config (the architecture its weights
    have), as `from_pretrained` takes a checkpoint's config; rewrites this run's saved config so that evaluating or
    exporting it later rebuilds the same model. Returns whether the model config changed."""
    if not cfg.get("init_from"):
        return False
    _, source_dir = resolve_init(cfg.init_from)
    saved = source_dir / ".hydra" / "config.yaml" if source_dir else None
    if saved is None or not saved.is_file():
        return False
    source_model = OmegaConf.load(saved).model
    if OmegaConf.to_container(source_model) == OmegaConf.to_container(cfg.model):
        return False
    with open_dict(cfg):
        cfg.model = source_model
    print(f"[reverie] init_from: model config taken from {saved} (the architecture of the weights)")
    own = run_dir / ".hydra" / "config.yaml"
    if own.is_file():
        OmegaConf.save(cfg, own)
    return True
