"""The LightningModule: one training/validation step = supervised-token CE through the segment-weighted objective."""

from __future__ import annotations

import torch
from lightning.pytorch import LightningModule

from reverie.models.lvlm import LVLM
from reverie.training.objective import SegmentWeightedLoss, per_segment_mean
from reverie.training.optim import OptimSettings, build_optimizer
from reverie.training.segment_metric import SegmentLoss


class ReverieModule(LightningModule):
    def __init__(
        self, model: LVLM, objective: SegmentWeightedLoss, optim: OptimSettings, gradient_checkpointing: bool = False
    ) -> None:
        super().__init__()
        self.model = model
        self.objective = objective
        self.optim = optim
        if gradient_checkpointing:
            model.language_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        self.train_segments = SegmentLoss()  # whole-run totals: supervised tokens seen, per segment
        self.val_segments = SegmentLoss()
        self.val_losses: dict[str, float] = {}
        self.val_losses_step = -1  # global step at which val_losses were computed

    def _step(self, batch: dict):
        ce, segments, mult = self.model.token_losses(batch)
        return self.objective(ce, segments, batch["loss_norm"], mult)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        out = self._step(batch)
        # The sampler's normaliser covers the whole accumulation window on all ranks; undo Lightning's division by
        # accumulate_grad_batches and DDP's gradient averaging so the step equals one big batch's weighted mean.
        scale = self.trainer.accumulate_grad_batches * self.trainer.world_size
        self.train_segments.update(out.segment_loss_sum, out.segment_tokens)
        batch_size = batch["input_ids"].shape[0]
        self.log("train/loss", out.loss.detach() * scale, prog_bar=True, batch_size=batch_size)
        means = per_segment_mean(out.segment_loss_sum, out.segment_tokens)
        self.log_dict({f"train/loss_{k}": v for k, v in means.items()}, batch_size=batch_size)
        return out.loss * scale

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        out = self._step(batch)
        self.val_segments.update(out.segment_loss_sum, out.segment_tokens)

    def on_validation_epoch_end(self) -> None:
        self.val_losses = self.val_segments.compute()
        self.val_losses_step = self.global_step
        self.val_segments.reset()
        self.log_dict(
            {f"val/loss_{k}": v for k, v in self.val_losses.items() if k != "all" and not k.startswith("tokens")}
        )
        self.log("val/loss", self.val_losses["all"], prog_bar=True)

    def supervised_tokens_seen(self) -> dict[str, float]:
        return {
            k.removeprefix("tokens_"): v for k, v in self.train_segments.compute().items() if k.startswith("tokens")
        }

    def configure_optimizers(self):
        optimizer, scheduler = build_optimizer(self.model, self.optim, self.trainer.estimated_stepping_batches)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}
