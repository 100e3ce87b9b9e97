"""The composed LVLM: HF-LLaVA parameter names, image features land in the image positions, sparse = dense loss."""

import pytest
import torch

from reverie.data.sample import IGNORE_INDEX
from reverie.models.projector import build_projector
from reverie.training.stages import apply_stage


def batch_for(tokenizer, model, n_text=5, images=2):
    image_id = tokenizer.convert_tokens_to_ids("<image>")
    rows = [[5, *([image_id] * model.num_image_tokens), *range(10, 10 + n_text)] for _ in range(images)]
    ids = torch.tensor(rows)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "pixel_values": torch.randn(images, 3, 48, 48)}


def test_parameter_names_follow_hf_llava(make_lvlm):
    names = {n.split(".")[0] for n, _ in make_lvlm().named_parameters()}
    assert names == {"vision_tower", "multi_modal_projector", "language_model"}
    model = make_lvlm()
    assert model.lm_head is model.language_model.lm_head
    assert any(
        n.startswith("language_model.lm_head") or n.startswith("language_model.model.embed_tokens")
        for n, _ in model.named_parameters()
    )


def test_image_features_are_used_and_count_is_checked(tokenizer, make_lvlm):
    model = make_lvlm().eval()
    batch = batch_for(tokenizer, model)
    a = model.logits(**batch)
    b = model.logits(batch["input_ids"], batch["attention_mask"], batch["pixel_values"].flip(-1))
    assert not torch.allclose(a[:, -1], b[:, -1])  # the image changes the text predictions
    with pytest.raises(ValueError, match=r"image tokens in batch \(\d+\) != images \(1\)"):
        model.logits(batch["input_ids"], batch["attention_mask"], batch["pixel_values"][:1])
    with pytest.raises(ValueError, match="no pixel_values"):
        model.logits(batch["input_ids"], batch["attention_mask"], None)


def test_sparse_token_losses_equal_dense(tokenizer, make_lvlm):
    model = make_lvlm().eval()
    batch = batch_for(tokenizer, model)
    labels = batch["input_ids"].clone()
    labels[:, : model.num_image_tokens + 2] = IGNORE_INDEX
    targets = torch.cat([labels[:, 1:], torch.full_like(labels[:, :1], IGNORE_INDEX)], dim=1)
    batch |= {
        "target_ids": targets,
        "target_segments": torch.ones_like(labels),
        "target_mult": torch.ones(labels.shape),
    }
    logits = model.logits(batch["input_ids"], batch["attention_mask"], batch["pixel_values"])
    dense = torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(), reduction="none")
    dense = dense[labels[:, 1:].flatten() != IGNORE_INDEX]
    for chunk in (0, 3):  # one lm_head call, or chunks recomputed in backward
        model.ce_chunk_size = chunk
        ce, seg, mult = model.token_losses(batch)
        torch.testing.assert_close(ce, dense)
        assert (seg == 1).all() and (mult == 1).all()


@pytest.mark.parametrize(("kind", "layers"), [("linear", 1), ("mlp1x_gelu", 1), ("mlp3x_gelu", 5)])
def test_projectors(kind, layers):
    proj = build_projector(kind, 8, 16)
    assert proj(torch.randn(2, 3, 8)).shape == (2, 3, 16)
    assert sum(isinstance(m, torch.nn.Linear) for m in proj.modules()) == (layers + 1) // 2
    with pytest.raises(ValueError, match="unknown projector 'mlp'"):
        build_projector("mlp", 8, 16)


@pytest.mark.parametrize(
    ("stage", "kwargs", "trainable"),
    [
        ("align", {"train_projector": True}, {"multi_modal_projector"}),
        ("finetune", {"train_projector": True, "train_llm": True}, {"multi_modal_projector", "language_model"}),
        ("lora", {"train_projector": True, "lora": {"r": 4, "alpha": 8}}, {"multi_modal_projector", "language_model"}),
    ],
)
def test_stages_freeze_and_log(make_lvlm, capsys, stage, kwargs, trainable):
    model = make_lvlm()
    table = apply_stage(model, stage, **kwargs)
    parts = {n.split(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert parts == trainable
    assert f"stage '{stage}'" in capsys.readouterr().out and "vision_tower" in table
    assert "frozen" in table.splitlines()[2]  # the vision tower row
    if stage == "lora":
        lm_trainable = [n for n, p in model.language_model.named_parameters() if p.requires_grad]
        assert lm_trainable and all("lora_" in n for n in lm_trainable)
        assert "partly (adapters)" in table


def test_image_features_land_exactly_in_the_image_positions(tokenizer, make_lvlm):
    """Each image's projected features fill its own image tokens, in order, wherever they sit in the row; every other
    position keeps its token embedding (an off-by-one or a swapped image fails)."""
    model = make_lvlm().eval()
    image_id, n, pad = tokenizer.convert_tokens_to_ids("<image>"), model.num_image_tokens, tokenizer.pad_token_id
    ids = torch.tensor(
        [
            [pad, pad, 30, *[image_id] * n, 31, 32],  # left-padded, image after one token
            [30, 31, 32, 33, *[image_id] * n, 34],  # image after four tokens
        ]
    )
    pixels = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        embeds = model.embed(ids, pixels)
        expected = model.multi_modal_projector(model.vision_tower(pixels))
        tokens = model.language_model.get_input_embeddings()(ids)
    positions = ids == image_id
    torch.testing.assert_close(embeds[0, 3 : 3 + n], expected[0])
    torch.testing.assert_close(embeds[1, 4 : 4 + n], expected[1])
    torch.testing.assert_close(embeds[~positions], tokens[~positions])
