"""Vision encoders: timm and transformers towers keep the chosen layer, report their token count, and the image
transform matches torchvision's reference."""

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import v2 as T
from transformers import CLIPVisionConfig, CLIPVisionModel

from reverie.models.vision import HFVisionEncoder, TimmVisionEncoder, ToNormalizedTensor


def test_normalised_tensor_matches_torchvision():
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 20, 3), dtype=np.uint8))
    mean, std = (0.48, 0.46, 0.41), (0.27, 0.26, 0.28)
    ref = T.Normalize(mean, std)(T.ToDtype(torch.float32, scale=True)(T.PILToTensor()(img)))
    torch.testing.assert_close(ToNormalizedTensor(mean, std)(img), ref)


@pytest.mark.parametrize("use_cls", [False, True])
def test_timm_tower_tokens_and_pruning(use_cls):
    kwargs = {"patch_size": 8, "embed_dim": 32, "depth": 3, "num_heads": 2}
    enc = TimmVisionEncoder("vit_tiny_patch16_224", 48, feature_layer=-2, use_cls=use_cls, model_kwargs=kwargs)
    assert len(enc.vision_model.blocks) == 2  # the last block is cut: no parameters without gradient
    out = enc(enc.image_transform()(Image.new("RGB", (60, 40), "red"))[None])
    assert out.shape == (1, enc.num_tokens, 32) and enc.num_tokens == 36 + int(use_cls)
    out.sum().backward()
    assert all(p.grad is not None for p in enc.parameters() if p.requires_grad)


def test_hf_tower_from_local_folder(tmp_path):
    cfg = CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=2, image_size=56, patch_size=14
    )
    CLIPVisionModel(cfg).save_pretrained(tmp_path)
    enc = HFVisionEncoder(str(tmp_path), feature_layer=-2)
    assert len(enc.vision_model.encoder.layers) == 2 and enc.num_tokens == 16 and enc.hidden_size == 32
    assert enc(torch.randn(2, 3, 56, 56)).shape == (2, 16, 32)
    with pytest.raises(FileNotFoundError, match="vision model folder not found"):
        HFVisionEncoder(str(tmp_path / "missing"))
