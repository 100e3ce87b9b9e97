"""AdamW with parameter groups (a separate projector learning rate; no decay on biases and norms) and a
warm-up + cosine schedule from transformers."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import get_cosine_schedule_with_warmup

from reverie.models.lvlm import LVLM


@dataclass
class OptimSettings:
    lr: float = 1e-3  # learning rate of the LLM (or its adapters)
    projector_lr: float | None = None  # projector learning rate; None = same as lr
    vision_lr: float | None = None  # vision tower learning rate when it trains; None = same as lr
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_ratio: float = 0.03  # fraction of all optimizer steps spent warming up
    fused: bool = False  # torch's fused AdamW kernel (CPU and CUDA, floating-point parameters); else foreach


def param_groups(model: LVLM, s: OptimSettings) -> list[dict]:
    lrs = {"vision_tower": s.vision_lr or s.lr, "multi_modal_projector": s.projector_lr or s.lr, "language_model": s.lr}
    groups = []
    for part, lr in lrs.items():
        decay, no_decay = [], []
        for name, p in getattr(model, part).named_parameters():
            if p.requires_grad:
                (no_decay if p.ndim < 2 or "norm" in name.lower() else decay).append(p)
        groups += [
            {"name": f"{part}", "params": decay, "lr": lr, "weight_decay": s.weight_decay},
            {"name": f"{part}.no_decay", "params": no_decay, "lr": lr, "weight_decay": 0.0},
        ]
    groups = [g for g in groups if g["params"]]
    if not groups:
        raise ValueError("the stage leaves no trainable parameters")
    return groups


def build_optimizer(model: LVLM, s: OptimSettings, total_steps: int) -> tuple[torch.optim.Optimizer, dict]:
    groups = param_groups(model, s)
    fused = s.fused and all(
        p.dtype.is_floating_point and p.device.type in ("cpu", "cuda") for g in groups for p in g["params"]
    )
    optimizer = torch.optim.AdamW(groups, betas=tuple(s.betas), fused=fused or None)
    total = max(int(total_steps), 1)
    scheduler = get_cosine_schedule_with_warmup(optimizer, round(s.warmup_ratio * total), total)
    return optimizer, {"scheduler": scheduler, "interval": "step"}
