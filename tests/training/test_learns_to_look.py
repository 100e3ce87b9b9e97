"""The image path really carries information: a tiny LVLM learns to name the colour of solid-colour images (an answer
only the pixels can give) in a few dozen steps, from chance (ln 4 = 1.39 nats) to near zero."""

import torch

from reverie.data.conversation import Conversation, Part, Segment, Turn
from reverie.data.dataset import Collator, EncodedDataset
from reverie.data.encode import SampleEncoder
from reverie.data.templates import TEMPLATES


def test_tiny_lvlm_learns_an_answer_only_the_image_gives(tmp_path, tokenizer, make_lvlm, make_images):
    names = make_images(tmp_path, 40)  # solid red, green, blue, yellow, red, ...
    convs = [
        Conversation(
            id=str(i),
            image=str(tmp_path / name),
            turns=[
                Turn.user("<image>\nWhat colour is the square?"),
                Turn.assistant(Part(["red", "green", "blue", "yellow"][i % 4], Segment.ANSWER)),
            ],
        )
        for i, name in enumerate(names)
    ]
    model = make_lvlm(seed=0)
    encoder = SampleEncoder(tokenizer, TEMPLATES["vicuna_v1"], model.num_image_tokens, 512)
    dataset = EncodedDataset(encoder.encode_all(convs)[0], model.vision_tower.image_transform())
    items, collate = [dataset[i] for i in range(len(dataset))], Collator(tokenizer.pad_token_id)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    torch.manual_seed(0)

    def answer_loss(batch) -> torch.Tensor:
        ce, segments, _ = model.token_losses(batch)
        return ce, ce[segments == Segment.ANSWER].mean()

    with torch.no_grad():
        start = answer_loss(collate(items))[1].item()
    for _ in range(120):
        ce, _ = answer_loss(collate([items[i] for i in torch.randint(0, len(items), (16,))]))
        optimizer.zero_grad()
        ce.mean().backward()
        optimizer.step()
    with torch.no_grad():
        end = answer_loss(collate(items))[1].item()
    assert start > 1.0 and end < 0.2, (start, end)
