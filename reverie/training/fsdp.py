"""FSDP's wrapping unit: one transformer layer (a decoder layer of the LLM, an encoder layer of the tower), so
FULL_SHARD gathers one layer's weights at a time instead of the whole model (`conf/trainer/strategy/fsdp.yaml`;
`reverie.plan` counts the gathered unit the same way)."""

from __future__ import annotations

from torch import nn


def is_block(module: nn.Module) -> bool:
    """A transformer layer: a decoder/encoder layer of transformers, or a timm ViT block."""
    name = type(module).__name__
    return name.endswith(("DecoderLayer", "EncoderLayer")) or (name == "Block" and hasattr(module, "attn"))


def transformer_layers(module: nn.Module, recurse: bool, nonwrapped_numel: int) -> bool:
    """FSDP's `auto_wrap_policy` callable: descend everywhere, wrap every transformer layer."""
    return True if recurse else is_block(module)
