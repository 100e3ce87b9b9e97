"""Attention masks for packed rows: several units per row (block-diagonal), each unit a plain sample or a
shared-prefix tree whose branches see the prefix and themselves only."""

from __future__ import annotations

import torch


def packed_attention_mask(unit_ids: torch.Tensor, branch_ids: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    """(B, 1, T, T) mask. `unit_ids` = -1 on padding. With `dtype` None: bool (True = attend, for SDPA/flex);
    otherwise an additive float mask (0 = attend, dtype's minimum = blocked) for eager attention.

    Padding positions attend to themselves only, so no softmax row is empty (which would give NaN)."""
    t = unit_ids.shape[1]
    causal = torch.ones(t, t, dtype=torch.bool, device=unit_ids.device).tril()
    same_unit = unit_ids[:, :, None] == unit_ids[:, None, :]
    key_branch, query_branch = branch_ids[:, None, :], branch_ids[:, :, None]
    branch_ok = (key_branch == 0) | (key_branch == query_branch)
    valid = unit_ids >= 0
    allowed = causal & same_unit & branch_ok & valid[:, None, :]
    allowed |= torch.eye(t, dtype=torch.bool, device=unit_ids.device)
    allowed = allowed[:, None]
    if dtype is None:
        return allowed
    return torch.zeros(allowed.shape, dtype=dtype, device=unit_ids.device).masked_fill(~allowed, torch.finfo(dtype).min)
