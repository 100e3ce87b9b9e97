"""The language model: any transformers causal LM, from a tiny config (random init) or a local checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedModel


def build_llm(
    vocab_size: int,
    config: dict | None = None,
    pretrained_path: str | None = None,
    attn_implementation: str = "sdpa",
    dtype: str = "float32",
) -> PreTrainedModel:
    """`config` = {"model_type": "llama", hidden_size, ...} for a random model; `pretrained_path` for real weights.

    The embedding matrix is resized to the tokenizer's vocabulary (a real tokenizer gains the <image> token).
    """
    torch_dtype = getattr(torch, dtype)
    if pretrained_path:
        if not Path(pretrained_path).is_dir():
            raise FileNotFoundError(f"LLM checkpoint folder not found: {pretrained_path}")
        model = AutoModelForCausalLM.from_pretrained(
            pretrained_path, local_files_only=True, dtype=torch_dtype, attn_implementation=attn_implementation
        )
    else:
        if not config or "model_type" not in config:
            raise ValueError("model.llm needs either pretrained_path or config with a model_type (e.g. llama)")
        params = {k: v for k, v in config.items() if k != "model_type"}
        hf_config = AutoConfig.for_model(config["model_type"], vocab_size=vocab_size, **params)
        hf_config._attn_implementation = attn_implementation
        model = AutoModelForCausalLM.from_config(hf_config, dtype=torch_dtype)
    if model.get_input_embeddings().num_embeddings < vocab_size:
        model.resize_token_embeddings(vocab_size)
    return model
