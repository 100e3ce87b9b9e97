"""Shared-prefix trees and packed rows compute exactly what separate samples compute: losses, per-segment sums and
gradients (every reflection setting), and no branch or record ever attends across its boundary."""

import numpy as np
import pytest
import torch

from reverie.data.datamodule import ReverieDataModule
from reverie.data.mixture import ReverieSource
from reverie.data.reflect import ReflectionPolicy
from reverie.data.templates import TEMPLATES
from reverie.data.tree import build_tree
from reverie.models.masks import packed_attention_mask
from reverie.training.objective import SegmentWeightedLoss

WEIGHTS = {"answer": 2.0, "pos_rationale": 0.5, "neg_rationale": 1.0, "other": 0.25}


def datamodule(data_dir, tokenizer, model, policy, **packing) -> ReverieDataModule:
    objective = SegmentWeightedLoss(WEIGHTS)
    dm = ReverieDataModule(
        [ReverieSource(str(data_dir / "reverie.json"), str(data_dir / "images"))],
        [],
        batch_size=3,
        max_length=1024,
        **packing,
    )
    dm.load(policy)
    dm.bind(
        tokenizer,
        TEMPLATES["chatml"],
        model.num_image_tokens,
        model.vision_tower.image_transform(),
        objective.normaliser_weight,
    )
    return dm


def loss_and_grads(model, dm: ReverieDataModule):
    objective = SegmentWeightedLoss(WEIGHTS)
    model.zero_grad()
    total, seg_sum, seg_tok = 0.0, 0.0, 0.0
    norm = sum(objective.normaliser_weight(s) for s in dm.train_samples)
    for batch in dm._loader(dm.train_samples, dm.batch_size, shuffle=False):
        ce, segments, mult = model.token_losses(batch)
        out = objective(ce, segments, 1.0, mult)  # norm 1: the summed weighted CE
        out.loss.backward()
        total += out.loss.detach()
        seg_sum, seg_tok = seg_sum + out.segment_loss_sum, seg_tok + out.segment_tokens
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return total, seg_sum, seg_tok, norm, grads


SETTINGS = [
    (k, c, p)
    for k in ("none", "pos", "neg", "both")
    for c in ("separate", "joint_neg_first")
    for p in ("post_hoc", "cot")
]


@pytest.mark.parametrize(("kinds", "context", "position"), SETTINGS)
def test_trees_and_packed_rows_equal_separate_samples(data_dir, tokenizer, make_lvlm, kinds, context, position):
    model = make_lvlm(seed=1)
    policy = ReflectionPolicy(kinds=kinds, context=context, position=position)
    plain = datamodule(data_dir, tokenizer, model, policy)
    packed = datamodule(data_dir, tokenizer, model, policy, trees=True, pack_rows=True)
    expect_trees = kinds == "both" and context == "separate"
    assert any(s.is_tree for s in packed.train_samples) == expect_trees
    assert sum(len(s) for s in packed.train_samples) <= sum(len(s) for s in plain.train_samples)
    a, b = loss_and_grads(model, plain), loss_and_grads(model, packed)
    torch.testing.assert_close(b[0], a[0], rtol=1e-4, atol=0)  # summed weighted CE
    torch.testing.assert_close(b[1], a[1], rtol=1e-4, atol=1e-6)  # per-segment CE sums
    torch.testing.assert_close(b[2], a[2])  # per-segment token counts (answers once per branch)
    assert b[3] == pytest.approx(a[3])  # the normaliser: a tree counts like its branches
    assert a[4].keys() == b[4].keys()
    for name in a[4]:
        torch.testing.assert_close(b[4][name], a[4][name], rtol=1e-4, atol=1e-6, msg=name)


def test_trees_save_tokens_and_shared_once_counts_answer_once(data_dir, tokenizer, make_lvlm):
    model = make_lvlm()
    policy = ReflectionPolicy(kinds="both", context="separate")
    plain = datamodule(data_dir, tokenizer, model, policy)
    trees = datamodule(data_dir, tokenizer, model, policy, trees=True)
    once = datamodule(data_dir, tokenizer, model, policy, trees=True, shared_once=True)
    assert len(trees.train_samples) == len(plain.train_samples) // 2
    assert sum(map(len, trees.train_samples)) < 0.75 * sum(map(len, plain.train_samples))
    objective = SegmentWeightedLoss(WEIGHTS)
    answers = [
        float(s.target_mult[s.target_segments == 1].sum()) for s in (trees.train_samples[0], once.train_samples[0])
    ]
    assert answers[0] == 2 * answers[1] > 0
    assert objective.normaliser_weight(once.train_samples[0]) < objective.normaliser_weight(trees.train_samples[0])


def test_mask_blocks_other_branches_and_units(data_dir, tokenizer, make_lvlm):
    model = make_lvlm()
    dm = datamodule(data_dir, tokenizer, model, ReflectionPolicy(kinds="both"), trees=True)
    tree = dm.train_samples[0]
    unit = np.concatenate([np.zeros(len(tree)), np.ones(len(tree))])
    branch = np.concatenate([tree.branch_ids, tree.branch_ids])
    mask = packed_attention_mask(torch.tensor(unit)[None].long(), torch.tensor(branch)[None], None)[0, 0]
    b1, b2 = np.flatnonzero(branch == 1), np.flatnonzero(branch == 2)
    assert not mask[b2[:, None], b1[None, :]].any() and not mask[b1[:, None], b2[None, :]].any()
    assert not mask[len(tree) :, : len(tree)].any() and not mask[: len(tree), len(tree) :].any()
    prefix = np.flatnonzero((branch == 0) & (unit == 0))
    own_b2 = np.flatnonzero((branch == 2) & (unit == 0))
    assert mask[own_b2[:, None], prefix[None, :]].all()  # each branch sees the whole prefix of its record
    # position ids restart at the branch point
    assert tree.position_ids[b1[0]] == tree.position_ids[b2[0]] == len(prefix)


def test_perturbing_one_branch_or_record_leaves_the_others_unchanged(data_dir, tokenizer, make_lvlm):
    model = make_lvlm().eval()
    dm = datamodule(data_dir, tokenizer, model, ReflectionPolicy(kinds="both"), trees=True, pack_rows=True)
    loader = dm._loader(dm.train_samples, 1, shuffle=False)
    batch = next(iter(loader))
    assert batch["unit_ids"].max() >= 1  # at least two records in the row

    def logits(b):
        mask = model.attention_mask(b)
        return model.lm_head(model.hidden_states(b["input_ids"], mask, b["pixel_values"], b["position_ids"]))

    base = logits(batch)
    branch, unit = batch["branch_ids"][0], batch["unit_ids"][0]
    changed = dict(batch)
    changed["input_ids"] = batch["input_ids"].clone()
    target = (branch == 1) & (unit == 0)
    changed["input_ids"][0, target] = (changed["input_ids"][0, target] + 7) % 300 + 10
    after = logits(changed)
    untouched = ~target & (unit >= 0)
    torch.testing.assert_close(after[0, untouched], base[0, untouched], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(after[0, target], base[0, target])


def test_build_tree_rejects_samples_without_shared_image(data_dir, tokenizer, make_lvlm):
    model = make_lvlm()
    dm = datamodule(data_dir, tokenizer, model, ReflectionPolicy(kinds="both"))
    a, b = dm.train_samples[0], dm.train_samples[2]  # different records, different images
    with pytest.raises(ValueError, match="do not share an image"):
        build_tree([a, b], model.image_token_id)
