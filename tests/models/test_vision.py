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


@pytest.mark.parametrize(("layer", "use_cls"), [(-2, False), (1, True), (-1, False)])
def test_hf_tower_gives_the_unpruned_models_hidden_state_at_the_chosen_layer(tmp_path, layer, use_cls):
    torch.manual_seed(0)
    cfg = CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=2, image_size=48, patch_size=16
    )
    full = CLIPVisionModel(cfg).eval()
    full.save_pretrained(tmp_path)
    enc = HFVisionEncoder(str(tmp_path), feature_layer=layer, use_cls=use_cls).eval()
    pixels = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        reference = full(pixel_values=pixels, output_hidden_states=True).hidden_states[layer]
        ours = enc(pixels)
    torch.testing.assert_close(ours, reference if use_cls else reference[:, 1:])  # CLS is the first token


@pytest.mark.parametrize(("layer", "use_cls"), [(-2, False), (0, True)])
def test_timm_tower_gives_the_output_of_the_chosen_block(layer, use_cls):
    import timm

    kwargs = {"patch_size": 16, "embed_dim": 32, "depth": 3, "num_heads": 2}
    torch.manual_seed(0)
    enc = TimmVisionEncoder("vit_tiny_patch16_224", 48, feature_layer=layer, use_cls=use_cls, model_kwargs=kwargs)
    full = timm.create_model("vit_tiny_patch16_224", num_classes=0, img_size=48, **kwargs).eval()
    full.load_state_dict(enc.vision_model.state_dict(), strict=False)  # the pruned tower's blocks are the first ones
    pixels = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        x = full.norm_pre(full._pos_embed(full.patch_embed(pixels)))
        for block in full.blocks[: layer % 3 + 1]:  # by hand: blocks up to and including the chosen one
            x = block(x)
        ours = enc.eval()(pixels)
    torch.testing.assert_close(ours, x if use_cls else x[:, 1:])
