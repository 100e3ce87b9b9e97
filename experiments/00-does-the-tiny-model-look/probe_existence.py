"""Can a tiny LVLM with a *pretrained, frozen* tower learn the world's existence questions ("Is there a X?")?
(`--task count` asks "How many objects are there?" instead: an answer that needs no binding.)

Builds a world, pretrains the tiny ViT to classify the category in each grid cell (one token per cell at 16 px
patches), freezes it, then trains projector + a random Llama on the world's existence questions only and prints
answer accuracy (answer token loss < ln 2) on 300 training and on all val+test questions.

    python experiments/00-does-the-tiny-model-look/probe_existence.py --images 1000 --steps 2400 [--question-first]
        [--task count]
        [--themes kitchen --max-objects 3] [--width 96 --heads 4 --layers 2 --lr 1e-3]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

from reverie.data.conversation import Conversation, Part, Segment, Turn
from reverie.data.dataset import Collator, EncodedDataset
from reverie.data.encode import SampleEncoder
from reverie.data.templates import TEMPLATES
from reverie.data.tokenizer import train_bpe_tokenizer
from reverie.models.llm import build_llm
from reverie.models.lvlm import LVLM
from reverie.models.projector import build_projector
from reverie.models.vision import TimmVisionEncoder
from reverie.world import WorldConfig, build_world, load_manifest


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--themes", nargs="+", default=None)
    p.add_argument("--max-objects", type=int, default=6)
    p.add_argument("--pretrain-steps", type=int, default=400)
    p.add_argument("--steps", type=int, default=2400)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--width", type=int, default=96)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--task", choices=["existence", "count"], default="existence", help="count: 'How many objects?'")
    p.add_argument("--question-first", action="store_true", help="'Is there a X?\\n<image>' instead of image first")
    a = p.parse_args()
    torch.manual_seed(0)
    world = Path(tempfile.mkdtemp()) / "world"
    build_world(world, WorldConfig(num_images=a.images, vqa_turns=6, themes=a.themes, max_objects=a.max_objects))
    f = load_manifest(world)
    scenes = [json.loads(line) for line in f["scenes"].read_text().splitlines()]
    cats = sorted({o["category"] for s in scenes for o in s["objects"]})
    kwargs = {"patch_size": 16, "embed_dim": 96, "depth": 3, "num_heads": 4, "mlp_ratio": 2.0}
    vis = TimmVisionEncoder("vit_tiny_patch16_224", 48, model_kwargs=kwargs)
    tf = vis.image_transform()
    train_scenes = [s for s in scenes if s["split"] == "train"]
    x = torch.stack([tf(Image.open(f["images"] / s["image"]).convert("RGB")) for s in train_scenes])
    y = torch.full((len(train_scenes), 3, 3), len(cats))
    for i, s in enumerate(train_scenes):
        for o in s["objects"]:
            y[i, o["cell"][0], o["cell"][1]] = cats.index(o["category"])
    y = y.flatten(1)
    head = torch.nn.Linear(96, len(cats) + 1)
    opt = torch.optim.AdamW([*vis.parameters(), *head.parameters()], lr=1e-3)
    for step in range(a.pretrain_steps):
        idx = torch.randint(0, len(x), (64,))
        loss = torch.nn.functional.cross_entropy(head(vis(x[idx])).flatten(0, 1), y[idx].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 100 == 0:
            with torch.no_grad():
                acc = (head(vis(x[-200:])).argmax(-1) == y[-200:]).float().mean().item()
            print(f"tower step {step + 1}: per-cell category accuracy {acc:.3f}", flush=True)

    def existence(role: str) -> list[Conversation]:
        out = []
        for r in json.loads(f[role].read_text()):
            turns = r["conversations"]
            for probe, (human, gpt) in zip(r["probes"], zip(turns[::2], turns[1::2], strict=True), strict=True):
                if probe["kind"] == "existence":
                    q = human["value"].replace("<image>\n", "")
                    text = f"{q}\n<image>" if a.question_first else f"<image>\n{q}"
                    answer = Turn.assistant(Part(gpt["value"], Segment.ANSWER))
                    out.append(Conversation(str(len(out)), [Turn.user(text), answer], str(f["images"] / r["image"])))
        return out

    def count(split: str) -> list[Conversation]:
        question = "How many objects are there?"
        return [
            Conversation(
                str(i),
                [
                    Turn.user(f"{question}\n<image>" if a.question_first else f"<image>\n{question}"),
                    Turn.assistant(Part(str(len(s["objects"])), Segment.ANSWER)),
                ],
                str(f["images"] / s["image"]),
            )
            for i, s in enumerate(scenes)
            if s["split"] == split
        ]

    if a.task == "count":
        train, held_out = count("train"), count("val") + count("test")
    else:
        train, held_out = existence("llava.vqa.train"), existence("llava.vqa.val") + existence("llava.vqa.test")
    print(f"{len(train)} training and {len(held_out)} held-out {a.task} questions")
    tok = train_bpe_tokenizer([t.text for c in train for t in c.turns], 512)
    llm = build_llm(
        len(tok),
        {
            "model_type": "llama",
            "hidden_size": a.width,
            "intermediate_size": 2 * a.width,
            "num_hidden_layers": a.layers,
            "num_attention_heads": a.heads,
            "num_key_value_heads": a.heads // 2,
            "max_position_embeddings": 1024,
            "tie_word_embeddings": True,
        },
    )
    model = LVLM(vis, build_projector("mlp2x_gelu", 96, a.width), llm, tok.convert_tokens_to_ids("<image>"))
    vis.requires_grad_(False)
    enc = SampleEncoder(tok, TEMPLATES["vicuna_v1"], vis.num_tokens, 512)
    collate = Collator(tok.pad_token_id)
    train_ds, held_ds = (EncodedDataset(enc.encode_all(c)[0], tf) for c in (train, held_out))
    train_items, held_items = [train_ds[i] for i in range(len(train_ds))], [held_ds[i] for i in range(len(held_ds))]
    opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=a.lr)

    def accuracy(items: list) -> float:
        model.eval()
        right = 0
        with torch.no_grad():
            for i in range(0, len(items), 64):
                ce, seg, _ = model.token_losses(collate(items[i : i + 64]))
                right += (ce[seg == Segment.ANSWER] < 0.693).sum().item()
        model.train()
        return right / len(items)

    start = time.time()
    for step in range(a.steps):
        idx = torch.randint(0, len(train_items), (32,))
        ce, _, _ = model.token_losses(collate([train_items[i] for i in idx]))
        opt.zero_grad()
        ce.mean().backward()
        opt.step()
        if (step + 1) % (a.steps // 6) == 0:
            print(
                f"step {step + 1}: train acc {accuracy(train_items[:300]):.3f}, held-out acc "
                f"{accuracy(held_items):.3f} ({time.time() - start:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
