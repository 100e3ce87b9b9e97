"""Vision encoders. Contract: `forward(pixel_values (B,3,H,W)) -> (B, num_tokens, hidden_size)` features from a chosen
layer, with or without the CLS/prefix tokens, plus `num_tokens`, `hidden_size` and `image_transform()`.

Layers after the chosen one are cut off, so they hold no parameters without gradient (the DDP trap of an unfrozen
tower with feature layer -2).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import timm
import torch
from PIL import Image
from torch import nn
from torchvision.transforms import v2 as T


class PadToSquare(nn.Module):
    """Pads a PIL image to a square with the given background colour (LLaVA-1.5's "pad" aspect mode)."""

    def __init__(self, fill: tuple[int, int, int]) -> None:
        super().__init__()
        self.fill = fill

    def forward(self, img: Image.Image) -> Image.Image:
        w, h = img.size
        if w == h:
            return img
        side = max(w, h)
        out = Image.new(img.mode, (side, side), self.fill)
        out.paste(img, ((side - w) // 2, (side - h) // 2))
        return out


class ToNormalizedTensor(nn.Module):
    """PIL RGB -> float (3, H, W) normalised by mean/std in one pass (same result as ToTensor + Normalize)."""

    def __init__(self, mean: tuple, std: tuple) -> None:
        super().__init__()
        self.shift = torch.tensor(mean).view(3, 1, 1) * 255.0
        self.scale = 1.0 / (torch.tensor(std).view(3, 1, 1) * 255.0)

    def forward(self, img: Image.Image) -> torch.Tensor:
        pixels = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)
        return pixels.float().sub_(self.shift).mul_(self.scale)


def build_transform(
    image_size: int, mean: tuple, std: tuple, pad_to_square: bool, center_crop: bool = False
) -> T.Compose:
    """Optional pad to square (mean colour), resize to `image_size` (or, with `center_crop`, its shortest edge, then
    crop the centre: CLIP's processor), normalise."""
    bicubic = T.InterpolationMode.BICUBIC
    steps: list[nn.Module] = [PadToSquare(tuple(int(255 * m) for m in mean))] if pad_to_square else []
    if center_crop:
        steps += [T.Resize(image_size, interpolation=bicubic, antialias=True), T.CenterCrop(image_size)]
    else:
        steps += [T.Resize((image_size, image_size), interpolation=bicubic, antialias=True)]
    steps += [ToNormalizedTensor(mean, std)]
    return T.Compose(steps)


class TimmVisionEncoder(nn.Module):
    """Any timm ViT-style model: a tiny random one from kwargs, or real weights from a local file."""

    def __init__(
        self,
        model_name: str,
        image_size: int,
        feature_layer: int = -2,  # block whose output is used (-1 last, -2 second to last as in LLaVA)
        use_cls: bool = False,  # keep the CLS/prefix tokens in the output
        pretrained_path: str | None = None,  # local weights file (.safetensors/.bin/.pth); None = random init
        pad_to_square: bool = True,
        model_kwargs: dict | None = None,  # passed to timm.create_model (patch_size, embed_dim, depth, ...)
    ) -> None:
        super().__init__()
        if pretrained_path is not None and not Path(pretrained_path).is_file():
            raise FileNotFoundError(f"vision encoder weights not found: {pretrained_path}")
        self.vision_model = timm.create_model(
            model_name,
            pretrained=pretrained_path is not None,
            pretrained_cfg_overlay={"file": str(pretrained_path)} if pretrained_path else None,
            num_classes=0,
            img_size=image_size,
            **(model_kwargs or {}),
        )
        self.vision_model.prune_intermediate_layers(indices=[feature_layer], prune_norm=True, prune_head=True)
        self.feature_layer = -1  # after pruning, the chosen block is the last one
        self.use_cls = use_cls
        self.image_size = image_size
        self.pad_to_square = pad_to_square
        cfg = self.vision_model.pretrained_cfg
        self.mean, self.std = tuple(cfg.get("mean", (0.5,) * 3)), tuple(cfg.get("std", (0.5,) * 3))
        prefix = getattr(self.vision_model, "num_prefix_tokens", 0)
        self.num_tokens = self.vision_model.patch_embed.num_patches + (prefix if use_cls else 0)
        self.hidden_size = self.vision_model.embed_dim

    def image_transform(self) -> T.Compose:
        return build_transform(self.image_size, self.mean, self.std, self.pad_to_square)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        (out,) = self.vision_model.forward_intermediates(
            pixel_values,
            indices=[self.feature_layer],
            return_prefix_tokens=self.use_cls,
            norm=False,
            output_fmt="NLC",
            intermediates_only=True,
        )
        if self.use_cls:
            spatial, prefix = out
            return torch.cat([prefix, spatial], dim=1)
        return out


CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


class HFVisionEncoder(nn.Module):
    """A transformers vision model (CLIP, SigLIP, ...): from a local folder, random from a config, or a built model.

    Hidden states follow transformers' indexing (0 = embeddings, i = output of layer i); `feature_layer` is LLaVA's
    `vision_feature_layer`, `use_cls` its `vision_feature_select_strategy` ("full" keeps CLS, "default" drops it).
    Layers after the chosen one are removed, and so are the pooling parts LLaVA never uses (CLIP's post-layernorm,
    SigLIP's head), so every parameter gets a gradient when the tower trains. `config` holds the pruned tower's
    transformers config (what an export writes).
    """

    def __init__(
        self,
        path: str | None = None,  # folder with config.json + weights (a vision model, or a model with a vision_config)
        config: dict | None = None,  # or: {"model_type": "clip_vision_model", hidden_size, ...} for a random tower
        feature_layer: int = -2,  # hidden_states index (LLaVA: -2)
        use_cls: bool = False,  # keep the CLS token (LLaVA's "full" strategy); towers without CLS ignore it
        pad_to_square: bool = True,  # pad with the mean colour before resizing (LLaVA-1.5's image_aspect_ratio=pad)
        center_crop: bool = False,  # resize the shortest edge, then crop the centre (CLIP's processor) instead
        mean: tuple[float, float, float] | None = None,  # None = CLIP's for towers with CLS, else 0.5
        std: tuple[float, float, float] | None = None,
        model: nn.Module | None = None,  # an already-built transformers vision model (the HF LLaVA loader)
    ) -> None:
        super().__init__()
        model = model if model is not None else _build_hf_vision(path, config)
        hf_config = model.config
        self.vision_model = model  # the transformers model whole: its state-dict keys are a LLaVA tower's
        inner = getattr(model, "vision_model", model)  # older transformers nest the transformer one level down
        keep = feature_layer % (hf_config.num_hidden_layers + 1)
        inner.encoder.layers = inner.encoder.layers[:keep]
        if hasattr(inner, "post_layernorm"):
            inner.post_layernorm = nn.Identity()
        if getattr(inner, "use_head", False):
            inner.use_head = False
            del inner.head
        self.config = hf_config.__class__.from_dict({**hf_config.to_dict(), "num_hidden_layers": keep})
        self.has_cls = hasattr(inner.embeddings, "class_embedding")
        self.use_cls = use_cls and self.has_cls
        self.image_size = hf_config.image_size
        self.patch_size = hf_config.patch_size
        self.pad_to_square = pad_to_square
        self.center_crop = center_crop
        self.mean = tuple(mean) if mean is not None else (CLIP_MEAN if self.has_cls else (0.5, 0.5, 0.5))
        self.std = tuple(std) if std is not None else (CLIP_STD if self.has_cls else (0.5, 0.5, 0.5))
        self.num_tokens = (hf_config.image_size // hf_config.patch_size) ** 2 + (1 if self.use_cls else 0)
        self.hidden_size = hf_config.hidden_size

    def image_transform(self) -> T.Compose:
        return build_transform(self.image_size, self.mean, self.std, self.pad_to_square, self.center_crop)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        hidden = self.vision_model(pixel_values=pixel_values, output_hidden_states=True).hidden_states[-1]
        return hidden[:, 1:] if self.has_cls and not self.use_cls else hidden


def _build_hf_vision(path: str | None, config: dict | None) -> nn.Module:
    from transformers import AutoConfig, AutoModel

    if (path is None) == (config is None):
        raise ValueError("HFVisionEncoder: give exactly one of path (a local folder) or config (a random tower)")
    if config is not None:
        if "model_type" not in config:
            raise ValueError("HFVisionEncoder config needs a model_type, e.g. clip_vision_model")
        params = {k: v for k, v in config.items() if k != "model_type"}
        return AutoModel.from_config(AutoConfig.for_model(config["model_type"], **params))
    if not Path(path).is_dir():
        raise FileNotFoundError(f"vision model folder not found: {path}")
    hf_config = AutoConfig.from_pretrained(path, local_files_only=True)
    hf_config = getattr(hf_config, "vision_config", hf_config)
    return AutoModel.from_pretrained(path, config=hf_config, local_files_only=True)
