"""The LightningModule: one training/validation step = supervised-token CE through the segment-weighted objective,
or, with a preference objective (`reverie.training.dpo`), DPO on answer pairs against a frozen reference."""

from __future__ import annotations

import torch
from lightning.pytorch import LightningModule

from reverie.models.lvlm import LVLM
from reverie.training.dpo import PAIR_STATS, PairStats, PreferenceObjective, pair_targets
from reverie.training.frozen_features import FrozenFeatures, is_frozen
from reverie.training.objective import LossOutput, SegmentWeightedLoss, per_segment_mean
from reverie.training.optim import OptimSettings, build_optimizer
from reverie.training.reference import make_reference
from reverie.training.segment_metric import SegmentLoss


class ReverieModule(LightningModule):
    def __init__(
        self,
        model: LVLM,
        objective: SegmentWeightedLoss | PreferenceObjective,
        optim: OptimSettings,
        gradient_checkpointing: bool = False,
        frozen_tower_cache_mb: float = 0,
    ) -> None:
        super().__init__()
        self.model = model
        self.objective = objective
        self.optim = optim
        self.tower_features = FrozenFeatures(int(frozen_tower_cache_mb * 2**20))  # a frozen tower runs once per image
        if gradient_checkpointing:
            model.language_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        # DPO: the weights as they are now (after init_from and the stage), frozen; see reverie.training.reference
        self.reference = make_reference(model, objective) if isinstance(objective, PreferenceObjective) else None
        self.train_segments = SegmentLoss()  # whole-run totals: supervised tokens seen, per segment
        self.val_segments = SegmentLoss()
        self.train_pairs, self.val_pairs = PairStats(), PairStats()  # DPO: this epoch's / this validation's pairs
        self.val_losses: dict[str, float] = {}
        self.val_losses_step = -1  # global step at which val_losses were computed
        self.pair_summary: dict[str, dict[str, float]] = {}  # DPO: final rewards, margins, accuracy (summary.json)

    def train(self, mode: bool = True) -> ReverieModule:
        """A frozen vision tower stays in evaluation mode (no dropout, no norm statistics updates), whatever the loop
        sets: its features are then a function of the image alone."""
        super().train(mode)
        if is_frozen(self.model.vision_tower):
            self.model.vision_tower.eval()
        return self

    def on_fit_start(self) -> None:
        self.tower_features.clear()  # weights may have changed since a previous fit (a base, a checkpoint)
        if hasattr(self.reference, "prepare_for"):  # objective.reference=precomputed: one pass before training
            self.reference.prepare_for(self.trainer, self.model)

    def _step(self, batch: dict) -> LossOutput:
        batch = self.tower_features.attach(self.model.vision_tower, batch)
        ce, segments, mult = self.model.token_losses(batch)
        if self.reference is None:
            return self.objective(ce, segments, batch["loss_norm"], mult)
        side, pair = pair_targets(batch)
        ref_ce = self.reference.token_losses(self.model, batch) if bool((side > 0).any()) else ce.detach()
        return self.objective(ce, ref_ce, segments, mult, side, pair, batch["loss_norm"])

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        out = self._step(batch)
        # The sampler's normaliser covers the whole accumulation window on all ranks; undo Lightning's division by
        # accumulate_grad_batches and DDP's gradient averaging so the step equals one big batch's weighted mean.
        # A DPO term is a mean over this micro-batch's pairs, so Lightning's averaging is what it needs.
        scale = self.trainer.accumulate_grad_batches * self.trainer.world_size
        loss = out.loss * scale + (out.pair_loss if out.pair_loss is not None else 0.0)
        self.train_segments.update(out.segment_loss_sum, out.segment_tokens)
        if out.pairs:
            self.train_pairs.update(out.pair_stats, out.pairs)
        if self._logs_this_step():
            self._log_step(loss, out, batch["input_ids"].shape[0])
        return loss

    def _logs_this_step(self) -> bool:
        """Whether Lightning writes this step's metrics (every `trainer.log_every_n_steps`, and the last step).
        Step values are only logged then: the other steps' `self.log` calls cost time and reached no logger."""
        connector = getattr(self._trainer, "_logger_connector", None) if self._trainer is not None else None
        return bool(getattr(connector, "should_update_logs", True))

    def _log_step(self, loss: torch.Tensor, out: LossOutput, batch_size: int) -> None:
        self.log("train/loss", loss.detach(), prog_bar=True, batch_size=batch_size)
        means = per_segment_mean(out.segment_loss_sum, out.segment_tokens)
        self.log_dict({f"train/loss_{k}": v for k, v in means.items()}, batch_size=batch_size)
        if out.pairs:
            stats = {f"train/dpo/{k}": v / out.pairs for k, v in zip(PAIR_STATS, out.pair_stats.tolist(), strict=True)}
            self.log_dict(stats, batch_size=out.pairs)

    def on_train_epoch_start(self) -> None:
        self.train_pairs.reset()

    def on_train_epoch_end(self) -> None:
        if self.reference is not None:
            self.pair_summary["train_last_epoch"] = pair_means(self.train_pairs)

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        out = self._step(batch)
        self.val_segments.update(out.segment_loss_sum, out.segment_tokens)
        if out.pairs:
            self.val_pairs.update(out.pair_stats, out.pairs)

    def on_validation_epoch_end(self) -> None:
        self.val_losses = self.val_segments.compute()
        self.val_losses_step = self.global_step
        self.val_segments.reset()
        self.log_dict(
            {f"val/loss_{k}": v for k, v in self.val_losses.items() if k != "all" and not k.startswith("tokens")}
        )
        if self.reference is not None:  # val/loss = the objective: token loss (if any) + dpo_weight x DPO loss
            pairs = pair_means(self.val_pairs)
            self.val_pairs.reset()
            self.pair_summary["val"] = pairs
            self.log_dict({f"val/dpo/{k}": v for k, v in pairs.items()})
            token_loss = self.val_losses["all"] if self.objective.sft is not None else 0.0
            self.val_losses["all"] = token_loss + self.objective.dpo_weight * pairs.get("loss", 0.0)
        self.log("val/loss", self.val_losses["all"], prog_bar=True)

    def supervised_tokens_seen(self) -> dict[str, float]:
        return {
            k.removeprefix("tokens_"): v for k, v in self.train_segments.compute().items() if k.startswith("tokens")
        }

    def configure_optimizers(self):
        optimizer, scheduler = build_optimizer(self.model, self.optim, self.trainer.estimated_stepping_batches)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}


def pair_means(stats: PairStats) -> dict[str, float]:
    """Means over the pairs seen ({} when there were none, e.g. a batch of reflective samples only)."""
    return stats.compute() if stats.update_called else {}
