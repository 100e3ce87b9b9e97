"""The training step's gradient equals a hand computation of the segment-weighted token mean over the whole
accumulation window (unequal sample lengths, padding, segment weights), computed with dense logits."""

import copy

import pytest
import torch
from lightning.pytorch import Callback, Trainer

from reverie.data.conversation import SEGMENT_KEYS
from reverie.data.datamodule import ReverieDataModule
from reverie.data.mixture import ReverieSource
from reverie.data.reflect import ReflectionPolicy
from reverie.data.sample import IGNORE_INDEX
from reverie.data.templates import TEMPLATES
from reverie.training.module import ReverieModule
from reverie.training.objective import SegmentWeightedLoss
from reverie.training.optim import OptimSettings

WEIGHTS = {"answer": 2.0, "pos_rationale": 0.5, "neg_rationale": 1.0, "other": 0.25}


class CaptureGrads(Callback):
    def on_before_optimizer_step(self, trainer, module, optimizer):
        self.grads = {n: p.grad.detach().clone() for n, p in module.model.named_parameters() if p.grad is not None}


def hand_grads(model, samples, objective: SegmentWeightedLoss, transform):
    """Sum over every sample of w * CE at supervised positions, divided by the window normaliser."""
    model.zero_grad()
    table = torch.tensor([objective.weights[k] for k in SEGMENT_KEYS])
    total, norm = 0.0, 0.0
    for s in samples:
        ids = torch.from_numpy(s.input_ids)[None]
        pixels = transform(__import__("PIL.Image").Image.open(s.image).convert("RGB"))[None]
        logits = model.logits(ids, torch.ones_like(ids), pixels)[0, :-1]
        labels = torch.from_numpy(s.labels)[1:]
        seg = torch.from_numpy(s.segment_ids)[1:]
        keep = labels != IGNORE_INDEX
        ce = torch.nn.functional.cross_entropy(logits[keep], labels[keep], reduction="none")
        w = table[seg[keep]]
        total = total + (w * ce).sum()
        norm += float(w.sum()) if objective.normalize_by == "weighted_tokens" else float(keep.sum())
    (total / norm).backward()
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize(
    ("batch_size", "accumulate", "normalize_by"),
    [(1, 4, "weighted_tokens"), (2, 2, "weighted_tokens"), (2, 2, "tokens"), (4, 1, "tokens")],
)
def test_step_gradient_equals_hand_computation(data_dir, tokenizer, make_lvlm, batch_size, accumulate, normalize_by):
    import json

    records = json.loads((data_dir / "reverie.json").read_text())[:2]  # 2 records -> 4 samples of unequal length
    (data_dir / "two.json").write_text(json.dumps(records))
    objective = SegmentWeightedLoss(WEIGHTS, normalize_by=normalize_by)
    model = make_lvlm()
    reference = copy.deepcopy(model)
    dm = ReverieDataModule(
        [ReverieSource(str(data_dir / "two.json"), str(data_dir / "images"))],
        [],
        batch_size=batch_size,
        max_length=4096,
    )
    dm.load(ReflectionPolicy(kinds="both"))
    dm.bind(
        tokenizer,
        TEMPLATES["vicuna_v1"],
        model.num_image_tokens,
        model.vision_tower.image_transform(),
        objective.normaliser_weight,
    )
    assert len({len(s) for s in dm.train_samples}) > 1  # unequal lengths, so padding and weighting matter
    capture = CaptureGrads()
    trainer = Trainer(
        max_steps=1,
        accumulate_grad_batches=accumulate,
        callbacks=[capture],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        limit_val_batches=0,
        gradient_clip_val=None,
        accelerator="cpu",
    )
    trainer.fit(ReverieModule(model, objective, OptimSettings(lr=1e-3)), datamodule=dm)
    expected = hand_grads(reference, dm.train_samples, objective, dm.image_transform)
    assert capture.grads.keys() == {f"{n}" for n in expected}
    for name, grad in expected.items():
        torch.testing.assert_close(capture.grads[name], grad, rtol=1e-4, atol=1e-6, msg=name)


def test_weights_validation():
    with pytest.raises(KeyError, match="unknown segment.*'answr'"):
        SegmentWeightedLoss({"answr": 1.0})
    with pytest.raises(ValueError, match="normalize_by"):
        SegmentWeightedLoss({}, normalize_by="mean")


def test_zero_weight_removes_segment_and_scale_invariance():
    ce = torch.tensor([1.0, 2.0, 3.0, 4.0])
    seg = torch.tensor([1, 1, 2, 3])
    out = SegmentWeightedLoss({"answer": 1, "pos_rationale": 0, "neg_rationale": 1})(ce, seg, 0)
    assert out.loss.item() == pytest.approx((1 + 2 + 4) / 3)
    doubled = SegmentWeightedLoss({"answer": 2, "pos_rationale": 0, "neg_rationale": 2, "other": 2})(ce, seg, 0)
    assert doubled.loss.item() == pytest.approx(out.loss.item())
    assert out.segment_tokens.tolist() == [0, 2, 1, 1] and out.segment_loss_sum.tolist() == [0, 3, 3, 4]
