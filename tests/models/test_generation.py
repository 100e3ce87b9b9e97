"""Batched greedy generation gives exactly the batch-size-1 answers (left padding, mixed image/text prompts)."""

import pytest

from reverie.data.templates import TEMPLATES
from reverie.eval.generation import GenerationSettings, Generator


@pytest.mark.parametrize("template", ["vicuna_v1", "chatml"])
def test_batched_equals_single(tmp_path, tokenizer, make_lvlm, make_images, template):
    model = make_lvlm(seed=3)
    images = make_images(tmp_path, 7)
    items = [("Is there a cup?" + " Really?" * (i % 4), str(tmp_path / images[i]) if i % 3 else None) for i in range(7)]

    def run(batch_size: int) -> list[str]:
        settings = GenerationSettings(batch_size=batch_size, max_new_tokens=10)
        return Generator(
            model, tokenizer, TEMPLATES[template], model.vision_tower.image_transform(), settings
        ).generate(items)

    single = run(1)
    assert run(7) == single
    assert run(3) == single
    assert len(set(single)) > 1  # prompts differ, and so do the answers: the comparison is not vacuous


def test_generation_stops_at_template_stop_string(tokenizer, make_lvlm):
    model = make_lvlm()
    gen = Generator(model, tokenizer, TEMPLATES["chatml"], model.vision_tower.image_transform(), GenerationSettings())
    assert gen.cut(" yes<|im_end|> trailing") == "yes"
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") in gen.eos_ids
