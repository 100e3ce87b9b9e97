"""Direct preference optimisation (DPO, Rafailov et al. 2023) on (correct, confusing) answer pairs.

loss = -(1 - eps) * log sigmoid(beta * d) - eps * log sigmoid(-beta * d),
d = (log pi(chosen) - log pi(rejected)) - (log ref(chosen) - log ref(rejected)),
the sigmoid loss with optional label smoothing eps (conservative DPO; eps = 0 is plain DPO). Rewards are
beta * (log pi - log ref) of each answer, their margin is chosen minus rejected, accuracy the share of pairs where
the chosen reward is higher. A sequence's log-probability sums its supervised targets (the answer and the template's
stop tokens), as TRL does.

`PreferenceObjective` is `objective=dpo` (pairs only) or, with an `sft` objective, `objective=reflective_dpo` (the
reflective loss on the other samples plus `dpo_weight` x the DPO loss). The DPO term is the mean over the pairs of
each micro-batch (TRL's normalisation); the token loss keeps its window normaliser (`SegmentWeightedLoss`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torchmetrics import Metric

from reverie.data.preference import CHOSEN, REJECTED, SHARED
from reverie.data.sample import IGNORE_INDEX, EncodedSample
from reverie.errors import InputError
from reverie.training.objective import LossOutput, SegmentWeightedLoss

PAIR_STATS = (
    "loss",
    "rewards/chosen",
    "rewards/rejected",
    "rewards/margins",
    "rewards/accuracy",
    "logps/chosen",
    "logps/rejected",
)


@dataclass
class DPOOutput:
    losses: torch.Tensor  # (P,) per pair
    chosen_rewards: torch.Tensor  # (P,) beta * (log pi - log ref), detached
    rejected_rewards: torch.Tensor  # (P,)


def sigmoid_dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float,
    label_smoothing: float = 0.0,
) -> DPOOutput:
    """Per-pair sigmoid DPO loss and rewards from sequence log-probabilities (P,) x 4."""
    logits = (policy_chosen - policy_rejected) - (ref_chosen - ref_rejected)
    losses = -F.logsigmoid(beta * logits) * (1 - label_smoothing) - F.logsigmoid(-beta * logits) * label_smoothing
    return DPOOutput(
        losses=losses,
        chosen_rewards=beta * (policy_chosen - ref_chosen).detach(),
        rejected_rewards=beta * (policy_rejected - ref_rejected).detach(),
    )


def pair_targets(batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """For every next-token target of the batch (in `LVLM.token_losses` order): its side (0 = not in a pair,
    CHOSEN, REJECTED, SHARED) and the index of its pair in this batch (-1 when not in a pair)."""
    keep = batch["target_ids"] != IGNORE_INDEX
    side = batch["preference"][keep]
    rows = torch.arange(keep.shape[0], device=keep.device)[:, None].expand_as(keep)[keep]
    units = batch["unit_ids"][keep] if "unit_ids" in batch else torch.zeros_like(rows)
    key = rows * (int(units.max()) + 1 if units.numel() else 1) + units
    pair = torch.full_like(rows, -1)
    in_pair = side > 0
    if in_pair.any():
        pair[in_pair] = torch.unique(key[in_pair], return_inverse=True)[1]
    return side, pair


def sequence_logps(
    token_logps: torch.Tensor, side: torch.Tensor, pair: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probability of each pair's chosen and of its rejected sequence (P,) x 2; shared-prefix targets
    belong to both."""
    n = int(pair.max()) + 1 if pair.numel() else 0
    zeros = token_logps.new_zeros(n)
    in_pair = pair >= 0
    lp, sd, pr = token_logps[in_pair], side[in_pair], pair[in_pair]
    to_chosen, to_rejected = (sd == CHOSEN) | (sd == SHARED), (sd == REJECTED) | (sd == SHARED)
    return zeros.index_add(0, pr[to_chosen], lp[to_chosen]), zeros.index_add(0, pr[to_rejected], lp[to_rejected])


class PreferenceObjective:
    """`objective=dpo` (no `sft`: pairs only) or `objective=reflective_dpo` (`sft` + dpo_weight x DPO)."""

    def __init__(
        self,
        beta: float = 0.1,
        label_smoothing: float = 0.0,
        dpo_weight: float = 1.0,
        sft: SegmentWeightedLoss | None = None,
        pairs: str = "only",
        reference: str = "live",
        reference_cache: str | None = None,
        reference_batch_size: int = 8,
    ) -> None:
        if beta <= 0:
            raise InputError(f"objective.beta must be > 0, got {beta}")
        if not 0 <= label_smoothing < 0.5:
            raise InputError(f"objective.label_smoothing must be in [0, 0.5), got {label_smoothing}")
        if dpo_weight < 0:
            raise InputError(f"objective.dpo_weight must be >= 0, got {dpo_weight}")
        expected = "only" if sft is None else "also"
        if pairs != expected:
            raise InputError(
                f"objective.pairs={pairs!r} but the objective {'has no' if sft is None else 'has an'} sft loss: "
                f"expected pairs={expected!r} (only: pairs alone; also: pairs besides the reflective samples)"
            )
        self.beta, self.label_smoothing, self.dpo_weight = float(beta), float(label_smoothing), float(dpo_weight)
        self.sft, self.pairs = sft, pairs
        if reference not in ("live", "precomputed"):
            raise InputError(f"objective.reference must be live or precomputed, got {reference!r}")
        if reference_batch_size < 1:
            raise InputError(f"objective.reference_batch_size must be >= 1, got {reference_batch_size}")
        # the reference policy: a frozen copy (live) or log-probs computed before training (reverie.training.reference)
        self.reference, self.reference_cache = reference, reference_cache
        self.reference_batch_size = reference_batch_size
        self._sft = sft or SegmentWeightedLoss({})  # per-segment bookkeeping, also when there is no token loss

    def normaliser_weight(self, sample: EncodedSample) -> float:
        """A pair adds nothing to the token-loss normaliser (its term is a mean over pairs)."""
        if sample.preference.any() or self.sft is None:
            return 0.0
        return self.sft.normaliser_weight(sample)

    def __call__(
        self,
        token_ce: torch.Tensor,
        ref_token_ce: torch.Tensor,
        segment_ids: torch.Tensor,
        mult: torch.Tensor,
        side: torch.Tensor,
        pair: torch.Tensor,
        norm: torch.Tensor | float,
    ) -> LossOutput:
        """`token_ce`/`ref_token_ce`: CE of the policy/reference at every target; `side`, `pair` from
        `pair_targets`. Returns the token loss (window-normalised) with the DPO term and per-pair sums beside it."""
        plain = side == 0
        if self.sft is None and plain.any():
            raise InputError(
                f"objective=dpo got {int(plain.sum())} targets outside preference pairs; the data should hold pairs "
                "only (reflection.preference=only, set by objective.pairs)"
            )
        # per-segment CE and tokens seen: the samples' targets and the chosen answers' (what the model should say)
        tracked = plain | (side == CHOSEN) | (side == SHARED)
        out = self._sft(token_ce[tracked], segment_ids[tracked], 1.0, mult[tracked])
        out.loss = (
            self.sft(token_ce[plain], segment_ids[plain], norm, mult[plain]).loss
            if self.sft is not None
            else token_ce.new_zeros(())
        )
        chosen, rejected = sequence_logps(-token_ce, side, pair)
        if not len(chosen):
            return out
        ref_chosen, ref_rejected = sequence_logps(-ref_token_ce.detach(), side, pair)
        dpo = sigmoid_dpo_loss(chosen, rejected, ref_chosen, ref_rejected, self.beta, self.label_smoothing)
        out.pair_loss = self.dpo_weight * dpo.losses.mean()
        margins = dpo.chosen_rewards - dpo.rejected_rewards
        columns = (dpo.losses.detach(), dpo.chosen_rewards, dpo.rejected_rewards, margins, (margins > 0).float())
        out.pair_stats = torch.stack([*columns, chosen.detach(), rejected.detach()]).sum(1)
        out.pairs = len(chosen)
        return out


class PairStats(Metric):
    """Means of `PAIR_STATS` over pairs (summed correctly across steps and DDP ranks)."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("sums", default=torch.zeros(len(PAIR_STATS), dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, sums: torch.Tensor, count: int) -> None:
        self.sums += sums.to(self.sums)
        self.count += count

    def compute(self) -> dict[str, float]:
        if self.count == 0:
            return {}
        return {k: float(v) for k, v in zip(PAIR_STATS, self.sums / self.count, strict=True)} | {
            "pairs": float(self.count)
        }
