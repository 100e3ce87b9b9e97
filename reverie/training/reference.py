"""The DPO reference policy: the frozen starting weights of the model being trained.

Only parts that train get a frozen copy, taken when the reference is built (before the first step). Frozen parts are
shared with the policy. Under LoRA the LLM is not copied: its base weights never train, so the reference LLM is the
policy's with its adapters disabled (peft's `disable_adapter`), as in TRL. The copies are submodules of the
LightningModule, so they move with it and are saved in its checkpoints (a resumed run keeps its reference); the
`model.` weights that `init_from` and `reverie.evaluate` load do not include them.

`objective.reference=precomputed` holds no copy (`reverie.training.precomputed_reference`); `reference_copy_bytes`
says how much memory that saves, for a planner.
"""

from __future__ import annotations

import copy
from contextlib import nullcontext

import torch
from torch import nn

from reverie.models.lvlm import LVLM
from reverie.training.stages import PARTS


def has_adapters(module: nn.Module) -> bool:
    return hasattr(module, "disable_adapter") and hasattr(module, "peft_config")


def copied_parts(policy: LVLM) -> list[str]:
    """The parts a live reference copies: those with a trainable parameter, except a LoRA language model."""
    return [
        part
        for part in PARTS
        if not (part == "language_model" and has_adapters(policy.language_model))
        and any(p.requires_grad for p in getattr(policy, part).parameters())
    ]


def reference_copy_bytes(policy: LVLM) -> int:
    """Bytes of the frozen copy a live reference holds beside ``policy`` (parameters and buffers of
    ``copied_parts``, at their dtype): the memory ``objective.reference=precomputed`` does not hold. Works on the
    meta device (a planner's model without weights)."""
    total = 0
    for part in copied_parts(policy):
        module = getattr(policy, part)
        total += sum(t.numel() * t.element_size() for t in (*module.parameters(), *module.buffers()))
    return total


def make_reference(policy: LVLM, objective) -> nn.Module | object:
    """The reference ``objective`` asks for (``objective.reference``): live (a frozen copy, `ReferencePolicy`) or
    precomputed (log-probs computed before training, `reverie.training.precomputed_reference`)."""
    if getattr(objective, "reference", "live") == "precomputed":
        from reverie.training.precomputed_reference import PrecomputedReference

        return PrecomputedReference(policy, objective.reference_cache, objective.reference_batch_size)
    return ReferencePolicy(policy)


class ReferencePolicy(nn.Module):
    def __init__(self, policy: LVLM) -> None:
        super().__init__()
        self.adapters = has_adapters(policy.language_model)
        self.frozen = nn.ModuleDict()
        for part in copied_parts(policy):
            self.frozen[part] = copy.deepcopy(getattr(policy, part)).requires_grad_(False)

    def train(self, mode: bool = True) -> ReferencePolicy:
        return super().train(False)  # always evaluation mode (no dropout)

    @torch.no_grad()
    def token_losses(self, policy: LVLM, batch: dict) -> torch.Tensor:
        """CE of every next-token target under the starting weights, in `LVLM.token_losses` order (M,)."""
        parts = {p: self.frozen[p] if p in self.frozen else getattr(policy, p) for p in PARTS}
        reference = LVLM(**parts, image_token_id=policy.image_token_id, ce_chunk_size=policy.ce_chunk_size)
        modes = {m: m.training for m in reference.modules()}
        reference.eval()
        try:
            with policy.language_model.disable_adapter() if self.adapters else nullcontext():
                return reference.token_losses(batch)[0]
        finally:
            for m, training in modes.items():
                m.training = training
