"""Every chat template: each segment's supervised tokens decode back to exactly the assistant text."""

import numpy as np
import pytest

from reverie.data.conversation import Conversation, Part, Segment, Turn
from reverie.data.encode import IGNORE_INDEX, EncodeReport, SampleEncoder
from reverie.data.templates import TEMPLATES

ANSWER = 'Yes — it\'s "red", naïve café 日本語 🙂'
POS = "Because the square's pixels are all red. " * 40  # a long rationale
NEG = "«Blue» is wrong:\nno blue pixel appears anywhere; see 'edge' and \"centre\"."


def conversation() -> Conversation:
    return Conversation(
        id="c0",
        image="/nonexistent.png",
        turns=[
            Turn.user("<image>\nIs the square red?"),
            Turn.assistant(Part(ANSWER, Segment.ANSWER)),
            Turn.user("Explain why."),
            Turn.assistant(Part(POS, Segment.POS_RATIONALE)),
            Turn.user("Explain why this answer is wrong: blue."),
            Turn.assistant(Part(NEG, Segment.NEG_RATIONALE)),
        ],
    )


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_supervised_segments_decode_to_assistant_text(name, tokenizer):
    encoder = SampleEncoder(tokenizer, TEMPLATES[name], num_image_tokens=7, max_length=10_000)
    sample = encoder.encode(conversation(), EncodeReport())
    supervised = sample.labels != IGNORE_INDEX
    assert (sample.labels[supervised] == sample.input_ids[supervised]).all()
    for segment, text in ((Segment.ANSWER, ANSWER), (Segment.POS_RATIONALE, POS), (Segment.NEG_RATIONALE, NEG)):
        ids = sample.input_ids[supervised & (sample.segment_ids == segment)]
        assert tokenizer.decode(ids, skip_special_tokens=False) == text
    # everything else that is supervised is the template's stop text, once per assistant turn
    stop = sample.input_ids[supervised & (sample.segment_ids == Segment.OTHER)]
    assert tokenizer.decode(stop, skip_special_tokens=False) == TEMPLATES[name].assistant_suffix * 3
    # the image placeholder became exactly 7 image tokens, none supervised
    image_id = tokenizer.convert_tokens_to_ids("<image>")
    assert (sample.input_ids == image_id).sum() == 7
    assert not supervised[sample.input_ids == image_id].any()


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_user_text_is_never_supervised(name, tokenizer):
    encoder = SampleEncoder(tokenizer, TEMPLATES[name], num_image_tokens=3, max_length=10_000)
    pieces = encoder.tokenized_pieces(conversation())
    sample = encoder.encode(conversation(), EncodeReport())
    offset = 0
    for piece, ids in pieces:
        labels = sample.labels[offset : offset + len(ids)]
        assert (labels != IGNORE_INDEX).all() if piece.supervised else (labels == IGNORE_INDEX).all()
        assert piece.supervised == (
            piece.role == "assistant"
            and piece.text != TEMPLATES[name].assistant_prefix
            and piece.text != TEMPLATES[name].turn_glue
        )
        offset += len(ids)
    assert offset == len(sample)


def test_vicuna_renders_llava_v1_layout(tokenizer):
    template = TEMPLATES["vicuna_v1"]
    conv = Conversation(id="x", turns=[Turn.user("Hi"), Turn.assistant(Part("Hello", Segment.OTHER))])
    text = "".join(p.text for p in template.pieces(conv))
    assert text == f"<s>{template.default_system} USER: Hi ASSISTANT: Hello</s>"
    prompt = "".join(p.text for p in template.pieces(conv, generation_prompt=True))
    assert prompt == f"<s>{template.default_system} USER: Hi ASSISTANT: "


def test_overlength_truncates_after_image_or_skips(tokenizer):
    conv = conversation()
    full = SampleEncoder(tokenizer, TEMPLATES["chatml"], 20, max_length=10_000).encode(conv, EncodeReport())
    report = EncodeReport()
    cut = SampleEncoder(tokenizer, TEMPLATES["chatml"], 20, max_length=len(full) - 5).encode(conv, report)
    assert len(cut) == len(full) - 5 and report.truncated == 1
    np.testing.assert_array_equal(cut.input_ids, full.input_ids[: len(cut)])

    report = EncodeReport()
    assert SampleEncoder(tokenizer, TEMPLATES["chatml"], 20, 10, "truncate").encode(conv, report) is None
    assert report.skipped == {"image span exceeds max_length": ["c0"]}

    report = EncodeReport()
    assert SampleEncoder(tokenizer, TEMPLATES["chatml"], 20, len(full) - 1, "skip").encode(conv, report) is None
    assert report.skipped == {"over max_length": ["c0"]}


def test_too_many_skips_is_an_error_naming_samples(tokenizer):
    encoder = SampleEncoder(tokenizer, TEMPLATES["chatml"], 20, max_length=30, overlength="skip", max_skip_fraction=0.2)
    with pytest.raises(ValueError, match=r"2 skipped.*c0"):
        encoder.encode_all([conversation(), conversation()], "train data")
