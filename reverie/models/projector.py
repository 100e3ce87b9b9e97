"""Projectors from vision features (D_vision) to LLM embeddings (D_llm): `linear` or `mlp{N}x_gelu`.

Layers are named `linear_1`, `act`, `linear_2`, ... as in transformers' `LlavaMultiModalProjector`, so `mlp2x_gelu`
(LLaVA-1.5's projector) has exactly the parameter names of a Hugging Face LLaVA checkpoint.
"""

from __future__ import annotations

import re

import torch
from torch import nn


class MLPProjector(nn.Module):
    """`depth` linear layers with GELU between them; depth 1 is a single linear map."""

    def __init__(self, in_dim: int, out_dim: int, depth: int) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"projector depth must be >= 1, got {depth}")
        self.depth = depth
        self.linear_1 = nn.Linear(in_dim, out_dim)
        self.act = nn.GELU()
        for i in range(2, depth + 1):
            self.add_module(f"linear_{i}", nn.Linear(out_dim, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.linear_1(x)
        for i in range(2, self.depth + 1):
            x = getattr(self, f"linear_{i}")(self.act(x))
        return x


def build_projector(kind: str, in_dim: int, out_dim: int) -> MLPProjector:
    """`linear`, or `mlp{N}x_gelu` = N linear layers with GELU between them (LLaVA-1.5 uses mlp2x_gelu)."""
    if kind == "linear":
        return MLPProjector(in_dim, out_dim, 1)
    match = re.fullmatch(r"mlp(\d+)x_gelu", kind)
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"unknown projector {kind!r}; expected 'linear' or 'mlp{{N}}x_gelu' (e.g. mlp2x_gelu)")
    return MLPProjector(in_dim, out_dim, int(match.group(1)))
