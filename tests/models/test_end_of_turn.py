"""Every shipped template ends an answer with one supervised end-of-turn token; an export declares it as the end of
text, so transformers' `generate` on the exported folder, with no stop strings and no text cutting, stops by itself
and returns exactly reverie's answer. Stop strings become token ids by encoding them, never by token-name lookup."""

import json
from dataclasses import replace

import pytest
import torch
from PIL import Image
from sample_files import COLOURS, write_images
from transformers import AutoProcessor, LlavaForConditionalGeneration

from reverie.data.conversation import Conversation, Part, Segment, Turn
from reverie.data.encode import EncodeReport, SampleEncoder
from reverie.data.sample import IGNORE_INDEX
from reverie.data.templates import TEMPLATES
from reverie.data.tokenizer import end_of_turn_id, stop_token_id
from reverie.errors import InputError
from reverie.eval.generation import GenerationSettings, Generator
from reverie.models.hf_export import export_hf_llava
from reverie.models.llm import build_llm
from reverie.models.lvlm import LVLM
from reverie.models.projector import build_projector
from reverie.models.vision import HFVisionEncoder

TINY_CLIP = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
TINY_TEXT = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4}
QUESTION = "What colour is the square?"
QUESTION_PROMPT = "<image>\n{question}"
MAX_NEW = 10


def test_stop_strings_are_encoded_not_looked_up(tokenizer):
    newline = stop_token_id(tokenizer, "\n")
    assert newline != tokenizer.unk_token_id and tokenizer.decode([newline]) == "\n"
    assert tokenizer.convert_tokens_to_ids("\n") == tokenizer.unk_token_id  # the old lookup's silent <unk>
    with pytest.raises(InputError, match=r"'red green' is 4 tokens .* not one, so generation cannot stop on it"):
        stop_token_id(tokenizer, "red green")


def test_a_template_whose_end_of_turn_is_not_one_token_fails_before_training(tokenizer):
    template = replace(TEMPLATES["chatml"], name="custom", assistant_suffix="<|done|>")
    with pytest.raises(InputError, match=r"chat template 'custom': end of turn '<\|done\|>' is \d+ tokens"):
        SampleEncoder(tokenizer, template, 3, 10_000)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_end_of_turn_is_one_supervised_token_closing_every_answer(name, tokenizer):
    template = TEMPLATES[name]
    eot = end_of_turn_id(tokenizer, template)
    assert tokenizer.decode([eot]) == template.end_of_turn and eot != tokenizer.unk_token_id
    conv = Conversation(
        id="c",
        turns=[
            Turn.user("<image>\nIs it red?"),
            Turn.assistant(Part("Yes", Segment.ANSWER)),
            Turn.user("Explain why."),
            Turn.assistant(Part("Every pixel is red.\nSee the edge.", Segment.POS_RATIONALE)),
        ],
        image="x.png",
    )
    sample = SampleEncoder(tokenizer, template, 3, 10_000).encode(conv, EncodeReport())
    supervised = sample.labels[sample.labels != IGNORE_INDEX].tolist()
    assert supervised.count(eot) == 2 and supervised[-1] == eot  # each answer ends with it, and it is learned


def overfit(tokenizer, template, images: list[str]) -> LVLM:
    """A tiny exportable LVLM (CLIP tower, Llama) trained to answer the square's colour and end its turn."""
    torch.manual_seed(0)
    vision = HFVisionEncoder(
        config={"model_type": "clip_vision_model", "image_size": 48, "patch_size": 16, **TINY_CLIP}
    )
    llm = build_llm(len(tokenizer), config={"model_type": "llama", "num_key_value_heads": 2, **TINY_TEXT})
    model = LVLM(vision, build_projector("mlp2x_gelu", 32, 32), llm, tokenizer.convert_tokens_to_ids("<image>"))
    encoder = SampleEncoder(tokenizer, template, model.num_image_tokens, 10_000)
    convs = [
        Conversation(
            id=str(i),
            turns=[Turn.user(QUESTION_PROMPT.format(question=QUESTION)), Turn.assistant(Part(COLOURS[i % 4]))],
            image=image,
        )
        for i, image in enumerate(images)
    ]
    samples, _ = encoder.encode_all(convs)
    width = max(len(s) for s in samples)
    pad = tokenizer.pad_token_id
    ids = torch.tensor([[*s.input_ids.tolist(), *[pad] * (width - len(s))] for s in samples])
    labels = torch.tensor([[*s.labels.tolist(), *[IGNORE_INDEX] * (width - len(s))] for s in samples])
    mask = (torch.arange(width)[None] < torch.tensor([len(s) for s in samples])[:, None]).long()
    transform = model.vision_tower.image_transform()
    pixels = torch.stack([transform(Image.open(image).convert("RGB")) for image in images])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(60):
        logits = model.logits(ids, mask, pixels)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_export_stops_by_itself_and_answers_like_reverie(name, tokenizer, tmp_path):
    template = TEMPLATES[name]
    images = [str(tmp_path / "images" / n) for n in write_images(tmp_path / "images", 4)]
    model = overfit(tokenizer, template, images)
    generator = Generator(
        model, tokenizer, template, model.vision_tower.image_transform(), GenerationSettings(max_new_tokens=MAX_NEW)
    )
    ours = generator.generate([(QUESTION, image) for image in images])
    assert ours == COLOURS  # learned, so the comparison below is about stopping, not noise
    assert generator.stats.stopped == 4 and generator.stats.hit_limit == 0 and generator.stats.cut_by_guard == 0

    folder = export_hf_llava(model, tokenizer, template, QUESTION_PROMPT, tmp_path / "hf")
    eot = end_of_turn_id(tokenizer, template)
    config = json.loads((folder / "config.json").read_text())["text_config"]
    generation_config = json.loads((folder / "generation_config.json").read_text())
    hf = LlavaForConditionalGeneration.from_pretrained(folder).eval()
    processor = AutoProcessor.from_pretrained(folder)
    saved = processor.tokenizer
    assert saved.eos_token_id == eot == generation_config["eos_token_id"] == config["eos_token_id"]
    assert (config["bos_token_id"], config["pad_token_id"]) == (saved.bos_token_id, saved.pad_token_id)
    assert generation_config["pad_token_id"] == saved.pad_token_id

    theirs = []
    for image in images:
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": QUESTION}]}]
        text = processor.apply_chat_template(messages, add_generation_prompt=True)
        inputs = processor(images=Image.open(image).convert("RGB"), text=text, return_tensors="pt")
        with torch.no_grad():
            out = hf.generate(**inputs, max_new_tokens=MAX_NEW, do_sample=False)  # no stop strings, no eos given
        new = out[0, inputs["input_ids"].shape[1] :].tolist()
        assert len(new) < MAX_NEW and new[-1] == eot  # stopped by itself, on the end of turn
        theirs.append(processor.decode(new, skip_special_tokens=True).strip())  # a harness's decoding, no cutting
    assert theirs == ours
