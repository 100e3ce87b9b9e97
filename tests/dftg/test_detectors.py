"""Detectors: the world's truth, COCO instances, seeded noise with the configured rates, and OWLv2's plumbing with a
tiny random-weight model saved to a temp folder (nothing downloaded)."""

import json

import pytest

from reverie.dftg.detectors import CocoTruth, NoisyDetector, WorldTruth
from reverie.eval.io import EvalDataError
from reverie.world import WorldConfig, build_world, load_manifest
from reverie.world.vocab import make_vocab


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    build_world(out, WorldConfig(num_images=60, seed=2))
    return load_manifest(out)


def images(world) -> list:
    return sorted(world["images"].glob("*.png"))


def test_world_truth_reads_every_object(world):
    rows = [json.loads(x) for x in world["scenes"].read_text().splitlines()]
    truths = WorldTruth(world["scenes"]).detect(images(world))
    for row, truth in zip(rows, truths, strict=True):
        assert truth.image == row["image"] and truth.attributes_known
        assert [(o.category, o.attributes["color"], list(o.cell)) for o in truth.objects] == [
            (o["category"], o["color"], o["cell"]) for o in row["objects"]
        ]
    with pytest.raises(EvalDataError, match="no annotations for image 'nope.png'"):
        WorldTruth(world["scenes"]).detect([world["images"] / "nope.png"])


def test_noisy_detector_rates_and_determinism(world):
    base = WorldTruth(world["scenes"])
    vocab = {c: names for c, names in make_vocab().synonyms().items()}
    from reverie.eval.chair import ObjectVocabulary

    noisy = NoisyDetector(base, miss_rate=0.3, false_positive_rate=0.1, seed=1, synonyms=ObjectVocabulary(vocab))
    paths = images(world)
    clean, dirty = base.detect(paths), noisy.detect(paths)
    real = sum(len(t.objects) for t in clean)
    kept = sum(len([o for o in d.objects if o.category in t.categories]) for t, d in zip(clean, dirty, strict=True))
    absent = sum(20 - len(t.categories) for t in clean)
    added = sum(len(d.categories - t.categories) for t, d in zip(clean, dirty, strict=True))
    assert 0.6 < kept / real < 0.8  # ~0.7 of about 200 objects
    assert 0.07 < added / absent < 0.13  # ~0.1 of about 1,000 absent categories
    assert noisy.detect(paths[5:6]) == dirty[5:6]  # the noise of an image does not depend on the others
    assert NoisyDetector(base, 0.3, 0.1, seed=2, synonyms=ObjectVocabulary(vocab)).detect(paths) != dirty
    with pytest.raises(ValueError, match="miss_rate must be in"):
        NoisyDetector(base, 1.5, 0.0)


def test_coco_truth(tmp_path):
    data = {
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
        "categories": [{"id": 17, "name": "cat"}, {"id": 10, "name": "traffic light"}],
        "annotations": [
            {"image_id": 1, "category_id": 17, "bbox": [0, 0, 5, 5]},
            {"image_id": 1, "category_id": 17, "bbox": [5, 5, 5, 5]},
            {"image_id": 2, "category_id": 10, "bbox": [1, 2, 3, 4]},
        ],
    }
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(data))
    a, b = CocoTruth(path).detect([tmp_path / "a.jpg", tmp_path / "b.jpg"])
    assert a.counts == {"cat": 2} and not a.attributes_known
    assert b.objects[0].category == "traffic light" and b.objects[0].box == (1, 2, 4, 6)
    data["categories"].append({"id": 3, "name": "spaceship"})
    path.write_text(json.dumps(data))
    with pytest.raises(EvalDataError, match="'spaceship' is not in"):
        CocoTruth(path)


@pytest.fixture(scope="module")
def owl_dir(tmp_path_factory):
    """A tiny random-weight OWLv2 with a character-level CLIP tokenizer, saved like a downloaded checkpoint."""
    from tokenizers import pre_tokenizers
    from transformers import CLIPTokenizer, Owlv2Config, Owlv2ForObjectDetection, Owlv2ImageProcessor, Owlv2Processor

    chars = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(chars + [c + "</w>" for c in chars])}  # id 0 must be an ordinary token
    vocab |= {"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1}
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=32)
    text = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                max_position_embeddings=32, vocab_size=len(vocab), bos_token_id=vocab["<|startoftext|>"],
                eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<|endoftext|>"])  # fmt: skip
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=64,
                  patch_size=16)  # fmt: skip
    folder = tmp_path_factory.mktemp("owl")
    Owlv2ForObjectDetection(Owlv2Config(text_config=text, vision_config=vision, projection_dim=32)).save_pretrained(
        folder
    )
    Owlv2Processor(Owlv2ImageProcessor(size={"height": 64, "width": 64}), tokenizer).save_pretrained(folder)
    return folder


def test_owlv2_plumbing_with_a_tiny_random_model(world, owl_dir):
    from reverie.dftg.owl import OwlDetector
    from reverie.eval.chair import ObjectVocabulary

    vocabulary = ObjectVocabulary(make_vocab(["kitchen"]).synonyms())
    paths = images(world)[:3]
    batched = OwlDetector(owl_dir, vocabulary, threshold=0.0, batch_size=3, device="cpu").detect(paths)
    single = OwlDetector(owl_dir, vocabulary, threshold=0.0, batch_size=1, device="cpu").detect(paths)
    assert [t.image for t in batched] == [p.name for p in paths]
    assert all(t.objects for t in batched) and not batched[0].attributes_known
    side = 48  # world images are 48 px
    for truth in batched:
        for obj in truth.objects:
            assert obj.category in vocabulary.categories and 0.0 <= obj.score <= 1.0
            assert -1 <= obj.box[0] <= obj.box[2] <= side + 1
    assert [t.counts for t in batched] == [t.counts for t in single]
    strict = OwlDetector(owl_dir, vocabulary, threshold=1.0, device="cpu").detect(paths)
    assert all(not t.objects for t in strict)
    with pytest.raises(FileNotFoundError, match="no model folder"):
        OwlDetector(owl_dir / "missing", vocabulary)
