"""Token cross-entropy with a weight per segment (answer, positive/negative rationale, other).

loss = sum_t w[seg_t] * CE_t / N, where N is the normaliser of the whole optimizer step (all micro-batches of the
accumulation window, all ranks), supplied by `WindowBatchSampler`. `normalize_by="weighted_tokens"` makes N the sum of
token weights (a weighted mean: scaling every weight by the same factor changes nothing); `"tokens"` makes it the
count of supervised tokens (a weight then scales its segment's gradient and nothing else).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from reverie.data.conversation import SEGMENT_KEYS
from reverie.data.sample import IGNORE_INDEX, EncodedSample


@dataclass
class LossOutput:
    loss: torch.Tensor  # scalar to back-propagate (already divided by the window normaliser)
    segment_loss_sum: torch.Tensor  # (num_segments,) summed unweighted CE per segment (detached)
    segment_tokens: torch.Tensor  # (num_segments,) supervised tokens per segment
    pair_loss: torch.Tensor | None = None  # preference objectives: weighted DPO term, mean over this batch's pairs
    pair_stats: torch.Tensor | None = None  # (len(dpo.PAIR_STATS),) summed over this batch's pairs (detached)
    pairs: int = 0  # preference pairs in this batch


class SegmentWeightedLoss:
    def __init__(self, weights: Mapping[str, float], normalize_by: str = "weighted_tokens") -> None:
        unknown = set(weights) - set(SEGMENT_KEYS)
        if unknown:
            raise KeyError(f"objective.weights has unknown segment(s) {sorted(unknown)}; known: {list(SEGMENT_KEYS)}")
        if normalize_by not in ("weighted_tokens", "tokens"):
            raise ValueError(f"objective.normalize_by={normalize_by!r}; expected 'weighted_tokens' or 'tokens'")
        if any(float(w) < 0 for w in weights.values()):
            raise ValueError(f"objective.weights must be >= 0, got {dict(weights)}")
        self.weights = {k: float(weights.get(k, 1.0)) for k in SEGMENT_KEYS}
        self.normalize_by = normalize_by
        self._table = torch.tensor([self.weights[k] for k in SEGMENT_KEYS], dtype=torch.float32)

    def token_weights(self, segment_ids: torch.Tensor) -> torch.Tensor:
        return self._table.to(segment_ids.device)[segment_ids]

    def normaliser_weight(self, sample: EncodedSample) -> float:
        """This sample's contribution to N (what the sampler sums over a window); a tree counts like its branches."""
        keep = sample.target_ids != IGNORE_INDEX
        mult = sample.target_mult[keep].astype(np.float64)
        if self.normalize_by == "tokens":
            return float(mult.sum())
        return float((self._table.numpy()[sample.target_segments[keep]] * mult).sum())

    def __call__(
        self,
        token_ce: torch.Tensor,
        segment_ids: torch.Tensor,
        norm: torch.Tensor | float,
        mult: torch.Tensor | None = None,
    ) -> LossOutput:
        """`token_ce`, `segment_ids` and `mult` (how many sequences a target stands for; default 1) hold supervised
        targets only (M,); `norm` <= 0 means: normalise by this batch."""
        mult = torch.ones_like(token_ce) if mult is None else mult.to(token_ce.dtype)
        w = self.token_weights(segment_ids) * mult
        if float(norm) <= 0:
            norm = w.sum() if self.normalize_by == "weighted_tokens" else mult.sum()
        loss = (w * token_ce.float()).sum() / torch.as_tensor(norm, dtype=torch.float32).clamp_min(1e-8)
        n_seg = len(SEGMENT_KEYS)
        zeros = torch.zeros(n_seg, device=token_ce.device)
        seg_sum = zeros.index_add(0, segment_ids, (token_ce.detach() * mult).float())
        seg_tok = zeros.index_add(0, segment_ids, mult.float())
        return LossOutput(loss=loss, segment_loss_sum=seg_sum, segment_tokens=seg_tok)


def per_segment_mean(loss_sum: np.ndarray | torch.Tensor, tokens: np.ndarray | torch.Tensor) -> dict[str, float]:
    """{segment: mean CE} for segments that had tokens."""
    return {k: float(loss_sum[i]) / float(tokens[i]) for i, k in enumerate(SEGMENT_KEYS) if float(tokens[i]) > 0}
