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


@pytest.mark.parametrize("template", ["vicuna_v1", "plain"])
def test_questions_about_one_image_share_its_encoded_prefix_and_answer_as_alone(
    tmp_path, tokenizer, make_lvlm, make_images, template
):
    """POPE-style: several questions per image. Batched with the prefix encoded once per image, every answer equals
    the batch-size-1 answer, and the prefix really was shared (fewer prefix encodings than rows)."""
    model = make_lvlm(seed=5)
    images = make_images(tmp_path, 4)
    questions = ["Is there a cup?", "Is there a red dog in the image?", "Is there a car?"]
    items = [(q, str(tmp_path / name)) for name in images for q in questions]

    def run(batch_size: int, share: bool = True) -> tuple[list[str], Generator]:
        settings = GenerationSettings(batch_size=batch_size, max_new_tokens=10, share_prefix=share)
        gen = Generator(model, tokenizer, TEMPLATES[template], model.vision_tower.image_transform(), settings)
        return gen.generate(items), gen

    single, _ = run(1)
    for batch_size in (12, 5):
        batched, gen = run(batch_size)
        assert batched == single
        assert gen.stats.shared_prefix_rows == 12 and gen.stats.prefix_encodings < 12
    assert run(12, share=False)[1].stats.shared_prefix_rows == 0
    assert len(set(single)) > 1


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_answer_is_the_tokens_before_the_stop_token_and_the_text_guard_is_counted(tokenizer, make_lvlm, template):
    model = make_lvlm()
    gen = Generator(model, tokenizer, TEMPLATES[template], model.vision_tower.image_transform(), GenerationSettings())
    eot = tokenizer(TEMPLATES[template].end_of_turn, add_special_tokens=False)["input_ids"]
    assert len(eot) == 1 and eot[0] in gen.eos_ids and tokenizer.unk_token_id not in gen.eos_ids
    yes = tokenizer(" yes", add_special_tokens=False)["input_ids"]
    pad = tokenizer.pad_token_id
    assert gen.answer([*yes, eot[0], *yes, pad]) == "yes"  # stopped: nothing after the stop token, no text cut
    assert gen.answer([*yes, *yes]) == "yes yes"  # ran to the limit
    counts = {k: v for k, v in gen.stats.as_dict().items() if k in ("answers", "stopped", "hit_limit", "cut_by_guard")}
    assert counts == {"answers": 2, "stopped": 1, "hit_limit": 1, "cut_by_guard": 0}
    assert gen.answer([*yes, pad, *yes]) == "yes"  # padding written mid-answer: the text guard cuts it, counted
    assert gen.stats.cut_by_guard == 1 and gen.stats.guard_examples == ["yes<pad> yes"]
    assert gen.cut(f" yes{TEMPLATES[template].end_of_turn} trailing") == "yes"
