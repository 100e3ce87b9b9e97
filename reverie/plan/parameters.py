"""Parameters per part of the LVLM, trainable and frozen under the stage, and the largest single layer (ZeRO-3's
gathering unit in DeepSpeed's estimator)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from reverie.training.fsdp import is_block
from reverie.training.stages import PARTS


@dataclass(frozen=True)
class PartCount:
    part: str
    trainable: int
    frozen: int

    @property
    def total(self) -> int:
        return self.trainable + self.frozen


@dataclass(frozen=True)
class ParamCounts:
    parts: tuple[PartCount, ...]
    largest_layer: int  # parameters of the largest module counted without its children (DeepSpeed's model_to_params)
    largest_block: int  # parameters of the largest transformer layer (an FSDP wrapping unit)
    trainable_bytes: int = 0  # at each parameter's dtype
    frozen_bytes: int = 0

    @property
    def trainable(self) -> int:
        return sum(p.trainable for p in self.parts)

    @property
    def frozen(self) -> int:
        return sum(p.frozen for p in self.parts)

    @property
    def total(self) -> int:
        return self.trainable + self.frozen


def count(module: nn.Module) -> tuple[int, int]:
    """(trainable, frozen); a shared (tied) parameter once."""
    params = list(module.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return trainable, sum(p.numel() for p in params) - trainable


def param_counts(model: nn.Module) -> ParamCounts:
    parts = tuple(PartCount(part, *count(getattr(model, part))) for part in PARTS)
    largest_layer = max(sum(p.numel() for p in m.parameters(recurse=False)) for m in model.modules())
    largest_block = max((sum(p.numel() for p in m.parameters()) for m in model.modules() if is_block(m)), default=0)
    params = list(model.parameters())
    trainable_bytes = sum(p.numel() * p.element_size() for p in params if p.requires_grad)
    frozen_bytes = sum(p.numel() * p.element_size() for p in params if not p.requires_grad)
    return ParamCounts(parts, largest_layer, largest_block, trainable_bytes, frozen_bytes)
