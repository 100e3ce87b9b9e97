"""Projectors from vision features (D_vision) to LLM embeddings (D_llm): `linear` or `mlp{N}x_gelu`."""

from __future__ import annotations

import re

from torch import nn


def build_projector(kind: str, in_dim: int, out_dim: int) -> nn.Module:
    """`linear`, or `mlp{N}x_gelu` = N linear layers with GELU between them (LLaVA-1.5 uses mlp2x_gelu)."""
    if kind == "linear":
        return nn.Linear(in_dim, out_dim)
    match = re.fullmatch(r"mlp(\d+)x_gelu", kind)
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"unknown projector {kind!r}; expected 'linear' or 'mlp{{N}}x_gelu' (e.g. mlp2x_gelu)")
    layers: list[nn.Module] = [nn.Linear(in_dim, out_dim)]
    for _ in range(int(match.group(1)) - 1):
        layers += [nn.GELU(), nn.Linear(out_dim, out_dim)]
    return nn.Sequential(*layers)
