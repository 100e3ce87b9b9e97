"""World pretraining of the tiny vision tower: per-token cell labels, real learning, and the weights cache."""

import json

import torch
from omegaconf import OmegaConf

from reverie.models.tower_pretrain import cell_labels, pretrain_tower, world_pretrained_tower
from reverie.models.vision import TimmVisionEncoder
from reverie.resolvers import world_dir
from reverie.world import load_manifest

SCENE = {
    "objects": [
        {"category": "cup", "color": "red", "cell": [0, 2]},
        {"category": "bee", "color": "blue", "cell": [1, 1]},
    ]
}
ENCODER = {
    "_target_": "reverie.models.vision.TimmVisionEncoder",
    "model_name": "vit_tiny_patch16_224",
    "image_size": 48,
    "model_kwargs": {"patch_size": 16, "embed_dim": 32, "depth": 2, "num_heads": 2, "mlp_ratio": 2.0},
}


def test_cell_labels_cover_each_cell_with_its_tokens():
    cats, colors = ["bee", "cup"], ["blue", "red"]
    one_per_cell = cell_labels(SCENE, 3, cats, colors).view(3, 3, 2)
    assert one_per_cell[0, 2].tolist() == [1, 1] and one_per_cell[1, 1].tolist() == [0, 0]
    assert (one_per_cell[..., 0] == 2).sum() == 7  # the other seven cells are "empty" (index len(cats))
    four_per_cell = cell_labels(SCENE, 6, cats, colors).view(6, 6, 2)
    assert (four_per_cell[0:2, 4:6, 0] == 1).all() and (four_per_cell[2:4, 2:4, 0] == 0).all()
    assert (four_per_cell[..., 0] == 2).sum() == 36 - 8


def _world(world_cache) -> tuple[list[dict], dict]:
    files = load_manifest(world_dir({"num_images": 60}, world_cache))
    scenes = [json.loads(line) for line in files["scenes"].read_text().splitlines()]
    return scenes, files


def _tower_args(world_cache, cache_dir, **options) -> dict:
    """Arguments of `world_pretrained_tower` for the small test world, caching into `cache_dir`."""
    _, files = _world(world_cache)
    return dict(
        encoder=OmegaConf.create(ENCODER),
        scenes=str(files["scenes"]),
        images=str(files["images"]),
        cache_dir=str(cache_dir),
        **options,
    )


def test_pretraining_learns_the_cells_beyond_the_empty_baseline(world_cache):
    scenes, files = _world(world_cache)
    train = [s for s in scenes if s["split"] == "train"]
    torch.manual_seed(0)
    tower = TimmVisionEncoder("vit_tiny_patch16_224", 48, model_kwargs=ENCODER["model_kwargs"])
    empty = 1 - sum(len(s["objects"]) for s in train) / (9 * len(train))
    accuracy = pretrain_tower(tower, train, files["images"], steps=150, batch_size=32, lr=2e-3, seed=0)
    assert accuracy["category"] > empty + 0.15, (accuracy, empty)
    assert accuracy["color"] > empty + 0.15, (accuracy, empty)


def test_pretrained_tower_is_cached_and_reloaded(world_cache, tmp_path, capsys):
    args = _tower_args(world_cache, tmp_path, steps=5, batch_size=8)
    first = world_pretrained_tower(**args)
    assert "pretraining the vision tower" in capsys.readouterr().out
    second = world_pretrained_tower(**args)
    assert "pretraining" not in capsys.readouterr().out  # loaded from the cache, not trained again
    assert len(list((tmp_path / "tower").glob("*.pt"))) == 1
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    torch.manual_seed(0)  # the pretraining's seed: the same init, so any difference is the pretraining's work
    init = TimmVisionEncoder("vit_tiny_patch16_224", 48, model_kwargs=ENCODER["model_kwargs"]).state_dict()
    key = "vision_model.patch_embed.proj.weight"
    assert not torch.equal(first.state_dict()[key], init[key])
    world_pretrained_tower(**{**args, "steps": 6})  # another option is another tower
    assert len(list((tmp_path / "tower").glob("*.pt"))) == 2


def test_the_callers_random_state_is_the_same_whether_the_tower_was_trained_or_loaded(world_cache, tmp_path):
    args = _tower_args(world_cache, tmp_path, steps=3, batch_size=4)
    draws = []
    for _ in ("trained", "loaded"):  # (the LLM is initialised after the tower: its init must follow the run's seed)
        torch.manual_seed(123)
        world_pretrained_tower(**args)
        draws.append(torch.rand(3))
    torch.manual_seed(123)
    assert torch.equal(draws[0], draws[1]) and torch.equal(draws[0], torch.rand(3))


def test_zero_steps_is_the_seeded_random_init_built_in_memory(world_cache, tmp_path, capsys):
    args = _tower_args(world_cache, tmp_path, steps=0, batch_size=8)
    torch.manual_seed(123)
    tower = world_pretrained_tower(**args)
    after = torch.rand(3)
    assert "pretraining" not in capsys.readouterr().out  # nothing trained, nothing announced
    assert not (tmp_path / "tower").exists()  # and nothing cached
    torch.manual_seed(0)  # the tower's own seed
    init = TimmVisionEncoder("vit_tiny_patch16_224", 48, model_kwargs=ENCODER["model_kwargs"]).state_dict()
    for (name, a), b in zip(tower.state_dict().items(), init.values(), strict=True):
        assert torch.equal(a, b), name
    torch.manual_seed(123)
    assert torch.equal(after, torch.rand(3))  # the caller's random state is untouched
