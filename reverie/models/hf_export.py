"""Write a trained reverie LVLM as a Hugging Face LLaVA folder (`LlavaForConditionalGeneration` + `LlavaProcessor`).

The folder holds safetensors weights (LoRA merged), config, generation config, tokenizer, and a processor whose image
settings are the tower's and whose chat template (Jinja, from `to_jinja`) renders the standard message list exactly
as reverie rendered prompts in training. Loading it needs transformers only, not reverie; lmms-eval and VLMEvalKit
read it as any llava-hf checkpoint. Before returning, the export re-reads its processor and checks that template and
tokenisation agree with reverie's on sample prompts.

The end of text is the template's end-of-turn token, the one the model was trained to close every answer with: the
exported tokenizer's `eos_token`, `generation_config.json`'s `eos_token_id` and `config.json`'s `text_config` ids all
name it (bos and pad ids are the tokenizer's too), so a harness that stops on the tokenizer's end of text (lmms-eval's
`llava_hf`, plain `model.generate`) stops where reverie does, with no stop strings.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch
from torch import nn

from reverie.data.conversation import Conversation, Turn
from reverie.data.encode import SampleEncoder
from reverie.data.templates import ChatTemplate, to_jinja
from reverie.data.tokenizer import end_of_turn_id
from reverie.errors import InputError
from reverie.models.lvlm import LVLM
from reverie.models.vision import HFVisionEncoder


def _check_exportable(model: LVLM) -> None:
    if not isinstance(model.vision_tower, HFVisionEncoder):
        raise InputError(
            f"export needs a transformers vision tower (CLIP/SigLIP: model/vision_encoder=hf_local, the tiny default "
            f"tower, or model=hf_llava); this model has {type(model.vision_tower).__name__}, which has no LLaVA layout"
        )
    projector = model.multi_modal_projector
    linears = [n for n, m in projector.named_children() if isinstance(m, nn.Linear)]
    if linears != ["linear_1", "linear_2"]:
        raise InputError(f"export needs LLaVA's 2-layer projector (mlp2x_gelu); this one has layers {linears}")


def merged_language_model(model: LVLM) -> nn.Module:
    """The LLM with LoRA adapters merged into its weights (the model itself when it has none)."""
    lm = model.language_model
    return lm.merge_and_unload() if hasattr(lm, "merge_and_unload") else lm


def llava_state_dict(model: LVLM, lm: nn.Module) -> dict[str, torch.Tensor]:
    """reverie's parameter names -> transformers' LlavaForConditionalGeneration names."""
    state = {f"model.vision_tower.{k}": v for k, v in model.vision_tower.vision_model.state_dict().items()}
    state |= {f"model.multi_modal_projector.{k}": v for k, v in model.multi_modal_projector.state_dict().items()}
    for key, value in lm.state_dict().items():
        if key.startswith("model."):
            state[f"model.language_model.{key.removeprefix('model.')}"] = value
        elif key.startswith("lm_head."):
            state[key] = value
        else:
            raise ValueError(f"export: the LLM has a parameter outside its decoder and head: {key}")
    return state


def export_hf_llava(model: LVLM, tokenizer, template: ChatTemplate, question_prompt: str, out: str | Path) -> Path:
    """Save `model` (with its tokenizer and template) as a Hugging Face LLaVA folder at `out`."""
    from transformers import LlavaConfig, LlavaForConditionalGeneration, LlavaImageProcessor, LlavaProcessor

    _check_exportable(model)
    out = Path(out)
    tower: HFVisionEncoder = model.vision_tower
    lm = merged_language_model(model)
    strategy = "default" if tower.has_cls and not tower.use_cls else "full"
    tokenizer = export_tokenizer(tokenizer, template)
    ids = {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id}
    ids["pad_token_id"] = tokenizer.pad_token_id
    config = LlavaConfig(
        vision_config=tower.config.to_dict(),
        text_config={**lm.config.to_dict(), **ids},
        image_token_id=model.image_token_id,
        vision_feature_layer=-1,  # the tower is saved cut at its feature layer
        vision_feature_select_strategy=strategy,
        projector_hidden_act="gelu",
        multimodal_projector_bias=model.multi_modal_projector.linear_1.bias is not None,
        tie_word_embeddings=lm.config.tie_word_embeddings,
    )
    with torch.device("meta"):
        hf = LlavaForConditionalGeneration(config)
    state = llava_state_dict(model, lm)
    for key, param in hf.state_dict().items():  # parts LLaVA never uses for features (CLIP's post-layernorm)
        if key not in state and ".post_layernorm." in key:
            state[key] = torch.ones(param.shape) if key.endswith("weight") else torch.zeros(param.shape)
    hf.load_state_dict(state, strict=True, assign=True)
    hf.tie_weights()
    hf.generation_config.bos_token_id = tokenizer.bos_token_id
    hf.generation_config.eos_token_id = tokenizer.eos_token_id  # the end of turn: generate stops by itself
    hf.generation_config.pad_token_id = tokenizer.pad_token_id
    hf.save_pretrained(out)

    size = (
        {"shortest_edge": tower.image_size}
        if tower.center_crop
        else {"height": tower.image_size, "width": tower.image_size}
    )
    image_processor = LlavaImageProcessor(
        do_pad=tower.pad_to_square,
        size=size,
        do_center_crop=tower.center_crop,
        crop_size={"height": tower.image_size, "width": tower.image_size},
        image_mean=list(tower.mean),
        image_std=list(tower.std),
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=tower.patch_size,
        vision_feature_select_strategy=strategy,
        chat_template=to_jinja(template, question_prompt),
        image_token="<image>",
        num_additional_image_tokens=1 if tower.has_cls else 0,
    )
    processor.save_pretrained(out)
    check_export(out, tokenizer, template, question_prompt, model.num_image_tokens)
    return out


def export_tokenizer(tokenizer, template: ChatTemplate):
    """A copy of `tokenizer` whose end of text is `template`'s end-of-turn token (what the model learned to emit)."""
    eot = end_of_turn_id(tokenizer, template)
    if tokenizer.eos_token_id == eot:
        return tokenizer
    exported = copy.deepcopy(tokenizer)
    exported.eos_token = exported.convert_ids_to_tokens(eot)
    if exported.eos_token_id != eot:
        raise ValueError(
            f"export: setting the tokenizer's eos_token to {exported.eos_token!r} gave id "
            f"{exported.eos_token_id}, not {eot}"
        )
    return exported


def check_export(out: Path, tokenizer, template: ChatTemplate, question_prompt: str, num_image_tokens: int) -> None:
    """Re-read the saved processor: its template must render like reverie's (an error), and its token ids should
    equal reverie's (a warning: some tokenizers merge text across template markers when given the whole string)."""
    from PIL import Image
    from transformers import AutoProcessor

    from reverie.models.hf_llava import template_mismatch

    processor = AutoProcessor.from_pretrained(out, local_files_only=True)
    check_end_of_text(out, processor.tokenizer, template)
    difference = template_mismatch(processor, template, question_prompt)
    if difference is not None:
        raise ValueError(f"export {out}: chat template differs: {difference}")
    question = "Is there a red cube in the image?"
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True)
    theirs = processor(images=Image.new("RGB", (64, 64)), text=text, return_tensors="pt")["input_ids"][0].tolist()
    encoder = SampleEncoder(tokenizer, template, num_image_tokens, max_length=1 << 30)
    conv = Conversation(id="check", turns=[Turn.user(question_prompt.format(question=question))], image="x.png")
    ours = [i for _, ids in encoder.tokenized_pieces(conv, generation_prompt=True) for i in ids]
    if theirs != ours:  # the same text, split into other tokens (a tokenizer that merges across template markers)
        warnings.warn(
            f"export {out}: the processor tokenises a prompt differently from reverie ({len(theirs)} vs {len(ours)} "
            f"ids: {theirs[:20]} vs {ours[:20]}); answers from the exported model may differ",
            stacklevel=2,
        )


def check_end_of_text(out: Path, saved_tokenizer, template: ChatTemplate) -> None:
    """The saved tokenizer, generation config and text config all end text with the template's end of turn."""
    from transformers import GenerationConfig, LlavaConfig

    eot = end_of_turn_id(saved_tokenizer, template)
    generation = GenerationConfig.from_pretrained(out, local_files_only=True)
    text = LlavaConfig.from_pretrained(out, local_files_only=True).text_config
    found = {
        "tokenizer eos_token_id": saved_tokenizer.eos_token_id,
        "generation_config eos_token_id": generation.eos_token_id,
        "config text_config eos_token_id": text.eos_token_id,
    }
    wrong = {k: v for k, v in found.items() if v != eot}
    if wrong:
        raise ValueError(
            f"export {out}: end of text is not the end-of-turn token {template.end_of_turn!r} ({eot}): {wrong}"
        )
