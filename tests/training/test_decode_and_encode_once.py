"""Decode once, encode once: cached images equal fresh decodes, a frozen tower's stored features equal recomputed ones,
and the training loss with stored features equals the loss with the tower run on the batch."""

import pytest
import torch

from reverie.data.conversation import Conversation, Part, Segment, Turn
from reverie.data.dataset import Collator, EncodedDataset
from reverie.data.encode import SampleEncoder
from reverie.data.images import ImageCache, load_image
from reverie.data.templates import TEMPLATES
from reverie.training.frozen_features import FrozenFeatures
from reverie.training.module import ReverieModule
from reverie.training.objective import SegmentWeightedLoss
from reverie.training.optim import OptimSettings


def _batch(tmp_path, tokenizer, model, make_images, n_images=4, per_image=3):
    names = make_images(tmp_path, n_images)
    convs = [
        Conversation(
            id=f"{i}-{k}",
            image=str(tmp_path / name),
            turns=[Turn.user("<image>\nWhat colour is the square?"), Turn.assistant(Part("red", Segment.ANSWER))],
        )
        for i, name in enumerate(names)
        for k in range(per_image)
    ]
    encoder = SampleEncoder(tokenizer, TEMPLATES["vicuna_v1"], model.num_image_tokens, 512)
    dataset = EncodedDataset(encoder.encode_all(convs)[0], model.vision_tower.image_transform())
    return dataset, Collator(tokenizer.pad_token_id)([dataset[i] for i in range(len(dataset))])


def test_image_cache_equals_a_fresh_decode_and_decodes_each_file_once(tmp_path, make_images, make_lvlm):
    transform = make_lvlm().vision_tower.image_transform()
    names = make_images(tmp_path, 3)
    cache = ImageCache(transform)
    for _ in range(4):
        for name in names:
            path = str(tmp_path / name)
            assert torch.equal(cache(path, name), transform(load_image(path, name)))
    assert (cache.decodes, cache.hits, len(cache)) == (3, 9, 3)
    small = ImageCache(transform, max_bytes=1)  # over budget: nothing kept, every use decodes
    for name in names * 2:
        small(str(tmp_path / name), name)
    assert (small.decodes, len(small), small.bytes) == (6, 0, 0)


def test_frozen_tower_features_are_computed_once_per_image_and_equal_recomputing(
    tmp_path, tokenizer, make_lvlm, make_images
):
    model = make_lvlm(seed=1).eval()
    model.vision_tower.requires_grad_(False)
    _, batch = _batch(tmp_path, tokenizer, model, make_images)
    assert batch["image_ids"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    cache = FrozenFeatures(max_bytes=1 << 20)
    first = cache.attach(model.vision_tower, batch)["image_features"]
    assert (cache.computed, cache.reused) == (4, 8)  # one tower row per distinct image
    with torch.no_grad():
        single = torch.cat([model.vision_tower(batch["pixel_values"][i : i + 1]) for i in range(12)])
        together = model.vision_tower(batch["pixel_values"])
    assert torch.equal(first, single)  # each image runs alone: independent of its batch
    torch.testing.assert_close(first, together, rtol=0, atol=1e-6)
    again = cache.attach(model.vision_tower, batch)["image_features"]
    assert torch.equal(again, first) and (cache.computed, cache.reused) == (4, 20)
    with torch.no_grad():  # the LVLM's loss with stored features equals the loss with the tower run on the batch
        stored = model.token_losses({**batch, "image_features": again})[0]
        recomputed = model.token_losses(batch)[0]
    torch.testing.assert_close(stored, recomputed, rtol=0, atol=1e-5)


def test_a_trainable_tower_is_never_served_stored_features(tmp_path, tokenizer, make_lvlm, make_images):
    model = make_lvlm(seed=2)
    _, batch = _batch(tmp_path, tokenizer, model, make_images, n_images=2, per_image=2)
    cache = FrozenFeatures(max_bytes=1 << 20)
    assert "image_features" not in cache.attach(model.vision_tower, batch)
    model.vision_tower.requires_grad_(False)
    assert "image_features" in cache.attach(model.vision_tower, batch)
    assert "image_features" not in FrozenFeatures(max_bytes=0).attach(model.vision_tower, batch)  # off


def test_module_keeps_a_frozen_tower_in_eval_mode(make_lvlm):
    model = make_lvlm(seed=3)
    model.vision_tower.requires_grad_(False)
    module = ReverieModule(model, SegmentWeightedLoss({}), OptimSettings(), frozen_tower_cache_mb=1)
    module.train()
    assert module.training and model.language_model.training
    assert not any(m.training for m in model.vision_tower.modules())
    model.vision_tower.requires_grad_(True)
    module.train()
    assert all(m.training for m in model.vision_tower.modules())


def test_step_metrics_are_logged_on_the_steps_lightning_writes_with_their_values(
    tmp_path, tokenizer, make_lvlm, make_images
):
    """Step values are only computed on logging steps; metrics.csv still holds every logging step's own loss."""
    import csv

    from lightning.pytorch import Callback, Trainer
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger
    from torch.utils.data import DataLoader

    model = make_lvlm(seed=4)
    model.vision_tower.requires_grad_(False)
    dataset, _ = _batch(tmp_path, tokenizer, model, make_images, n_images=4, per_image=4)
    loader = DataLoader(list(range(len(dataset))), batch_size=2, collate_fn=lambda ix: _collate(dataset, tokenizer, ix))
    losses: dict[int, float] = {}

    class Record(Callback):
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            losses[trainer.global_step] = float(outputs["loss"])

    module = ReverieModule(model, SegmentWeightedLoss({}), OptimSettings(), frozen_tower_cache_mb=1)
    trainer = Trainer(
        max_steps=7,
        log_every_n_steps=3,
        logger=CSVLogger(tmp_path / "logs", name="", version=""),
        callbacks=[Record(), LearningRateMonitor("step")],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(module, train_dataloaders=loader)
    rows = list(csv.DictReader((tmp_path / "logs" / "metrics.csv").open()))
    loss_rows = {int(r["step"]): float(r["train/loss"]) for r in rows if r.get("train/loss")}
    lr_steps = {int(r["step"]) for r in rows if r.get("lr-AdamW/language_model")}
    assert loss_rows and set(loss_rows) == lr_steps  # the steps Lightning writes (its own lr monitor agrees)
    assert len(loss_rows) == 2 and module.tower_features.computed == 4
    for step, value in loss_rows.items():  # the step's own loss (the callback sees it after the step: +1)
        assert value == pytest.approx(losses[step + 1], rel=1e-6)


def _collate(dataset, tokenizer, indices):
    return Collator(tokenizer.pad_token_id)([dataset[i] for i in indices])
