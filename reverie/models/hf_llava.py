"""Start from a Hugging Face LLaVA folder (the llava-hf layout: config, safetensors shards, tokenizer, processor with
its chat template): its vision tower, projector and LLM become reverie's three parts.

`model=hf_llava model.path=FOLDER` builds each part with the functions below. The folder is read once per process
(`load_llava`), and the parts are the loaded modules themselves, so nothing is held twice. The chat template is the
shipped reverie template that renders exactly like the folder's own (checked on sample conversations); a folder
whose template no shipped one reproduces is an error that says what it renders.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedModel

from reverie.data.conversation import IMAGE_PLACEHOLDER, Conversation, Part, Turn
from reverie.data.templates import TEMPLATES, ChatTemplate
from reverie.errors import InputError, MissingFileError
from reverie.models.vision import HFVisionEncoder


def _folder(path: str) -> Path:
    folder = Path(path)
    if not (folder / "config.json").is_file():
        raise MissingFileError(f"model.path: not a Hugging Face model folder (no config.json): {folder}")
    return folder


@lru_cache(maxsize=1)
def load_llava(path: str, dtype: str = "float32", attn_implementation: str = "sdpa"):
    """The whole LlavaForConditionalGeneration from a local folder (cached: the three parts share one load)."""
    from transformers import LlavaForConditionalGeneration

    folder = _folder(path)
    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    if config.model_type != "llava":
        raise InputError(f"model.path: {folder} holds a {config.model_type!r} model, not a LLaVA (model_type llava)")
    if not isinstance(config.vision_feature_layer, int):
        raise InputError(
            f"{folder}: vision_feature_layer={config.vision_feature_layer} (several layers concatenated) is not "
            "supported; reverie's towers take one layer"
        )
    return LlavaForConditionalGeneration.from_pretrained(
        folder, local_files_only=True, dtype=getattr(torch, dtype), attn_implementation=attn_implementation
    )


def _image_processor_settings(folder: Path) -> dict:
    """Mean, std, pad and crop of the folder's image processor (defaults: CLIP's, no pad, no crop)."""
    file = folder / "preprocessor_config.json"
    settings = json.loads(file.read_text()) if file.is_file() else {}
    return {
        "mean": settings.get("image_mean"),
        "std": settings.get("image_std"),
        "pad_to_square": bool(settings.get("do_pad", False)),
        "center_crop": bool(settings.get("do_center_crop", False)),
    }


def llava_vision_tower(path: str, dtype: str = "float32") -> HFVisionEncoder:
    """The folder's vision tower at its `vision_feature_layer`, with CLS kept or dropped as its strategy says."""
    llava = load_llava(path, dtype)
    return HFVisionEncoder(
        model=llava.model.vision_tower,
        feature_layer=llava.config.vision_feature_layer,
        use_cls=llava.config.vision_feature_select_strategy == "full",
        **_image_processor_settings(_folder(path)),
    )


def llava_projector(path: str, in_dim: int, out_dim: int, dtype: str = "float32") -> nn.Module:
    """The folder's `multi_modal_projector` (linear_1 -> act -> linear_2)."""
    projector = load_llava(path, dtype).model.multi_modal_projector
    if projector.linear_1.in_features != in_dim or projector.linear_2.out_features != out_dim:
        raise InputError(
            f"{path}: projector maps {projector.linear_1.in_features} -> {projector.linear_2.out_features}, "
            f"but the tower gives {in_dim} and the LLM takes {out_dim}"
        )
    return projector


def llava_language_model(
    path: str, vocab_size: int, dtype: str = "float32", attn_implementation: str = "sdpa"
) -> PreTrainedModel:
    """The folder's LLM as a causal LM (its decoder and lm_head, not copied)."""
    llava = load_llava(path, dtype, attn_implementation)
    with torch.device("meta"):
        lm = AutoModelForCausalLM.from_config(llava.config.text_config, attn_implementation=attn_implementation)
    lm.model = llava.model.language_model
    lm.lm_head = llava.lm_head
    lm.to(getattr(torch, dtype))
    if any(p.is_meta for p in lm.parameters()):
        raise InputError(f"{path}: the LLM has parts the LLaVA folder does not hold")
    if lm.get_input_embeddings().num_embeddings < vocab_size:
        lm.resize_token_embeddings(vocab_size)
    return lm


def _sample_conversations(question_prompt: str) -> list[tuple[Conversation, list[dict], bool]]:
    """(reverie conversation, the same as transformers' message list, add_generation_prompt)."""
    question, answer, follow_up = "Is there a cat in the image?", "Yes.", "Explain why."

    def user(text: str, image: bool) -> dict:
        items = [{"type": "image"}] if image else []
        return {"role": "user", "content": [*items, {"type": "text", "text": text}]}

    first = Turn.user(question_prompt.format(question=question))
    single = Conversation(id="probe", turns=[first], image="x.png")
    multi = Conversation(
        id="probe",
        turns=[first, Turn.assistant(Part(answer)), Turn.user(follow_up), Turn.assistant(Part(answer))],
        image="x.png",
    )
    reply = {"role": "assistant", "content": [{"type": "text", "text": answer}]}
    return [
        (single, [user(question, True)], True),
        (multi, [user(question, True), reply, user(follow_up, False), reply], False),
    ]


def render(template: ChatTemplate, conv: Conversation, generation_prompt: bool) -> str:
    return "".join(p.text for p in template.pieces(conv, generation_prompt=generation_prompt))


def hf_rendering(processor_or_tokenizer, messages: list[dict], generation_prompt: bool) -> str:
    """The prompt string the folder's chat template makes, with the BOS its tokenizer adds on its own."""
    text = processor_or_tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)
    tok = getattr(processor_or_tokenizer, "tokenizer", processor_or_tokenizer)
    adds_bos = tok.bos_token_id is not None and tok("x").input_ids[:1] == [tok.bos_token_id]
    return (tok.bos_token if adds_bos and not text.startswith(tok.bos_token) else "") + text


def template_mismatch(processor_or_tokenizer, template: ChatTemplate, question_prompt: str) -> str | None:
    """None if `template` renders the sample conversations exactly as the folder's chat template; else the first
    difference, shown both ways."""
    for conv, messages, generation_prompt in _sample_conversations(question_prompt):
        ours = render(template, conv, generation_prompt)
        theirs = hf_rendering(processor_or_tokenizer, messages, generation_prompt)
        if ours != theirs:
            return f"reverie {template.name!r} renders {ours!r}; the folder's chat template renders {theirs!r}"
    return None


def matching_template(path: str, question_prompt: str = f"{IMAGE_PLACEHOLDER}\n{{question}}") -> str:
    """The name of the shipped template that renders like the folder's chat template (an error if none does)."""
    from transformers import AutoProcessor, AutoTokenizer

    folder = _folder(path)
    try:
        source = AutoProcessor.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, TypeError):
        source = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if not getattr(source, "chat_template", None):
        raise InputError(f"{folder} has no chat template; set model.llm.chat_template to one of {sorted(TEMPLATES)}")
    differences = {}
    for name, template in TEMPLATES.items():
        difference = template_mismatch(source, template, question_prompt)
        if difference is None:
            return name
        differences[name] = difference
    raise InputError(
        f"no shipped chat template renders like {folder}'s (first sample: "
        f"{hf_rendering(source, _sample_conversations(question_prompt)[0][1], True)!r}); set "
        f"model.llm.chat_template to one of {sorted(TEMPLATES)} if a difference is harmless, or add a template to "
        "reverie/data/templates.py"
    )


def load_hf_llava_lvlm(path: str, question_prompt: str = f"{IMAGE_PLACEHOLDER}\n{{question}}", dtype: str = "float32"):
    """(LVLM, tokenizer, template name) from a Hugging Face LLaVA folder, for generation (`reverie.generate hf=`)."""
    from reverie.data.tokenizer import load_tokenizer
    from reverie.models.lvlm import LVLM

    tokenizer = load_tokenizer(path)
    vision = llava_vision_tower(path, dtype)
    llm = llava_language_model(path, len(tokenizer), dtype)
    projector = llava_projector(path, vision.hidden_size, llm.config.hidden_size, dtype)
    image_token_id = tokenizer.convert_tokens_to_ids(IMAGE_PLACEHOLDER)
    if image_token_id != load_llava(path, dtype).config.image_token_id:
        raise InputError(
            f"{path}: the tokenizer's {IMAGE_PLACEHOLDER} id {image_token_id} is not the config's image_token_id "
            f"{load_llava(path, dtype).config.image_token_id}"
        )
    return LVLM(vision, projector, llm, image_token_id), tokenizer, matching_template(path, question_prompt)
