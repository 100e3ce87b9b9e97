"""A torchmetrics metric for per-segment mean cross-entropy (token-weighted, summed correctly across DDP ranks)."""

from __future__ import annotations

import torch
from torchmetrics import Metric

from reverie.data.conversation import SEGMENT_KEYS


class SegmentLoss(Metric):
    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        n = len(SEGMENT_KEYS)
        self.add_state("loss_sum", default=torch.zeros(n, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("tokens", default=torch.zeros(n, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, loss_sum: torch.Tensor, tokens: torch.Tensor) -> None:
        self.loss_sum += loss_sum.to(self.loss_sum)
        self.tokens += tokens.to(self.tokens)

    def compute(self) -> dict[str, float]:
        """{segment: mean CE} for segments with tokens, `all` over every supervised token, and `tokens_<segment>`."""
        out = {k: float(self.loss_sum[i] / self.tokens[i]) for i, k in enumerate(SEGMENT_KEYS) if self.tokens[i] > 0}
        out["all"] = float(self.loss_sum.sum() / self.tokens.sum().clamp_min(1))
        out.update({f"tokens_{k}": float(self.tokens[i]) for i, k in enumerate(SEGMENT_KEYS)})
        return out
