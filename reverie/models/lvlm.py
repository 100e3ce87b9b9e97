"""The composed LVLM: vision encoder -> projector -> LLM, with image features scattered into the image positions.

Parameter names follow HF LLaVA (`vision_tower`, `multi_modal_projector`, `language_model` with its `lm_head`), the
layout of the llava-hf checkpoints. The loss path applies `lm_head` only at supervised positions (most positions are
image or prompt tokens), so no (B, T, vocab) logits tensor is ever built in training. Rows may be packed
(several samples, or shared-prefix trees) with a block/tree attention mask built from `unit_ids`/`branch_ids`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint
from transformers import PreTrainedModel

from reverie.data.sample import IGNORE_INDEX
from reverie.models.masks import packed_attention_mask


class LVLM(nn.Module):
    def __init__(
        self,
        vision_tower: nn.Module,
        multi_modal_projector: nn.Module,
        language_model: PreTrainedModel,
        image_token_id: int,
        ce_chunk_size: int = 0,
    ) -> None:
        super().__init__()
        self.vision_tower = vision_tower
        self.multi_modal_projector = multi_modal_projector
        self.language_model = language_model
        self.image_token_id = image_token_id
        self.ce_chunk_size = ce_chunk_size  # 0 = one lm_head call over all supervised positions

    @property
    def lm_head(self) -> nn.Module:
        return self.language_model.get_output_embeddings()

    @property
    def num_image_tokens(self) -> int:
        return self.vision_tower.num_tokens

    def decoder(self) -> nn.Module:
        """The LLM without its head (unwrapping a peft model if present)."""
        lm = self.language_model
        base = lm.get_base_model() if hasattr(lm, "get_base_model") else lm
        return base.get_decoder()

    def embed(
        self,
        input_ids: torch.Tensor,
        pixel_values: torch.Tensor | None,
        image_features: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Token embeddings with each image's projected features in place of its image tokens. `image_features`
        (the tower's outputs, e.g. stored by `reverie.training.frozen_features`) stand in for running the tower."""
        image_positions = input_ids == self.image_token_id
        embeds = self.language_model.get_input_embeddings()(input_ids)
        n_positions = int(image_positions.sum())
        if pixel_values is None and image_features is None:
            if n_positions:
                raise ValueError(f"batch has {n_positions} image tokens but no pixel_values")
            return embeds
        tower_out = self.vision_tower(pixel_values) if image_features is None else image_features
        features = self.multi_modal_projector(tower_out).to(embeds.dtype)
        if features.shape[-1] != embeds.shape[-1]:
            raise ValueError(f"projector output width {features.shape[-1]} != LLM embedding width {embeds.shape[-1]}")
        if n_positions != features.shape[0] * features.shape[1]:
            raise ValueError(
                f"image tokens in batch ({n_positions}) != images ({features.shape[0]}) x tokens per image "
                f"({features.shape[1]}); was the data encoded for another vision encoder?"
            )
        return embeds.masked_scatter(image_positions.unsqueeze(-1), features)

    def hidden_states(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        pixel_values: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        image_features: torch.Tensor | None = None,
    ) -> torch.Tensor:
        out = self.decoder()(
            inputs_embeds=self.embed(input_ids, pixel_values, image_features),
            attention_mask=attention_mask,
            position_ids=position_ids,
            use_cache=False,
        )
        return out.last_hidden_state

    def attention_mask(self, batch: dict) -> torch.Tensor:
        """2-D padding mask for plain batches; a 4-D block/tree mask when rows are packed or hold trees."""
        if "unit_ids" not in batch:
            return batch["attention_mask"]
        eager = self.language_model.config._attn_implementation == "eager"
        dtype = self.language_model.get_input_embeddings().weight.dtype if eager else None
        return packed_attention_mask(batch["unit_ids"], batch["branch_ids"], dtype)

    def token_losses(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """CE of every next-token target (only at positions that have one), its segment and multiplicity: (M,) x 3.

        `lm_head` runs on those positions only; with `ce_chunk_size` > 0 it runs chunk by chunk and is recomputed in
        backward, so at most one chunk of (chunk, vocab) logits is alive at a time (large vocabularies)."""
        hidden = self.hidden_states(
            batch["input_ids"],
            self.attention_mask(batch),
            batch.get("pixel_values"),
            batch.get("position_ids"),
            batch.get("image_features"),
        )
        targets = batch["target_ids"]
        keep = targets != IGNORE_INDEX
        h, t = hidden[keep], targets[keep]
        size = self.ce_chunk_size
        if size and len(t) > size:
            ce = torch.cat(
                [
                    checkpoint(self._ce, h[i : i + size], t[i : i + size], use_reentrant=False)
                    for i in range(0, len(t), size)
                ]
            )
        else:
            ce = self._ce(h, t)
        return ce, batch["target_segments"][keep], batch["target_mult"][keep]

    def _ce(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self.lm_head(hidden).float(), targets, reduction="none")

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pixel_values: torch.Tensor | None = None):
        """Full (B, T, vocab) logits — for analysis and tests; training uses `token_losses`."""
        return self.lm_head(self.hidden_states(input_ids, attention_mask, pixel_values))

    @torch.no_grad()
    def generate(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pixel_values: torch.Tensor | None = None, **kwargs
    ) -> torch.Tensor:
        """New tokens only (B, <= max_new_tokens). Prompts must be LEFT-padded."""
        embeds = self.embed(input_ids, pixel_values)
        return self.language_model.generate(inputs_embeds=embeds, attention_mask=attention_mask, **kwargs)
