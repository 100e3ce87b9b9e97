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


def build_transform(image_size: int, mean: tuple, std: tuple, pad_to_square: bool) -> T.Compose:
    steps: list[nn.Module] = [PadToSquare(tuple(int(255 * m) for m in mean))] if pad_to_square else []
    steps += [
        T.Resize((image_size, image_size), interpolation=T.InterpolationMode.BICUBIC, antialias=True),
        ToNormalizedTensor(mean, std),
    ]
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


class HFVisionEncoder(nn.Module):
    """A transformers vision model (CLIP, SigLIP, ...) saved in a local folder."""

    def __init__(self, path: str, feature_layer: int = -2, use_cls: bool = False, pad_to_square: bool = True) -> None:
        super().__init__()
        from transformers import AutoConfig, AutoModel

        if not Path(path).is_dir():
            raise FileNotFoundError(f"vision model folder not found: {path}")
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        config = getattr(config, "vision_config", config)
        model = AutoModel.from_pretrained(path, config=config, local_files_only=True)
        self.vision_model = getattr(model, "vision_model", model)
        n_layers = config.num_hidden_layers
        keep = feature_layer % (n_layers + 1)  # hidden_states index: 0 = embeddings, i = output of layer i
        self.vision_model.encoder.layers = self.vision_model.encoder.layers[:keep]
        self.has_cls = hasattr(self.vision_model.embeddings, "class_embedding")
        self.use_cls = use_cls and self.has_cls
        self.image_size = config.image_size
        self.pad_to_square = pad_to_square
        self.mean = (0.48145466, 0.4578275, 0.40821073) if self.has_cls else (0.5, 0.5, 0.5)
        self.std = (0.26862954, 0.26130258, 0.27577711) if self.has_cls else (0.5, 0.5, 0.5)
        patches = (config.image_size // config.patch_size) ** 2
        self.num_tokens = patches + (1 if self.use_cls else 0)
        self.hidden_size = config.hidden_size

    def image_transform(self) -> T.Compose:
        return build_transform(self.image_size, self.mean, self.std, self.pad_to_square)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        hidden = self.vision_model(pixel_values=pixel_values, output_hidden_states=True).hidden_states[-1]
        return hidden[:, 1:] if self.has_cls and not self.use_cls else hidden
