"""Hugging Face LLaVA folders: `model=hf_llava` gives transformers' logits exactly; reverie's parameter names map one
to one onto `LlavaForConditionalGeneration`'s; the exported chat template renders like reverie's templates."""

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from transformers import (
    CLIPVisionConfig,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaImageProcessor,
    LlavaProcessor,
)
from transformers.utils.chat_template_utils import _compile_jinja_template

from reverie.build import build_lvlm
from reverie.data.templates import TEMPLATES, get_template, to_jinja
from reverie.models.hf_export import llava_state_dict
from reverie.models.hf_llava import _sample_conversations, load_llava, matching_template, render
from reverie.models.lvlm import LVLM
from reverie.models.projector import build_projector
from reverie.models.vision import HFVisionEncoder
from reverie.resolvers import register

CONF = Path(__file__).resolve().parents[2] / "reverie" / "conf"
register()

TINY_CLIP = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3, "num_attention_heads": 2}
TINY_TEXT = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4}


def save_tiny_llava(
    folder: Path, tokenizer, feature_layer: int = -2, strategy: str = "default"
) -> LlavaForConditionalGeneration:
    torch.manual_seed(0)
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(image_size=48, patch_size=16, hidden_act="gelu", **TINY_CLIP).to_dict(),
        text_config=LlamaConfig(vocab_size=len(tokenizer), num_key_value_heads=2, **TINY_TEXT).to_dict(),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_layer=feature_layer,
        vision_feature_select_strategy=strategy,
    )
    model = LlavaForConditionalGeneration(config).eval()
    model.save_pretrained(folder)
    image_processor = LlavaImageProcessor(
        do_pad=True, size={"height": 48, "width": 48}, do_center_crop=False, crop_size={"height": 48, "width": 48}
    )
    LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=16,
        vision_feature_select_strategy=strategy,
        chat_template=to_jinja(get_template("chatml")),
        num_additional_image_tokens=1,
    ).save_pretrained(folder)
    load_llava.cache_clear()
    return model


def compose_hf(folder: Path, tmp_path: Path):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("config", overrides=[f"paths.output_dir={tmp_path}", "model=hf_llava", f"model.path={folder}"])


@pytest.mark.parametrize(("layer", "strategy"), [(-2, "default"), (-1, "full"), (1, "default")])
def test_hf_llava_folder_gives_transformers_logits(tmp_path, tokenizer, layer, strategy):
    folder = tmp_path / "llava"
    hf = save_tiny_llava(folder, tokenizer, layer, strategy)
    cfg = compose_hf(folder, tmp_path)
    assert cfg.model.llm.chat_template == "chatml"  # found by rendering, not by name
    ours = build_lvlm(cfg, tokenizer).eval()
    image_id = tokenizer.convert_tokens_to_ids("<image>")
    n = ours.num_image_tokens
    assert n == 9 + (strategy == "full")
    ids = torch.tensor([[30, *[image_id] * n, 37, 38, 39, 40], [31, *[image_id] * n, 41, 42, 43, 44]])
    pixels = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        theirs = hf(input_ids=ids, pixel_values=pixels, attention_mask=torch.ones_like(ids)).logits
        mine = ours.logits(ids, torch.ones_like(ids), pixels)
    torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)


def test_parameter_names_map_exactly_onto_llava(tmp_path, tokenizer):
    """Every reverie parameter has its LlavaForConditionalGeneration twin, same shape; nothing is left over except
    the vision parts LLaVA never uses for features (CLIP's post-layernorm, the layer after the feature layer)."""
    torch.manual_seed(0)
    vision = HFVisionEncoder(
        config={"model_type": "clip_vision_model", "image_size": 48, "patch_size": 16, **TINY_CLIP}
    )
    from reverie.models.llm import build_llm

    llm = build_llm(len(tokenizer), config={"model_type": "llama", "num_key_value_heads": 2, **TINY_TEXT})
    model = LVLM(vision, build_projector("mlp2x_gelu", 32, 32), llm, tokenizer.convert_tokens_to_ids("<image>"))
    reference = LlavaForConditionalGeneration(
        LlavaConfig(
            vision_config=CLIPVisionConfig(image_size=48, patch_size=16, **TINY_CLIP).to_dict(),
            text_config=llm.config.to_dict(),
        )
    ).state_dict()
    mapped = llava_state_dict(model, llm)
    assert all(mapped[k].shape == reference[k].shape for k in mapped)
    unused = {k for k in reference if ".post_layernorm." in k or ".encoder.layers.2." in k}
    assert set(reference) - set(mapped) == unused
    assert set(mapped) <= set(reference)
    # every reverie parameter is exported, as itself
    exported = {t.data_ptr() for t in mapped.values()}
    assert all(p.data_ptr() in exported for p in model.parameters())
    assert "multi_modal_projector.linear_1.weight" in dict(model.named_parameters())


@pytest.mark.parametrize("question_prompt", ["<image>\n{question}", "{question}\n<image>"])
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_exported_jinja_renders_like_the_template(name, question_prompt):
    jinja = _compile_jinja_template(to_jinja(TEMPLATES[name], question_prompt))
    for conv, messages, generation_prompt in _sample_conversations(question_prompt):
        expected = render(TEMPLATES[name], conv, generation_prompt)
        assert jinja.render(messages=messages, add_generation_prompt=generation_prompt) == expected
    system = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    if TEMPLATES[name].system_format != "{system}":
        assert "Be brief." in jinja.render(messages=system, add_generation_prompt=True)


def test_folder_errors_are_clear(tmp_path, tokenizer):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        matching_template(str(tmp_path / "missing"))
    folder = tmp_path / "llava"
    save_tiny_llava(folder, tokenizer)
    processor = LlavaProcessor.from_pretrained(folder)
    processor.chat_template = "{% for m in messages %}<<{{ m['role'] }}>>{% endfor %}"
    processor.save_pretrained(folder)
    with pytest.raises(ValueError, match="no shipped chat template renders like"):
        matching_template(str(folder))


def test_export_merges_lora_and_transformers_gives_the_same_logits(tmp_path, tokenizer):
    from reverie.models.hf_export import export_hf_llava
    from reverie.models.llm import build_llm
    from reverie.training.stages import apply_stage

    torch.manual_seed(0)
    vision = HFVisionEncoder(
        config={"model_type": "clip_vision_model", "image_size": 48, "patch_size": 16, **TINY_CLIP}
    )
    llm = build_llm(len(tokenizer), config={"model_type": "llama", "num_key_value_heads": 2, **TINY_TEXT})
    model = LVLM(vision, build_projector("mlp2x_gelu", 32, 32), llm, tokenizer.convert_tokens_to_ids("<image>"))
    apply_stage(model, "lora", train_projector=True, lora={"r": 4, "alpha": 8, "dropout": 0.0})
    for name, param in model.named_parameters():
        if "lora_B" in name:  # adapters start as a no-op (B = 0): give them weights, so that merging matters
            param.data.normal_(0, 0.5)
    model.eval()
    image_id, n = tokenizer.convert_tokens_to_ids("<image>"), model.num_image_tokens
    ids = torch.tensor([[30, *[image_id] * n, 37, 38, 39], [31, *[image_id] * n, 41, 42, 43]])
    pixels = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        ours = model.logits(ids, torch.ones_like(ids), pixels)
    export_hf_llava(model, tokenizer, get_template("plain"), "<image>\n{question}", tmp_path / "hf")
    hf = LlavaForConditionalGeneration.from_pretrained(tmp_path / "hf").eval()
    assert not any("lora" in k for k in hf.state_dict())
    with torch.no_grad():
        theirs = hf(input_ids=ids, pixel_values=pixels, attention_mask=torch.ones_like(ids)).logits
    torch.testing.assert_close(theirs, ours, rtol=1e-5, atol=1e-5)


def test_export_refuses_a_tower_without_llava_layout(tokenizer, make_lvlm, tmp_path):
    from reverie.models.hf_export import export_hf_llava

    with pytest.raises(ValueError, match="export needs a transformers vision tower"):
        export_hf_llava(make_lvlm(), tokenizer, get_template("plain"), "<image>\n{question}", tmp_path)
