"""One micro-batch's shape (rows, row length, images, supervised targets) and the LVLM's dimensions the FLOP and
activation counts need, read from the built (meta) model."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from reverie.training.fsdp import is_block


@dataclass(frozen=True)
class MicroBatch:
    rows: int  # sequences in the micro-batch
    length: int  # tokens per row (padded or packed length)
    images: int  # images in the micro-batch
    targets: int  # supervised next-token targets (where lm_head runs)

    @property
    def tokens(self) -> int:
        return self.rows * self.length


@dataclass(frozen=True)
class Stack:
    """A transformer stack: its blocks, width, attention width (heads x head dim), MLP width, query/kv heads."""

    blocks: int
    hidden: int
    attention: int
    kv: int
    heads: int
    mlp: int


def _attention_shape(block: nn.Module) -> tuple[int, int, int]:
    """(query width, key/value width, query heads) of a block's attention."""
    attn = getattr(block, "self_attn", None) or getattr(block, "attn", None)
    cfg = getattr(attn, "config", None)
    if cfg is not None and hasattr(cfg, "num_attention_heads"):
        heads = cfg.num_attention_heads
        head_dim = getattr(attn, "head_dim", None) or cfg.hidden_size // heads
        kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
        return heads * head_dim, kv_heads * head_dim, heads
    heads = attn.num_heads
    return heads * attn.head_dim, heads * attn.head_dim, heads


def stack_of(part: nn.Module) -> Stack:
    blocks = [m for m in part.modules() if is_block(m)]
    if not blocks:
        return Stack(0, 0, 0, 0, 1, 0)
    first = blocks[0]
    attention, kv, heads = _attention_shape(first)
    mlp = first.mlp
    up = next(getattr(mlp, name) for name in ("up_proj", "fc1") if hasattr(mlp, name))
    up = getattr(up, "base_layer", up)  # a LoRA-wrapped linear
    return Stack(len(blocks), up.in_features, attention, kv, heads, up.out_features)


def tower_sequence(tower: nn.Module) -> int:
    """Tokens the tower's transformer runs on per image (patches plus CLS/prefix tokens, whether kept or not)."""
    inner = tower.vision_model
    if hasattr(inner, "patch_embed"):  # timm
        return inner.patch_embed.num_patches + getattr(inner, "num_prefix_tokens", 0)
    patches = (tower.image_size // tower.patch_size) ** 2
    return patches + (1 if tower.has_cls else 0)
